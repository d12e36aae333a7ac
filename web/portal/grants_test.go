package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/webtest"
)

func TestPortalFinanceDecidesGrantProposals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.SignIn("admin")
		nobody := webtest.ID(f.Users["nobody"])
		if p := admin.Post("/admin/users/"+nobody+"/roles", url.Values{"role": {"auditor"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("propose auditor = %d %s", p.Status, p.Body)
		}
		if p := admin.Get("/admin/users"); !strings.Contains(p.Body, `id="pending-proposals"`) || !strings.Contains(p.Body, "nobody@example.org") {
			t.Fatalf("the users page lacks the pending proposal: %s", p.Body)
		}
		pending, err := units.PendingGrantProposals(context.Background(), f.DB)
		if err != nil || len(pending) != 1 {
			t.Fatalf("pending = %v, %v", pending, err)
		}
		id := webtest.ID(pending[0].ID)
		// The admin who proposed sees the proposal but no buttons.
		if p := admin.Get("/finance/grants"); p.Status != http.StatusOK || !strings.Contains(p.Body, "proposal-"+id) || strings.Contains(p.Body, "confirm-grant-"+id) {
			t.Fatalf("admin's grants page = %d", p.Status)
		}
		if p := f.SignIn("itmgr").Get("/finance/grants"); p.Status != http.StatusNotFound {
			t.Fatalf("a manager's grants page = %d", p.Status)
		}
		fin := f.SignIn("finance")
		if p := fin.Get("/"); !strings.Contains(p.Body, `href="/finance/grants"`) {
			t.Fatal("the finance home does not point at the pending grant")
		}
		if p := fin.Get("/finance/grants"); !strings.Contains(p.Body, "confirm-grant-"+id) || !strings.Contains(p.Body, "decline-grant-"+id) {
			t.Fatalf("finance's grants page lacks the buttons: %s", p.Body)
		}
		// Without the script's confirm=yes the confirmation page asks first.
		p := fin.Post("/finance/grants/"+id, url.Values{"action": {"confirm"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-yes"`) || len(f.OrgRoles("nobody")) != 0 {
			t.Fatalf("confirmation page = %d, roles %v", p.Status, f.OrgRoles("nobody"))
		}
		// The proposer is refused with the reason, in Finnish, and nothing is granted.
		admFinnish(t, admin)
		p = admin.Post("/finance/grants/"+id, url.Values{"action": {"confirm"}, "confirm": {"yes"}})
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Roolin ehdottaja ei voi myös päättää siitä") || len(f.OrgRoles("nobody")) != 0 {
			t.Fatalf("the proposer confirms = %d, roles %v: %s", p.Status, f.OrgRoles("nobody"), p.Body)
		}
		p = fin.Post("/finance/grants/"+id, url.Values{"action": {"confirm"}, "confirm": {"yes"}})
		if p.Status != http.StatusSeeOther || p.Location != "/finance/grants" || !slices.Equal(f.OrgRoles("nobody"), []string{"auditor"}) {
			t.Fatalf("finance confirms = %d → %s, roles %v", p.Status, p.Location, f.OrgRoles("nobody"))
		}
		if p := fin.Get("/finance/grants"); !strings.Contains(p.Body, `role="status"`) || strings.Contains(p.Body, "proposal-"+id) {
			t.Fatal("after the confirmation the page lacks the flash or still lists the proposal")
		}
	})
}

func TestPortalResetLinkSetsThePasswordOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		ctx := context.Background()
		var token string
		if err := d.InTx(ctx, func(tx bun.Tx) (err error) {
			token, _, err = auth.CreatePasswordReset(ctx, tx, 0, f.Users["finance"])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		path := auth.ResetPath + token
		b := webtest.NewBrowser(t, f.Srv.URL)
		if p := b.Get(path); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="password_again"`) {
			t.Fatalf("reset page = %d", p.Status)
		}
		const fresh = "a brand new passphrase"
		if p := b.Post(path, url.Values{"password": {fresh}, "password_again": {fresh + "x"}}); p.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, "Salasanat eivät täsmää.") {
			t.Fatalf("two different passwords = %d", p.Status)
		}
		if p := b.Post(path, url.Values{"password": {"short"}, "password_again": {"short"}}); p.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, "Salasanassa on oltava vähintään 10 merkkiä.") {
			t.Fatalf("a short password = %d", p.Status)
		}
		p := b.Post(path, url.Values{"password": {fresh}, "password_again": {fresh}})
		if p.Status != http.StatusSeeOther || p.Location != "/login" {
			t.Fatalf("reset = %d → %s: %s", p.Status, p.Location, p.Body)
		}
		if p := b.Get("/login"); !strings.Contains(p.Body, "Salasana on asetettu.") {
			t.Fatal("the login page lacks the flash")
		}
		p = f.CompleteBrowserSignIn(b, "finance", b.Post("/login", url.Values{"email": {"finance@example.org"}, "password": {fresh}, "next": {"/"}}), "/")
		if p.Status != http.StatusSeeOther {
			t.Fatalf("sign in with the new password = %d", p.Status)
		}
		// The link is used up: a second use is refused and changes nothing.
		other := webtest.NewBrowser(t, f.Srv.URL)
		p = other.Post(path, url.Values{"password": {"someone else's pass"}, "password_again": {"someone else's pass"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "salasanan vaihtolinkki on tuntematon, jo käytetty tai vanhentunut") {
			t.Fatalf("second use = %d: %s", p.Status, p.Body)
		}
		if p := other.Post("/login", url.Values{"email": {"finance@example.org"}, "password": {"someone else's pass"}, "next": {"/"}}); p.Status != http.StatusUnauthorized {
			t.Fatalf("sign in with the refused password = %d", p.Status)
		}
		if p := other.Post(auth.ResetPath+"not-a-token", url.Values{"password": {fresh}, "password_again": {fresh}}); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown token = %d", p.Status)
		}
	})
}
