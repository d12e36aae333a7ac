package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestPermissionTableOverAPI signs in as every persona and walks the
// foundation's routes, asserting who may and who may not.
func TestPermissionTableOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		it, itsd, mkt := webtest.ID(f.Units["IT"]), webtest.ID(f.Units["IT-SD"]), webtest.ID(f.Units["MKT"])
		seq := 0
		unique := func() string { seq++; return fmt.Sprintf("N%d", seq) }

		type step struct {
			method, path string
			body         func() any
			want         map[string]int // persona → status; personas not named get other
			other        int
		}
		steps := []step{
			{method: "GET", path: "/api/v1/me", other: 200},
			{method: "GET", path: "/api/v1/units", other: 200},
			{method: "GET", path: "/api/v1/units/" + it, other: 200},
			{method: "POST", path: "/api/v1/units", body: func() any { return map[string]any{"code": unique(), "name": "New"} },
				want: map[string]int{"admin": 201}, other: 403},
			{method: "PATCH", path: "/api/v1/units/" + mkt, body: func() any { return map[string]any{"name": "Marketing " + unique()} },
				want: map[string]int{"admin": 200}, other: 403},
			{method: "GET", path: "/api/v1/units/" + it + "/members",
				want: map[string]int{"admin": 200, "itmgr": 200, "groupmgr": 200}, other: 404},
			{method: "GET", path: "/api/v1/units/" + itsd + "/members",
				want: map[string]int{"admin": 200, "itmgr": 200, "groupmgr": 200}, other: 404},
			{method: "GET", path: "/api/v1/units/" + mkt + "/members",
				want: map[string]int{"admin": 200, "groupmgr": 200}, other: 404},
			{method: "POST", path: "/api/v1/units/" + itsd + "/members",
				body: func() any { return map[string]any{"email": "nobody@example.org", "role": "member"} },
				// The first allowed persona (itmgr) grants; later ones find it held.
				want: map[string]int{"itmgr": 201, "groupmgr": 409, "admin": 409}, other: 404},
			{method: "POST", path: "/api/v1/units/" + it + "/members",
				body: func() any { return map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "manager"} },
				want: map[string]int{"admin": 201, "groupmgr": 403, "itmgr": 403}, other: 404},
			{method: "GET", path: "/api/v1/users", want: map[string]int{"admin": 200, "itmgr": 200, "groupmgr": 200}, other: 403},
			{method: "POST", path: "/api/v1/users",
				body: func() any { return map[string]any{"email": unique() + "@example.org", "name": "New person"} },
				want: map[string]int{"admin": 201}, other: 403},
			{method: "GET", path: "/api/v1/users/" + webtest.ID(f.Users["itagent"]),
				want: map[string]int{"admin": 200, "itagent": 200, "itmgr": 200, "groupmgr": 200}, other: 404},
			{method: "PATCH", path: "/api/v1/users/" + webtest.ID(f.Users["mktmember"]), body: func() any { return map[string]any{"locale": "fi"} },
				want: map[string]int{"admin": 200, "mktmember": 200}, other: 404},
			{method: "POST", path: "/api/v1/grants",
				body: func() any { return map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "admin"} },
				want: map[string]int{"admin": 201}, other: 403},
			{method: "DELETE", path: "/api/v1/grants?role=admin&user_id=" + webtest.ID(f.Users["nobody"]),
				want: map[string]int{"admin": 204}, other: 403},
		}
		order := []string{"nobody", "mktmember", "itagent", "auditor", "finance", "itmgr", "groupmgr", "admin"}
		for _, name := range order {
			c := f.Login(name)
			for _, s := range steps {
				want, ok := s.want[name]
				if !ok {
					want = s.other
				}
				var body any
				if s.body != nil {
					body = s.body()
				}
				res := c.Call(s.method, s.path, body)
				if res.Status != want {
					t.Errorf("%s %s as %s = %d, want %d (%s)", s.method, s.path, name, res.Status, want, res.Body)
				}
			}
		}
	})
}

// TestMemberGrantsFollowTheTree checks that a manager's rights reach the
// units below theirs and no further.
func TestMemberGrantsFollowTheTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		itmgr := f.Login("itmgr")
		res := itmgr.Call("POST", "/api/v1/units/"+webtest.ID(f.Units["IT-SD"])+"/members",
			map[string]any{"email": "nobody@example.org", "role": "agent"})
		if res.Status != http.StatusCreated {
			t.Fatalf("IT manager adding an agent below IT = %d %s", res.Status, res.Body)
		}
		res = itmgr.Call("GET", "/api/v1/units/"+webtest.ID(f.Units["IT-SD"])+"/members", nil)
		if len(res.Items()) != 1 || res.Items()[0]["role"] != "agent" {
			t.Fatalf("members of IT-SD = %s", res.Body)
		}
		if res := itmgr.Call("POST", "/api/v1/units/"+webtest.ID(f.Units["HQ"])+"/members",
			map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "member"}); res.Status != http.StatusNotFound {
			t.Fatalf("IT manager adding a member above IT = %d", res.Status)
		}
		del := itmgr.Call("DELETE", "/api/v1/units/"+webtest.ID(f.Units["IT-SD"])+"/members/"+webtest.ID(f.Users["nobody"])+"/agent", nil)
		if del.Status != http.StatusNoContent {
			t.Fatalf("revoke = %d %s", del.Status, del.Body)
		}
		if again := itmgr.Call("DELETE", "/api/v1/units/"+webtest.ID(f.Units["IT-SD"])+"/members/"+webtest.ID(f.Users["nobody"])+"/agent", nil); again.Status != http.StatusNotFound {
			t.Fatalf("second revoke = %d", again.Status)
		}
		// /me shows inherited roles as such.
		me := itmgr.Call("GET", "/api/v1/me", nil)
		roles, _ := me.JSON["roles"].([]any)
		found := map[string]bool{}
		for _, r := range roles {
			m := r.(map[string]any)
			found[fmt.Sprintf("%s/%s/%v", m["unit_code"], m["role"], m["inherited"])] = true
		}
		if !found["IT/manager/false"] || !found["IT-SD/manager/true"] || !found["IT-NET/manager/true"] || found["HQ/manager/true"] || len(roles) != 3 {
			t.Fatalf("roles in /me = %v", roles)
		}
	})
}

// TestOrgGrantRules checks segregation of duties and the last-admin guard.
func TestOrgGrantRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.Login("admin")
		res := admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["finance"]), "role": "admin"})
		if res.Status != http.StatusConflict || res.ErrorCode() != "segregation_of_duties" {
			t.Fatalf("admin to a finance user = %d %s", res.Status, res.Body)
		}
		res = admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["admin"]), "role": "finance"})
		if res.Status != http.StatusForbidden {
			t.Fatalf("finance to oneself = %d %s", res.Status, res.Body)
		}
		res = admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "auditor"})
		if res.Status != http.StatusAccepted || res.JSON["status"] != "proposed" || len(f.OrgRoles("nobody")) != 0 {
			t.Fatalf("a money role is proposed, not granted: %d %s", res.Status, res.Body)
		}
		res = admin.Call("DELETE", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["admin"]), "role": "admin"})
		if res.Status != http.StatusConflict || res.ErrorCode() != "last_admin" {
			t.Fatalf("revoking the last admin = %d %s", res.Status, res.Body)
		}
		res = admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["auditor"]), "role": "superuser"})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown role = %d %s", res.Status, res.Body)
		}
		// A granted role works on the very next request.
		fin := f.Login("nobody")
		if res := fin.Call("GET", "/api/v1/users", nil); res.Status != http.StatusForbidden {
			t.Fatalf("before grant = %d", res.Status)
		}
		if res := admin.Call("POST", "/api/v1/grants", map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "admin"}); res.Status != http.StatusCreated {
			t.Fatalf("grant admin = %d %s", res.Status, res.Body)
		}
		// ...once the session that signed in with a password alone has
		// given a second factor, which admin needs.
		if res := fin.Call("GET", "/api/v1/users", nil); res.Status != http.StatusForbidden || res.ErrorCode() != "second_factor_required" {
			t.Fatalf("after grant, before a second factor = %d %s", res.Status, res.Body)
		}
		f.EnrolSecondFactor(f.Users["nobody"])
		if res := fin.Call("POST", "/api/v1/me/two-factor/verify", map[string]any{"code": f.RecoveryCode(f.Users["nobody"])}); res.Status != http.StatusNoContent {
			t.Fatalf("give a code = %d %s", res.Status, res.Body)
		}
		if res := fin.Call("GET", "/api/v1/users", nil); res.Status != http.StatusOK {
			t.Fatalf("after grant = %d", res.Status)
		}
		var events int
		if err := d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE object_type = 'grant' AND action = 'grant' AND actor_id = ?", f.Users["admin"]).
			Scan(t.Context(), &events); err != nil || events != 1 {
			t.Fatalf("audit events for the grant = %d, %v", events, err)
		}
	})
}

// TestFinanceDeskListsAnswerAlikeOnBothSurfaces asks the API and the portal
// the same question for every persona: billing's viewer decides who lists
// disputes, periods and adjustments, so both give the same status.
func TestFinanceDeskListsAnswerAlikeOnBothSurfaces(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		rows := []struct{ api, page string }{
			{"/api/v1/disputes", "/finance/disputes"},
			{"/api/v1/periods", "/finance/periods"},
			{"/api/v1/adjustments", "/finance/adjustments"},
		}
		desk := map[string]bool{"finance": true, "finance2": true, "auditor": true}
		for _, p := range webtest.Personas {
			client, browser := f.Login(p.Name), f.SignIn(p.Name)
			for _, r := range rows {
				want := http.StatusNotFound
				if desk[p.Name] {
					want = http.StatusOK
				}
				if got := client.Call("GET", r.api, nil).Status; got != want {
					t.Errorf("%s GET %s = %d, want %d", p.Name, r.api, got, want)
				}
				if got := browser.Get(r.page).Status; got != want {
					t.Errorf("%s GET %s = %d, want %d", p.Name, r.page, got, want)
				}
			}
		}
	})
}
