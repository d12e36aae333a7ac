package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

func TestSessionCookieAndCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := newClient(t, f.srv.URL)
		res := c.call("POST", "/api/v1/session", map[string]string{"email": "ADMIN@example.org", "password": testPassword})
		if res.status != http.StatusOK {
			t.Fatalf("login with upper-case e-mail = %d %s", res.status, res.body)
		}
		cookie := res.header.Get("Set-Cookie")
		for _, want := range []string{"tiski_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("Set-Cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("Secure cookie over plain HTTP from an untrusted peer: %q", cookie)
		}
		token := strings.TrimPrefix(strings.Split(cookie, ";")[0], "tiski_session=")
		if len(token) < 22 { // 128 bits in base64url
			t.Errorf("session token %q is shorter than 128 bits", token)
		}
		csrf := res.str("csrf_token")
		before := f.count("units")

		// A cookie-authenticated unsafe request needs the CSRF token.
		if res := c.call("POST", "/api/v1/units", map[string]any{"code": "X1", "name": "X"}); res.status != http.StatusForbidden || res.errorCode() != "csrf_failed" {
			t.Fatalf("POST without CSRF = %d %s", res.status, res.body)
		}
		c.csrf = "wrong"
		if res := c.call("POST", "/api/v1/units", map[string]any{"code": "X1", "name": "X"}); res.status != http.StatusForbidden {
			t.Fatalf("POST with wrong CSRF = %d", res.status)
		}
		if f.count("units") != before {
			t.Fatal("a refused request wrote a unit")
		}
		c.csrf = csrf
		if res := c.call("POST", "/api/v1/units", map[string]any{"code": "X1", "name": "X"}); res.status != http.StatusCreated {
			t.Fatalf("POST with CSRF = %d %s", res.status, res.body)
		}
		if me := c.call("GET", "/api/v1/me", nil); me.str("csrf_token") != csrf {
			t.Fatalf("GET /me csrf_token = %q", me.str("csrf_token"))
		}

		// Logging in again rotates the session: the old token stops working.
		again := c.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": testPassword})
		if again.status != http.StatusOK {
			t.Fatal(again.status)
		}
		old := newClient(t, f.srv.URL)
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: "tiski_session", Value: token})
		if res := old.send(req); res.status != http.StatusUnauthorized {
			t.Fatalf("old session after re-login = %d", res.status)
		}
		c.csrf = again.str("csrf_token")
		if res := c.call("DELETE", "/api/v1/session", nil); res.status != http.StatusNoContent {
			t.Fatalf("logout = %d %s", res.status, res.body)
		}
		if res := c.call("GET", "/api/v1/me", nil); res.status != http.StatusUnauthorized {
			t.Fatalf("after logout = %d", res.status)
		}
	})
}

func TestLoginFailuresLookAlikeAndAreThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := newClient(t, f.srv.URL)
		wrong := c.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": "not the password"})
		unknown := c.call("POST", "/api/v1/session", map[string]string{"email": "ghost@example.org", "password": "not the password"})
		if wrong.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized || string(wrong.body) != string(unknown.body) {
			t.Fatalf("wrong password %d %s vs unknown e-mail %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
		}
		for i := 1; i < auth.MaxFailuresPerEmail; i++ {
			c.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": "not the password"})
		}
		// Now even the right password is refused for this account...
		res := c.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": testPassword})
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
			t.Fatalf("login after %d failures = %d %s", auth.MaxFailuresPerEmail, res.status, res.body)
		}
		// ...while another account from the same client still signs in.
		if res := c.call("POST", "/api/v1/session", map[string]string{"email": "finance@example.org", "password": testPassword}); res.status != http.StatusOK {
			t.Fatalf("other account = %d %s", res.status, res.body)
		}
	})
}

func TestClientAddressComesOnlyFromTrustedProxies(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	// Spoofed X-Forwarded-For from an untrusted peer must not dodge the
	// per-client limit: every attempt counts against the real peer.
	c := newClient(t, f.srv.URL)
	for i := 0; i < auth.MaxFailuresPerClient; i++ {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/session",
			strings.NewReader(`{"email":"user`+id(int64(i))+`@example.org","password":"wrong password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113."+id(int64(i%250)))
		c.send(req)
	}
	res := c.call("POST", "/api/v1/session", map[string]string{"email": "finance@example.org", "password": testPassword})
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures from one peer with spoofed XFF = %d", auth.MaxFailuresPerClient, res.status)
	}
}

func TestDisabledUserLosesSessionAndToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var secret string
		err := d.InTx(ctx, func(tx bun.Tx) (err error) {
			secret, _, err = auth.CreateToken(ctx, tx, f.users["itagent"], "script")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		browser := f.login("itagent")
		script := newClient(t, f.srv.URL)
		script.bearer = secret
		for _, c := range []*client{browser, script} {
			if res := c.call("GET", "/api/v1/me", nil); res.status != http.StatusOK {
				t.Fatalf("before disabling = %d", res.status)
			}
		}
		admin := f.login("admin")
		if res := admin.call("PATCH", "/api/v1/users/"+id(f.users["itagent"]), map[string]any{"disabled": true}); res.status != http.StatusOK {
			t.Fatalf("disable = %d %s", res.status, res.body)
		}
		for _, c := range []*client{browser, script} {
			if res := c.call("GET", "/api/v1/me", nil); res.status != http.StatusUnauthorized {
				t.Fatalf("after disabling = %d", res.status)
			}
		}
		// Re-enabling does not bring old sessions or tokens back.
		if res := admin.call("PATCH", "/api/v1/users/"+id(f.users["itagent"]), map[string]any{"disabled": false}); res.status != http.StatusOK {
			t.Fatal(res.status)
		}
		if res := script.call("GET", "/api/v1/me", nil); res.status != http.StatusUnauthorized {
			t.Fatalf("revoked token after re-enabling = %d", res.status)
		}
		if res := newClient(t, f.srv.URL).call("POST", "/api/v1/session",
			map[string]string{"email": "itagent@example.org", "password": testPassword}); res.status != http.StatusOK {
			t.Fatalf("fresh login after re-enabling = %d", res.status)
		}
		if res := admin.call("PATCH", "/api/v1/users/"+id(f.users["admin"]), map[string]any{"disabled": true}); res.status != http.StatusConflict {
			t.Fatalf("admin disabling themself = %d", res.status)
		}
	})
}

func TestPasswordChange(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	c := f.login("mktmember")
	path := "/api/v1/users/" + id(f.users["mktmember"])
	if res := c.call("PATCH", path, map[string]any{"password": "a brand new secret"}); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("without current password = %d", res.status)
	}
	if res := c.call("PATCH", path, map[string]any{"password": "short", "current_password": testPassword}); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("too short = %d", res.status)
	}
	if res := c.call("PATCH", path, map[string]any{"password": "a brand new secret", "current_password": testPassword}); res.status != http.StatusOK {
		t.Fatalf("change = %d %s", res.status, res.body)
	}
	if res := newClient(t, f.srv.URL).call("POST", "/api/v1/session",
		map[string]string{"email": "mktmember@example.org", "password": "a brand new secret"}); res.status != http.StatusOK {
		t.Fatalf("login with new password = %d", res.status)
	}
	if res := c.call("PATCH", path, map[string]any{"disabled": true}); res.status != http.StatusForbidden {
		t.Fatalf("self-disable by a non-admin = %d", res.status)
	}
}
