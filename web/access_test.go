package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// TestPermissionTableOverAPI signs in as every persona and walks the
// foundation's routes, asserting who may and who may not.
func TestPermissionTableOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		it, itsd, mkt := id(f.units["IT"]), id(f.units["IT-SD"]), id(f.units["MKT"])
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
				body: func() any { return map[string]any{"user_id": id(f.users["nobody"]), "role": "member"} },
				// The first allowed persona (itmgr) grants; later ones find it held.
				want: map[string]int{"itmgr": 201, "groupmgr": 409, "admin": 409}, other: 404},
			{method: "POST", path: "/api/v1/units/" + it + "/members",
				body: func() any { return map[string]any{"user_id": id(f.users["nobody"]), "role": "manager"} },
				want: map[string]int{"admin": 201, "groupmgr": 403, "itmgr": 403}, other: 404},
			{method: "GET", path: "/api/v1/users", want: map[string]int{"admin": 200}, other: 403},
			{method: "POST", path: "/api/v1/users",
				body: func() any { return map[string]any{"email": unique() + "@example.org", "name": "New person"} },
				want: map[string]int{"admin": 201}, other: 403},
			{method: "GET", path: "/api/v1/users/" + id(f.users["itagent"]),
				want: map[string]int{"admin": 200, "itagent": 200}, other: 404},
			{method: "PATCH", path: "/api/v1/users/" + id(f.users["mktmember"]), body: func() any { return map[string]any{"locale": "fi"} },
				want: map[string]int{"admin": 200, "mktmember": 200}, other: 404},
			{method: "POST", path: "/api/v1/grants",
				body: func() any { return map[string]any{"user_id": id(f.users["nobody"]), "role": "admin"} },
				want: map[string]int{"admin": 201}, other: 403},
			{method: "DELETE", path: "/api/v1/grants?role=admin&user_id=" + id(f.users["nobody"]),
				want: map[string]int{"admin": 204}, other: 403},
		}
		order := []string{"nobody", "mktmember", "itagent", "auditor", "finance", "itmgr", "groupmgr", "admin"}
		for _, name := range order {
			c := f.login(name)
			for _, s := range steps {
				want, ok := s.want[name]
				if !ok {
					want = s.other
				}
				var body any
				if s.body != nil {
					body = s.body()
				}
				res := c.call(s.method, s.path, body)
				if res.status != want {
					t.Errorf("%s %s as %s = %d, want %d (%s)", s.method, s.path, name, res.status, want, res.body)
				}
			}
		}
	})
}

// TestMemberGrantsFollowTheTree checks that a manager's rights reach the
// units below theirs and no further.
func TestMemberGrantsFollowTheTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		itmgr := f.login("itmgr")
		res := itmgr.call("POST", "/api/v1/units/"+id(f.units["IT-SD"])+"/members",
			map[string]any{"user_id": id(f.users["nobody"]), "role": "agent"})
		if res.status != http.StatusCreated {
			t.Fatalf("IT manager adding an agent below IT = %d %s", res.status, res.body)
		}
		res = itmgr.call("GET", "/api/v1/units/"+id(f.units["IT-SD"])+"/members", nil)
		if len(res.items()) != 1 || res.items()[0]["role"] != "agent" {
			t.Fatalf("members of IT-SD = %s", res.body)
		}
		if res := itmgr.call("POST", "/api/v1/units/"+id(f.units["GROUP"])+"/members",
			map[string]any{"user_id": id(f.users["nobody"]), "role": "member"}); res.status != http.StatusNotFound {
			t.Fatalf("IT manager adding a member above IT = %d", res.status)
		}
		del := itmgr.call("DELETE", "/api/v1/units/"+id(f.units["IT-SD"])+"/members/"+id(f.users["nobody"])+"/agent", nil)
		if del.status != http.StatusNoContent {
			t.Fatalf("revoke = %d %s", del.status, del.body)
		}
		if again := itmgr.call("DELETE", "/api/v1/units/"+id(f.units["IT-SD"])+"/members/"+id(f.users["nobody"])+"/agent", nil); again.status != http.StatusNotFound {
			t.Fatalf("second revoke = %d", again.status)
		}
		// /me shows inherited roles as such.
		me := itmgr.call("GET", "/api/v1/me", nil)
		roles, _ := me.json["roles"].([]any)
		found := map[string]bool{}
		for _, r := range roles {
			m := r.(map[string]any)
			found[fmt.Sprintf("%s/%s/%v", m["unit_code"], m["role"], m["inherited"])] = true
		}
		if !found["IT/manager/false"] || !found["IT-SD/manager/true"] || found["GROUP/manager/true"] || len(roles) != 2 {
			t.Fatalf("roles in /me = %v", roles)
		}
	})
}

// TestOrgGrantRules checks segregation of duties and the last-admin guard.
func TestOrgGrantRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin := f.login("admin")
		res := admin.call("POST", "/api/v1/grants", map[string]any{"user_id": id(f.users["finance"]), "role": "admin"})
		if res.status != http.StatusConflict || res.errorCode() != "segregation_of_duties" {
			t.Fatalf("admin to a finance user = %d %s", res.status, res.body)
		}
		res = admin.call("POST", "/api/v1/grants", map[string]any{"user_id": id(f.users["admin"]), "role": "finance"})
		if res.status != http.StatusForbidden {
			t.Fatalf("finance to oneself = %d %s", res.status, res.body)
		}
		res = admin.call("POST", "/api/v1/grants", map[string]any{"user_id": id(f.users["nobody"]), "role": "auditor"})
		if res.status != http.StatusAccepted || res.json["status"] != "proposed" || len(admOrgRoles(t, f, "nobody")) != 0 {
			t.Fatalf("a money role is proposed, not granted: %d %s", res.status, res.body)
		}
		res = admin.call("DELETE", "/api/v1/grants", map[string]any{"user_id": id(f.users["admin"]), "role": "admin"})
		if res.status != http.StatusConflict || res.errorCode() != "last_admin" {
			t.Fatalf("revoking the last admin = %d %s", res.status, res.body)
		}
		res = admin.call("POST", "/api/v1/grants", map[string]any{"user_id": id(f.users["auditor"]), "role": "superuser"})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown role = %d %s", res.status, res.body)
		}
		// A granted role works on the very next request.
		fin := f.login("nobody")
		if res := fin.call("GET", "/api/v1/users", nil); res.status != http.StatusForbidden {
			t.Fatalf("before grant = %d", res.status)
		}
		if res := admin.call("POST", "/api/v1/grants", map[string]any{"user_id": id(f.users["nobody"]), "role": "admin"}); res.status != http.StatusCreated {
			t.Fatalf("grant admin = %d %s", res.status, res.body)
		}
		if res := fin.call("GET", "/api/v1/users", nil); res.status != http.StatusOK {
			t.Fatalf("after grant = %d", res.status)
		}
		var events int
		if err := d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE object_type = 'grant' AND action = 'grant' AND actor_id = ?", f.users["admin"]).
			Scan(t.Context(), &events); err != nil || events != 1 {
			t.Fatalf("audit events for the grant = %d, %v", events, err)
		}
	})
}
