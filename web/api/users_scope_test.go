package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// Finding (issue 17, item 5): a manager could list and read the e-mail of
// every user in the organisation, and add anyone by probing user ids. Now a
// manager sees the people of their own units, and reaches anyone else only
// by the exact e-mail address, to add them.
func TestManagersSeeOnlyTheirUnitsPeople(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		itmgr := f.Login("itmgr")
		emails := func(res webtest.Response) []string {
			var out []string
			for _, u := range res.Items() {
				out = append(out, u["email"].(string))
			}
			slices.Sort(out)
			return out
		}
		res := itmgr.Call("GET", "/api/v1/users", nil)
		if res.Status != http.StatusOK || !slices.Equal(emails(res), []string{"agent@example.org", "itmanager@example.org"}) {
			t.Fatalf("the IT manager's user list = %d %v", res.Status, emails(res))
		}
		if res := itmgr.Call("GET", "/api/v1/users?q=example.org", nil); !slices.Equal(emails(res), []string{"agent@example.org", "itmanager@example.org"}) {
			t.Errorf("a partial search reached beyond IT: %v", emails(res))
		}
		if res := f.Login("groupmgr").Call("GET", "/api/v1/users", nil); slices.Contains(emails(res), "nobody@example.org") ||
			!slices.Contains(emails(res), "member@example.org") {
			t.Errorf("the group manager's list = %v", emails(res))
		}
		if res := itmgr.Call("GET", "/api/v1/users/"+webtest.ID(f.Users["mktmember"]), nil); res.Status != http.StatusNotFound {
			t.Errorf("the IT manager read a marketing member: %d %s", res.Status, res.Body)
		}
		if res := itmgr.Call("GET", "/api/v1/users/"+webtest.ID(f.Users["itagent"]), nil); res.Status != http.StatusOK || res.Str("email") != "agent@example.org" {
			t.Errorf("the IT manager reading their agent = %d %s", res.Status, res.Body)
		}
		if res := f.Login("mktmember").Call("GET", "/api/v1/users", nil); res.Status != http.StatusForbidden {
			t.Errorf("a member listing users = %d", res.Status)
		}

		members := "/api/v1/units/" + webtest.ID(f.Units["IT-SD"]) + "/members"
		before := f.Count("unit_roles")
		for _, body := range []map[string]any{
			{"user_id": webtest.ID(f.Users["mktmember"]), "role": "member"}, // an id outside IT
			{"user_id": "999999", "role": "member"},
			{"email": "member@", "role": "member"}, // not the exact address
			{"email": "example.org", "role": "member"},
		} {
			if res := itmgr.Call("POST", members, body); res.Status != http.StatusUnprocessableEntity || res.ErrorCode() != "invalid" {
				t.Errorf("adding %v = %d %s", body, res.Status, res.Body)
			}
		}
		if n := f.Count("unit_roles"); n != before {
			t.Fatalf("refused additions granted %d roles", n-before)
		}
		res = itmgr.Call("POST", members, map[string]any{"email": " Member@example.org ", "role": "member"})
		if res.Status != http.StatusCreated || res.Str("user_id") != webtest.ID(f.Users["mktmember"]) {
			t.Fatalf("adding by exact e-mail = %d %s", res.Status, res.Body)
		}
		// Once in IT-SD, the manager sees them, and may name them by id.
		if res := itmgr.Call("GET", "/api/v1/users/"+webtest.ID(f.Users["mktmember"]), nil); res.Status != http.StatusOK {
			t.Errorf("the IT manager reading their new member = %d", res.Status)
		}
		if res := itmgr.Call("POST", "/api/v1/units/"+webtest.ID(f.Units["IT"])+"/members",
			map[string]any{"user_id": webtest.ID(f.Users["mktmember"]), "role": "agent"}); res.Status != http.StatusCreated {
			t.Errorf("adding a known person by id = %d %s", res.Status, res.Body)
		}
	})
}
