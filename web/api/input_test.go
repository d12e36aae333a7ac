package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestBadInputIsRefusedAndWritesNothing sends each kind of bad input and
// checks the status, the error envelope, and that no row was written.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.Login("admin")
		it, itsd := webtest.ID(f.Units["IT"]), webtest.ID(f.Units["IT-SD"])
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
			{"duplicate e-mail, other case", "POST", "/api/v1/users", map[string]any{"email": "Agent@Example.org", "name": "X"}, "", 409, "duplicate_email"},
			{"bad e-mail", "POST", "/api/v1/users", map[string]any{"email": "not-an-address", "name": "X"}, "", 422, "invalid"},
			{"named e-mail", "POST", "/api/v1/users", map[string]any{"email": "X <x@example.org>", "name": "X"}, "", 422, "invalid"},
			{"bad locale", "POST", "/api/v1/users", map[string]any{"email": "x@example.org", "name": "X", "locale": "sv"}, "", 422, "invalid"},
			{"short password", "POST", "/api/v1/users", map[string]any{"email": "x@example.org", "name": "X", "password": "abc"}, "", 422, "invalid"},
			{"grant to nobody", "POST", "/api/v1/grants", map[string]any{"user_id": "999999", "role": "auditor"}, "", 422, "invalid"},
			{"member role unknown", "POST", "/api/v1/units/" + it + "/members", map[string]any{"user_id": webtest.ID(f.Users["nobody"]), "role": "boss"}, "", 422, "invalid"},
			{"limit too big", "GET", "/api/v1/units?limit=500", nil, "", 422, "invalid"},
			{"limit not a number", "GET", "/api/v1/units?limit=ten", nil, "", 422, "invalid"},
			{"tampered cursor", "GET", "/api/v1/units?cursor=eyJrIjoidW5pdHMiLCJhIjozfQ.AAAA", nil, "", 422, "invalid"},
		}
		unitsBefore, usersBefore, grantsBefore := f.Count("units"), f.Count("users"), f.Count("unit_roles")+f.Count("org_roles")
		for _, tc := range cases {
			var res webtest.Response
			if tc.contentType != "" {
				req, _ := http.NewRequest(tc.method, f.Srv.URL+tc.path, strings.NewReader(string(tc.body.([]byte))))
				req.Header.Set("Content-Type", tc.contentType)
				res = admin.Send(req)
			} else {
				res = admin.Call(tc.method, tc.path, tc.body)
			}
			if res.Status != tc.status || res.ErrorCode() != tc.code {
				t.Errorf("%s: got %d %s, want %d %s", tc.name, res.Status, res.Body, tc.status, tc.code)
			}
			if e, _ := res.JSON["error"].(map[string]any); e == nil || e["message"] == "" {
				t.Errorf("%s: no error envelope in %s", tc.name, res.Body)
			}
		}
		if f.Count("units") != unitsBefore || f.Count("users") != usersBefore || f.Count("unit_roles")+f.Count("org_roles") != grantsBefore {
			t.Fatal("refused input changed the database")
		}
		unit := admin.Call("GET", "/api/v1/units/"+it, nil)
		if unit.JSON["parent_id"] != webtest.ID(f.Units["HQ"]) || unit.JSON["archived"] != false {
			t.Fatalf("IT changed after refused updates: %s", unit.Body)
		}
	})
}

func TestCursorFromAnotherListIsRefused(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	admin := f.Login("admin")
	users := admin.Call("GET", "/api/v1/users?limit=2", nil)
	next, _ := users.JSON["next_cursor"].(string)
	if next == "" {
		t.Fatalf("no next cursor: %s", users.Body)
	}
	if res := admin.Call("GET", "/api/v1/units?cursor="+next, nil); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("users cursor on units = %d", res.Status)
	}
}

func TestUnitsPageThroughWithCursors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.Login("admin")
		for _, code := range []string{"P1", "P2", "P3", "P4", "P5"} {
			if res := admin.Call("POST", "/api/v1/units", map[string]any{"code": code, "name": code}); res.Status != http.StatusCreated {
				t.Fatal(res.Status, string(res.Body))
			}
		}
		seen := map[string]bool{}
		path, pages := "/api/v1/units?limit=4", 0
		for path != "" {
			res := admin.Call("GET", path, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("%s = %d %s", path, res.Status, res.Body)
			}
			pages++
			for _, u := range res.Items() {
				code := u["code"].(string)
				if seen[code] {
					t.Fatalf("unit %s seen twice", code)
				}
				seen[code] = true
			}
			path = ""
			if next, _ := res.JSON["next_cursor"].(string); next != "" {
				path = "/api/v1/units?limit=4&cursor=" + next
			}
		}
		if len(seen) != 13 || pages != 4 { // the kit's eight and five more
			t.Fatalf("saw %d units in %d pages, want 13 in 4", len(seen), pages)
		}
	})
}

func TestArchivedUnitsAreHiddenFromStaff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.Login("admin")
		res := admin.Call("POST", "/api/v1/units", map[string]any{"code": "OLD", "name": "Old unit", "parent_id": webtest.ID(f.Units["MKT"])})
		if res.Status != http.StatusCreated {
			t.Fatal(res.Status, string(res.Body))
		}
		oldID := res.Str("id")
		if res := admin.Call("PATCH", "/api/v1/units/"+oldID, map[string]any{"archived": true}); res.Status != http.StatusOK || res.JSON["archived"] != true {
			t.Fatalf("archive = %d %s", res.Status, res.Body)
		}
		member := f.Login("mktmember")
		if res := member.Call("GET", "/api/v1/units/"+oldID, nil); res.Status != http.StatusNotFound {
			t.Fatalf("member reading an archived unit = %d", res.Status)
		}
		for _, u := range member.Call("GET", "/api/v1/units", nil).Items() {
			if u["code"] == "OLD" {
				t.Fatal("archived unit listed to a member")
			}
		}
		if res := f.Login("auditor").Call("GET", "/api/v1/units/"+oldID, nil); res.Status != http.StatusOK {
			t.Fatalf("auditor reading an archived unit = %d", res.Status)
		}
		if res := admin.Call("POST", "/api/v1/units", map[string]any{"code": "NEW", "name": "N", "parent_id": oldID}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("child of an archived unit = %d", res.Status)
		}
	})
}

func TestErrorEnvelopeForRoutingErrors(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	admin := f.Login("admin")
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
		res := admin.Call(tc.method, tc.path, nil)
		if res.Status != tc.status || res.ErrorCode() != tc.code {
			t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, res.Status, res.Body, tc.status, tc.code)
		}
	}
	anon := webtest.NewClient(t, f.Srv.URL)
	if res := anon.Call("GET", "/api/v1/units", nil); res.Status != http.StatusUnauthorized || res.ErrorCode() != "unauthorized" {
		t.Fatalf("anonymous = %d %s", res.Status, res.Body)
	}
	anon.Bearer = "tsk_not-a-real-token"
	if res := anon.Call("GET", "/api/v1/units", nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("bad token = %d", res.Status)
	}
}
