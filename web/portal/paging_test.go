package portal_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/webtest"
)

var (
	pagingEmail = regexp.MustCompile(`<td>([^<@]+@example\.org)</td>`)
	pagingNext  = regexp.MustCompile(`href="(/admin/users\?[^"]+)"`)
)

// TestPortalPagesWithTheSignedCursor pages through the users list by its
// next links: each carries the API's signed cursor (a cursor of the API's
// list pages the portal's alike), and a tampered or foreign cursor is a
// clear 422 page.
func TestPortalPagesWithTheSignedCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		ctx := context.Background()
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			for i := range 110 {
				if _, err := units.CreateUser(ctx, tx, 0, units.User{Email: fmt.Sprintf("p%03d@example.org", i), Name: fmt.Sprintf("Person %d", i)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		admin := f.SignIn("admin")
		seen := map[string]bool{}
		path, pages := "/admin/users", 0
		for path != "" {
			p := admin.Get(path)
			if p.Status != http.StatusOK {
				t.Fatalf("%s = %d", path, p.Status)
			}
			pages++
			for _, m := range pagingEmail.FindAllStringSubmatch(p.Body, -1) {
				if seen[m[1]] {
					t.Fatalf("%s listed twice", m[1])
				}
				seen[m[1]] = true
			}
			path = ""
			if m := pagingNext.FindStringSubmatch(p.Body); m != nil {
				path = html.UnescapeString(m[1])
				if strings.Contains(path, "after=") || !strings.Contains(path, "cursor=") {
					t.Fatalf("the next link does not carry a signed cursor: %s", path)
				}
			}
		}
		if want := 110 + len(webtest.Personas); pages != 2 || len(seen) != want {
			t.Fatalf("%d pages, %d users; want 2 pages, %d users", pages, len(seen), want)
		}
		// The API's cursor opens the same second page in the portal.
		next := f.Login("admin").Call("GET", "/api/v1/users?limit=100", nil).Str("next_cursor")
		p := admin.Get("/admin/users?cursor=" + url.QueryEscape(next))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "p109@example.org") || strings.Contains(p.Body, "<td>admin@example.org</td>") {
			t.Fatalf("the API's cursor in the portal = %d", p.Status)
		}
		tampered := next[:len(next)-2] + "AA"
		if next[len(next)-2:] == "AA" {
			tampered = next[:len(next)-2] + "BB"
		}
		for _, c := range []struct {
			who, path string
		}{
			{"admin", "/admin/users?cursor=" + url.QueryEscape(tampered)},
			{"admin", "/admin/users?cursor=not-a-cursor"},
			{"mktmember", "/requests?cursor=" + url.QueryEscape(next)}, // a users cursor pages no request list
			{"finance", "/charges?cursor=" + url.QueryEscape(next)},
		} {
			b := admin
			if c.who != "admin" {
				b = f.SignIn(c.who)
			}
			if p := b.Get(c.path); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "cursor is not valid for this list") {
				t.Errorf("%s GET %s = %d, want the 422 page", c.who, c.path, p.Status)
			}
		}
	})
}
