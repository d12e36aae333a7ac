package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// TestBadInputIsRefusedAndWritesNothing sends each kind of bad input and
// checks the status, the error envelope, and that no row was written.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin := f.login("admin")
		it, itsd := id(f.units["IT"]), id(f.units["IT-SD"])
		cases := []struct {
			name, method, path string
			body               any
			contentType        string
			status             int
			code               string
		}{
			{"malformed JSON", "POST", "/api/v1/units", []byte(`{"code": "A1", "name": `), "", 400, "malformed_json"},
			{"two JSON values", "POST", "/api/v1/units", []byte(`{"code":"A1","name":"A"} {}`), "", 400, "malformed_json"},
			{"unknown field", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A", "colour": "red"}, "", 400, "unknown_field"},
			{"wrong type", "POST", "/api/v1/units", map[string]any{"code": 12, "name": "A"}, "", 400, "wrong_type"},
			{"invalid UTF-8", "POST", "/api/v1/units", []byte("{\"code\":\"A1\",\"name\":\"\xff\xfe\"}"), "", 400, "invalid_utf8"},
			{"NUL byte", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A\x00B"}, "", 422, "invalid"},
			{"over-long name", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": strings.Repeat("n", 201)}, "", 422, "invalid"},
			{"bad code", "POST", "/api/v1/units", map[string]any{"code": "a b/c", "name": "A"}, "", 422, "invalid"},
			{"missing name", "POST", "/api/v1/units", map[string]any{"code": "A1"}, "", 422, "invalid"},
			{"negative threshold", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A",
				"approval_threshold": map[string]any{"amount_minor": -1, "currency": "EUR"}}, "", 422, "invalid"},
			{"fractional money", "POST", "/api/v1/units", []byte(`{"code":"A1","name":"A","approval_threshold":{"amount_minor":1.5,"currency":"EUR"}}`), "", 422, "invalid"},
			{"wrong currency", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A",
				"approval_threshold": map[string]any{"amount_minor": 100, "currency": "USD"}}, "", 422, "invalid"},
			{"bad budget mode", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A", "budget_mode": "loose"}, "", 422, "invalid"},
			{"unknown parent", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A", "parent_id": "999999"}, "", 422, "invalid"},
			{"non-numeric parent", "POST", "/api/v1/units", map[string]any{"code": "A1", "name": "A", "parent_id": "abc"}, "", 422, "invalid"},
			{"duplicate code", "POST", "/api/v1/units", map[string]any{"code": "it", "name": "Again"}, "", 409, "duplicate_code"},
			{"text/plain", "POST", "/api/v1/units", []byte(`{"code":"A1","name":"A"}`), "text/plain", 415, "unsupported_media_type"},
			{"too large", "POST", "/api/v1/units", []byte(`{"code":"A1","name":"` + strings.Repeat("x", 70*1024) + `"}`), "", 413, "payload_too_large"},
			{"own parent", "PATCH", "/api/v1/units/" + it, map[string]any{"parent_id": it}, "", 422, "invalid"},
			{"own ancestor", "PATCH", "/api/v1/units/" + it, map[string]any{"parent_id": itsd}, "", 422, "invalid"},
			{"rename to taken code", "PATCH", "/api/v1/units/" + itsd, map[string]any{"code": "MKT"}, "", 409, "duplicate_code"},
			{"archive with children", "PATCH", "/api/v1/units/" + it, map[string]any{"archived": true}, "", 409, "unit_has_children"},
			{"unknown unit", "PATCH", "/api/v1/units/999999", map[string]any{"name": "X"}, "", 404, "not_found"},
			{"duplicate e-mail, other case", "POST", "/api/v1/users", map[string]any{"email": "ItAgent@Example.org", "name": "X"}, "", 409, "duplicate_email"},
			{"bad e-mail", "POST", "/api/v1/users", map[string]any{"email": "not-an-address", "name": "X"}, "", 422, "invalid"},
			{"named e-mail", "POST", "/api/v1/users", map[string]any{"email": "X <x@example.org>", "name": "X"}, "", 422, "invalid"},
			{"bad locale", "POST", "/api/v1/users", map[string]any{"email": "x@example.org", "name": "X", "locale": "sv"}, "", 422, "invalid"},
			{"short password", "POST", "/api/v1/users", map[string]any{"email": "x@example.org", "name": "X", "password": "abc"}, "", 422, "invalid"},
			{"grant to nobody", "POST", "/api/v1/grants", map[string]any{"user_id": "999999", "role": "auditor"}, "", 422, "invalid"},
			{"member role unknown", "POST", "/api/v1/units/" + it + "/members", map[string]any{"user_id": id(f.users["nobody"]), "role": "boss"}, "", 422, "invalid"},
			{"limit too big", "GET", "/api/v1/units?limit=500", nil, "", 422, "invalid"},
			{"limit not a number", "GET", "/api/v1/units?limit=ten", nil, "", 422, "invalid"},
			{"tampered cursor", "GET", "/api/v1/units?cursor=eyJrIjoidW5pdHMiLCJhIjozfQ.AAAA", nil, "", 422, "invalid"},
		}
		unitsBefore, usersBefore, grantsBefore := f.count("units"), f.count("users"), f.count("unit_roles")+f.count("org_roles")
		for _, tc := range cases {
			var res response
			if tc.contentType != "" {
				req, _ := http.NewRequest(tc.method, f.srv.URL+tc.path, strings.NewReader(string(tc.body.([]byte))))
				req.Header.Set("Content-Type", tc.contentType)
				res = admin.send(req)
			} else {
				res = admin.call(tc.method, tc.path, tc.body)
			}
			if res.status != tc.status || res.errorCode() != tc.code {
				t.Errorf("%s: got %d %s, want %d %s", tc.name, res.status, res.body, tc.status, tc.code)
			}
			if e, _ := res.json["error"].(map[string]any); e == nil || e["message"] == "" {
				t.Errorf("%s: no error envelope in %s", tc.name, res.body)
			}
		}
		if f.count("units") != unitsBefore || f.count("users") != usersBefore || f.count("unit_roles")+f.count("org_roles") != grantsBefore {
			t.Fatal("refused input changed the database")
		}
		unit := admin.call("GET", "/api/v1/units/"+it, nil)
		if unit.json["parent_id"] != id(f.units["GROUP"]) || unit.json["archived"] != false {
			t.Fatalf("IT changed after refused updates: %s", unit.body)
		}
	})
}

func TestCursorFromAnotherListIsRefused(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	admin := f.login("admin")
	users := admin.call("GET", "/api/v1/users?limit=2", nil)
	next, _ := users.json["next_cursor"].(string)
	if next == "" {
		t.Fatalf("no next cursor: %s", users.body)
	}
	if res := admin.call("GET", "/api/v1/units?cursor="+next, nil); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("users cursor on units = %d", res.status)
	}
}

func TestUnitsPageThroughWithCursors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin := f.login("admin")
		for _, code := range []string{"P1", "P2", "P3", "P4", "P5"} {
			if res := admin.call("POST", "/api/v1/units", map[string]any{"code": code, "name": code}); res.status != http.StatusCreated {
				t.Fatal(res.status, string(res.body))
			}
		}
		seen := map[string]bool{}
		path, pages := "/api/v1/units?limit=4", 0
		for path != "" {
			res := admin.call("GET", path, nil)
			if res.status != http.StatusOK {
				t.Fatalf("%s = %d %s", path, res.status, res.body)
			}
			pages++
			for _, u := range res.items() {
				code := u["code"].(string)
				if seen[code] {
					t.Fatalf("unit %s seen twice", code)
				}
				seen[code] = true
			}
			path = ""
			if next, _ := res.json["next_cursor"].(string); next != "" {
				path = "/api/v1/units?limit=4&cursor=" + next
			}
		}
		if len(seen) != 9 || pages != 3 {
			t.Fatalf("saw %d units in %d pages, want 9 in 3", len(seen), pages)
		}
	})
}

func TestArchivedUnitsAreHiddenFromStaff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin := f.login("admin")
		res := admin.call("POST", "/api/v1/units", map[string]any{"code": "OLD", "name": "Old unit", "parent_id": id(f.units["MKT"])})
		if res.status != http.StatusCreated {
			t.Fatal(res.status, string(res.body))
		}
		oldID := res.str("id")
		if res := admin.call("PATCH", "/api/v1/units/"+oldID, map[string]any{"archived": true}); res.status != http.StatusOK || res.json["archived"] != true {
			t.Fatalf("archive = %d %s", res.status, res.body)
		}
		member := f.login("mktmember")
		if res := member.call("GET", "/api/v1/units/"+oldID, nil); res.status != http.StatusNotFound {
			t.Fatalf("member reading an archived unit = %d", res.status)
		}
		for _, u := range member.call("GET", "/api/v1/units", nil).items() {
			if u["code"] == "OLD" {
				t.Fatal("archived unit listed to a member")
			}
		}
		if res := f.login("auditor").call("GET", "/api/v1/units/"+oldID, nil); res.status != http.StatusOK {
			t.Fatalf("auditor reading an archived unit = %d", res.status)
		}
		if res := admin.call("POST", "/api/v1/units", map[string]any{"code": "NEW", "name": "N", "parent_id": oldID}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("child of an archived unit = %d", res.status)
		}
	})
}

func TestErrorEnvelopeForRoutingErrors(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	admin := f.login("admin")
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/no-such-thing", 404, "not_found"},
		{"PUT", "/api/v1/me", 405, "method_not_allowed"},
		{"DELETE", "/api/v1/units", 405, "method_not_allowed"},
		{"GET", "/api/v1/units/abc", 404, "not_found"},
	} {
		res := admin.call(tc.method, tc.path, nil)
		if res.status != tc.status || res.errorCode() != tc.code {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, res.status, res.body, tc.status, tc.code)
		}
	}
	anon := newClient(t, f.srv.URL)
	if res := anon.call("GET", "/api/v1/units", nil); res.status != http.StatusUnauthorized || res.errorCode() != "unauthorized" {
		t.Fatalf("anonymous = %d %s", res.status, res.body)
	}
	anon.bearer = "tsk_not-a-real-token"
	if res := anon.call("GET", "/api/v1/units", nil); res.status != http.StatusUnauthorized {
		t.Fatalf("bad token = %d", res.status)
	}
}
