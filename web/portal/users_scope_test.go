package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// Issue 17, item 5, on the portal: a manager has no users list, and the
// member form takes only a person's exact e-mail address (units.UserToAdd,
// as the API): a part of an address finds nobody, and the answer does not
// show who else exists.
func TestPortalManagerAddsOnlyByExactEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		mgr := f.SignIn("itmgr")
		if p := mgr.Get("/admin/users?q=example.org"); p.Status != http.StatusNotFound || strings.Contains(p.Body, "member@example.org") {
			t.Fatalf("the IT manager's users page = %d", p.Status)
		}
		sd := "/admin/units/" + webtest.ID(f.Units["IT-SD"])
		before := f.Count("unit_roles")
		for _, email := range []string{"member", "member@example", "%@example.org", "example.org", ""} {
			p := mgr.Post(sd+"/members", url.Values{"email": {email}, "role": {"member"}})
			if p.Status != http.StatusUnprocessableEntity || strings.Contains(p.Body, "member@example.org") {
				t.Errorf("adding %q = %d", email, p.Status)
			}
		}
		if n := f.Count("unit_roles"); n != before {
			t.Fatalf("partial addresses granted %d roles", n-before)
		}
		if p := mgr.Post(sd+"/members", url.Values{"email": {"Member@example.org"}, "role": {"member"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("adding by the exact address = %d %s", p.Status, p.Body)
		}
		if p := mgr.Get(sd); !strings.Contains(p.Body, "member@example.org") {
			t.Fatal("the new member is not listed")
		}
	})
}
