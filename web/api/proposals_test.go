package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// reasonOf is the machine-readable reason of a refusal.
func reasonOf(r webtest.Response) string {
	e, _ := r.JSON["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	s, _ := d["reason"].(string)
	return s
}

func TestGrantProposalsAreDecidedByAnotherFinanceUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin, fin, nobody := f.Login("admin"), f.Login("finance"), f.Login("nobody")
		res := admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "auditor"})
		if res.Status != http.StatusAccepted || res.Str("proposal_id") == "" {
			t.Fatalf("propose auditor = %d %s", res.Status, res.Body)
		}
		id := res.Str("proposal_id")
		list := fin.Call("GET", "/api/v1/grant-proposals", nil)
		if list.Status != http.StatusOK || len(list.Items()) != 1 || list.Items()[0]["id"] != id ||
			list.Items()[0]["user_id"] != webtest.ID(f.Users["nobody"]) || list.Items()[0]["role"] != "auditor" ||
			list.Items()[0]["proposed_by"] != webtest.ID(f.Users["admin"]) || list.Items()[0]["status"] != "pending" {
			t.Fatalf("pending proposals = %d %s", list.Status, list.Body)
		}
		if res := f.Login("itmgr").Call("GET", "/api/v1/grant-proposals", nil); res.Status != http.StatusForbidden {
			t.Fatalf("a manager lists proposals = %d", res.Status)
		}
		path := "/api/v1/grant-proposals/" + id + "/actions"
		auditor := f.Login("auditor") // signing in is recorded too: before the count
		refusalsBefore := f.Count("audit_events")
		for _, c := range []struct {
			who    *webtest.Client
			reason string
		}{{admin, "own_proposal"}, {nobody, "self_grant"}, {auditor, "not_finance"}} {
			res := c.who.Call("POST", path, map[string]any{"action": "confirm"})
			if res.Status != http.StatusForbidden || reasonOf(res) != c.reason {
				t.Fatalf("confirm, want %s: %d %s", c.reason, res.Status, res.Body)
			}
		}
		if len(f.OrgRoles("nobody")) != 0 {
			t.Fatalf("a refused confirmation granted %v", f.OrgRoles("nobody"))
		}
		if n := f.Count("audit_events") - refusalsBefore; n != 3 {
			t.Fatalf("audit events for three refusals = %d", n)
		}
		if res := fin.Call("POST", path, map[string]any{"action": "approve"}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown action = %d %s", res.Status, res.Body)
		}
		res = fin.Call("POST", path, map[string]any{"action": "confirm"})
		if res.Status != http.StatusOK || res.Str("status") != "confirmed" || res.Str("decided_by") != webtest.ID(f.Users["finance"]) {
			t.Fatalf("finance confirms = %d %s", res.Status, res.Body)
		}
		if !slices.Equal(f.OrgRoles("nobody"), []string{"auditor"}) {
			t.Fatalf("roles after confirmation = %v", f.OrgRoles("nobody"))
		}
		if res := fin.Call("POST", path, map[string]any{"action": "decline"}); res.Status != http.StatusConflict {
			t.Fatalf("deciding twice = %d %s", res.Status, res.Body)
		}
		if list := fin.Call("GET", "/api/v1/grant-proposals", nil); len(list.Items()) != 0 {
			t.Fatalf("pending after the decision = %s", list.Body)
		}
		// A declined proposal grants nothing.
		res = admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["mktmember"]), "role": "finance"})
		res = fin.Call("POST", "/api/v1/grant-proposals/"+res.Str("proposal_id")+"/actions", map[string]any{"action": "decline"})
		if res.Status != http.StatusOK || res.Str("status") != "declined" || len(f.OrgRoles("mktmember")) != 0 {
			t.Fatalf("decline = %d %s, roles %v", res.Status, res.Body, f.OrgRoles("mktmember"))
		}
		if res := fin.Call("POST", "/api/v1/grant-proposals/999999/actions", map[string]any{"action": "confirm"}); res.Status != http.StatusNotFound {
			t.Fatalf("unknown proposal = %d", res.Status)
		}
	})
}
