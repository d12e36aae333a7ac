package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// tokenRefusals counts the audited refusals of one token.
func tokenRefusals(t *testing.T, d *db.DB, tokenID string) int {
	t.Helper()
	n, err := d.NewSelect().Table("audit_events").
		Where("object_type = 'api_token' AND object_id = ? AND action = 'refuse'", tokenID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// scriptWith is a bearer client for a token created through POST /me/tokens.
func scriptWith(t *testing.T, f *webtest.Fixture, created webtest.Response) *webtest.Client {
	t.Helper()
	c := webtest.NewClient(t, f.Srv.URL)
	c.Bearer = created.Str("token")
	if !strings.HasPrefix(c.Bearer, "tsk_") {
		t.Fatalf("created token carries no secret: %s", created.Body)
	}
	return c
}

// Finding (issue 17, item 4): API tokens could not expire; only disabling
// their user stopped one.
func TestTokensExpire(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		owner := f.Login("itagent")
		before := f.Count("api_tokens")
		if res := owner.Call("POST", "/api/v1/me/tokens", map[string]any{"name": "too long", "expires_in_days": 366}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a token for 366 days = %d %s", res.Status, res.Body)
		}
		if res := owner.Call("POST", "/api/v1/me/tokens", map[string]any{"name": "negative", "expires_in_days": -1}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a token for -1 days = %d %s", res.Status, res.Body)
		}
		if n := f.Count("api_tokens"); n != before {
			t.Fatalf("refused lifetimes stored %d tokens", n-before)
		}

		res := owner.Call("POST", "/api/v1/me/tokens", map[string]any{"name": "nightly"})
		if res.Status != http.StatusCreated {
			t.Fatalf("create = %d %s", res.Status, res.Body)
		}
		expires, err := time.Parse(time.RFC3339, res.Str("expires_at"))
		if err != nil {
			t.Fatal(err)
		}
		if left := time.Until(expires); left < 89*24*time.Hour || left > 90*24*time.Hour {
			t.Fatalf("default lifetime leaves %v, want 90 days", left)
		}
		script := scriptWith(t, f, res)
		if r := script.Call("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Fatalf("live token = %d", r.Status)
		}

		// The day passes.
		if _, err := d.NewUpdate().Table("api_tokens").Set("expires_at = ?", time.Now().UTC().Add(-time.Second)).
			Where("id = ?", res.Str("id")).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := script.Call("GET", "/api/v1/me", nil)
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "token_expired" {
			t.Fatalf("expired token = %d %s", r.Status, r.Body)
		}
		if n := tokenRefusals(t, d, res.Str("id")); n != 1 {
			t.Fatalf("%d audited refusals of the expired token, want 1", n)
		}
		list := owner.Call("GET", "/api/v1/me/tokens", nil).Items()
		if len(list) != 1 || list[0]["state"] != "expired" {
			t.Fatalf("the owner's list = %v", list)
		}
	})
}

// Finding (issue 17, item 4): API tokens could not be listed or revoked one
// by one.
func TestOwnTokensAreListedAndRevoked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		owner := f.Login("itagent")
		created := owner.Call("POST", "/api/v1/me/tokens", map[string]any{"name": "ci", "expires_in_days": 30})
		if created.Status != http.StatusCreated {
			t.Fatalf("create = %d %s", created.Status, created.Body)
		}
		script := scriptWith(t, f, created)
		if r := script.Call("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Fatalf("live token = %d", r.Status)
		}
		list := owner.Call("GET", "/api/v1/me/tokens", nil).Items()
		if len(list) != 1 || list[0]["name"] != "ci" || list[0]["state"] != "active" || list[0]["last_used_at"] == nil {
			t.Fatalf("list after one use = %v", list)
		}
		if _, leaked := list[0]["token"]; leaked {
			t.Fatal("the list shows the secret")
		}

		path := "/api/v1/me/tokens/" + created.Str("id")
		if r := f.Login("mktmember").Call("DELETE", path, nil); r.Status != http.StatusNotFound {
			t.Fatalf("another user revoking it = %d", r.Status)
		}
		if r := script.Call("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Fatalf("after a stranger's attempt = %d", r.Status)
		}
		if r := owner.Call("DELETE", path, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke = %d %s", r.Status, r.Body)
		}
		r := script.Call("GET", "/api/v1/me", nil)
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "token_revoked" {
			t.Fatalf("revoked token = %d %s", r.Status, r.Body)
		}
		if n := tokenRefusals(t, d, created.Str("id")); n != 1 {
			t.Fatalf("%d audited refusals of the revoked token, want 1", n)
		}
		if r := owner.Call("DELETE", path, nil); r.Status != http.StatusNotFound {
			t.Fatalf("revoking twice = %d", r.Status)
		}
		if r := owner.Call("GET", "/api/v1/me/tokens", nil).Items(); r[0]["state"] != "revoked" {
			t.Fatalf("list after revoking = %v", r)
		}
	})
}

// Recording every use would make every API read a write: last_used_at
// moves at most once a minute.
func TestTokenLastUsedIsWrittenAtMostOnceAMinute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		owner := f.Login("itagent")
		created := owner.Call("POST", "/api/v1/me/tokens", map[string]any{"name": "ci"})
		script := scriptWith(t, f, created)
		lastUsed := func() time.Time {
			var at time.Time
			if err := d.NewSelect().Table("api_tokens").Column("last_used_at").Where("id = ?", created.Str("id")).
				Scan(context.Background(), &at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		script.Call("GET", "/api/v1/me", nil)
		first := lastUsed()
		script.Call("GET", "/api/v1/me", nil)
		if again := lastUsed(); !again.Equal(first) {
			t.Fatalf("a second use within the minute moved last_used_at from %v to %v", first, again)
		}
		old := time.Now().UTC().Add(-2 * time.Minute)
		if _, err := d.NewUpdate().Table("api_tokens").Set("last_used_at = ?", old).Where("id = ?", created.Str("id")).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		script.Call("GET", "/api/v1/me", nil)
		if moved := lastUsed(); !moved.After(old.Add(time.Minute)) {
			t.Fatalf("a use two minutes later left last_used_at at %v", moved)
		}
	})
}

// Admins revoke any user's token; nobody else may.
func TestAdminRevokesAnyUsersToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		created := f.Login("itagent").Call("POST", "/api/v1/me/tokens", map[string]any{"name": "ci"})
		script := scriptWith(t, f, created)
		base := "/api/v1/users/" + webtest.ID(f.Users["itagent"]) + "/tokens"
		manager := f.Login("itmgr")
		if r := manager.Call("GET", base, nil); r.Status != http.StatusForbidden {
			t.Fatalf("a manager listing an agent's tokens = %d", r.Status)
		}
		if r := manager.Call("DELETE", base+"/"+created.Str("id"), nil); r.Status != http.StatusForbidden {
			t.Fatalf("a manager revoking an agent's token = %d", r.Status)
		}
		admin := f.Login("admin")
		list := admin.Call("GET", base, nil).Items()
		if len(list) != 1 || list[0]["id"] != created.Str("id") {
			t.Fatalf("admin's list = %v", list)
		}
		wrongOwner := "/api/v1/users/" + webtest.ID(f.Users["mktmember"]) + "/tokens/" + created.Str("id")
		if r := admin.Call("DELETE", wrongOwner, nil); r.Status != http.StatusNotFound {
			t.Fatalf("revoking under the wrong user = %d", r.Status)
		}
		if r := admin.Call("DELETE", base+"/"+created.Str("id"), nil); r.Status != http.StatusNoContent {
			t.Fatalf("admin revoke = %d %s", r.Status, r.Body)
		}
		if r := script.Call("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("token after the admin revoked it = %d", r.Status)
		}
		n, err := d.NewSelect().Table("audit_events").Where("object_type = 'api_token' AND action = 'revoke' AND actor_id = ?", f.Users["admin"]).Count(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("%d revocations audited with the admin as actor (%v)", n, err)
		}
	})
}

// signInAs signs a persona in through the API from a browser named by userAgent.
func signInAs(t *testing.T, f *webtest.Fixture, name, userAgent string) *webtest.Client {
	t.Helper()
	c := webtest.NewClient(t, f.Srv.URL)
	req, _ := http.NewRequest("POST", f.Srv.URL+"/api/v1/session",
		strings.NewReader(`{"email":"`+f.Email(name)+`","password":"`+webtest.TestPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	res := c.Send(req)
	if res.Status != http.StatusOK {
		t.Fatalf("sign in: %d %s", res.Status, res.Body)
	}
	c.CSRF = res.Str("csrf_token")
	return c
}

// Finding (issue 17, item 4): a user could not see where they are signed in
// nor end a session left on another machine.
func TestSessionsAreListedAndEnded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		laptop := signInAs(t, f, "mktmember", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
		phone := signInAs(t, f, "mktmember", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
		list := laptop.Call("GET", "/api/v1/me/sessions", nil).Items()
		if len(list) != 2 {
			t.Fatalf("sessions = %v", list)
		}
		var phoneID string
		devices := map[string]bool{}
		for _, s := range list {
			devices[s["device"].(string)] = s["current"].(bool)
			if s["address"] == "" {
				t.Errorf("session %v has no address", s)
			}
			if s["device"] == "Safari on iOS" {
				phoneID = s["id"].(string)
			}
		}
		if current, ok := devices["Firefox on Linux"]; !ok || !current || devices["Safari on iOS"] {
			t.Fatalf("devices and current = %v", devices)
		}
		if r := f.Login("itagent").Call("DELETE", "/api/v1/me/sessions/"+phoneID, nil); r.Status != http.StatusNotFound {
			t.Fatalf("another user ending it = %d", r.Status)
		}
		if r := laptop.Call("DELETE", "/api/v1/me/sessions/"+phoneID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("end the phone's session = %d %s", r.Status, r.Body)
		}
		if r := phone.Call("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("the phone after its session was ended = %d", r.Status)
		}
		if r := laptop.Call("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Fatalf("the laptop = %d", r.Status)
		}
		n, err := d.NewSelect().Table("audit_events").Where("object_type = 'session' AND object_id = ? AND action = 'end'", phoneID).Count(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("%d audited session ends (%v)", n, err)
		}
	})
}

// Finding (issue 17, item 5): authenticated API answers carried no
// Cache-Control; the login answer holds the CSRF token.
func TestAPIAnswersAreNotStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		c := webtest.NewClient(t, f.Srv.URL)
		login := c.Call("POST", "/api/v1/session", map[string]string{"email": "agent@example.org", "password": webtest.TestPassword})
		if got := login.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("login answer: Cache-Control %q", got)
		}
		c.CSRF = login.Str("csrf_token")
		script := newToken(t, f, "itagent")
		for _, who := range []*webtest.Client{c, script} {
			for _, path := range []string{"/api/v1/me", "/api/v1/requests", "/api/v1/users/999999", "/api/v1/me/tokens"} {
				if r := who.Call("GET", path, nil); r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s (%d): Cache-Control %q, want no-store", path, r.Status, r.Header.Get("Cache-Control"))
				}
			}
		}
	})
}
