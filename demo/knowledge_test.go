package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// TestDemoArticlesAreFoundInBothLanguages checks the demo's knowledge: a
// member finds the VPN article in English and Finnish but not the IT-only
// one, and a second load adds no article.
func TestDemoArticlesAreFoundInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cheap := auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}
		for range 2 {
			if err := demo.Load(ctx, d, cheap); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := d.NewSelect().Table("articles").Where("status = 'published'").Count(ctx); err != nil || n != 5 {
			t.Fatalf("articles after two loads: %d %v", n, err)
		}
		authz, err := policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		member, err := units.GetUserByEmail(ctx, d, "leena.lehtonen@tiski.example")
		if err != nil {
			t.Fatal(err)
		}
		v := knowledge.Viewer{UserID: member.ID, Authz: authz}
		for _, q := range []string{"vpn set", "VPN-yhteyden käyttöön", "meeting room", "kannettavan"} {
			hits, err := knowledge.Search(ctx, d, v, q, 0, 10)
			if err != nil || len(hits) == 0 {
				t.Errorf("%q: %v %d", q, err, len(hits))
			}
			for _, h := range hits {
				if h.Audience != knowledge.Everyone {
					t.Errorf("%q finds the internal %q", q, h.In("en").Title)
				}
			}
		}
	})
}
