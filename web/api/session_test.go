package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func TestSessionCookieAndCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		c := webtest.NewClient(t, f.Srv.URL)
		res := f.CompleteSignIn(c, "admin", c.Call("POST", "/api/v1/session", map[string]string{"email": "ADMIN@example.org", "password": webtest.TestPassword}))
		if res.Status != http.StatusOK {
			t.Fatalf("login with upper-case e-mail = %d %s", res.Status, res.Body)
		}
		cookie := res.Header.Get("Set-Cookie")
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
		csrf := res.Str("csrf_token")
		before := f.Count("units")

		// A cookie-authenticated unsafe request needs the CSRF token.
		if res := c.Call("POST", "/api/v1/units", map[string]any{"code": "X1", "name": "X"}); res.Status != http.StatusForbidden || res.ErrorCode() != "csrf_failed" {
			t.Fatalf("POST without CSRF = %d %s", res.Status, res.Body)
		}
		c.CSRF = "wrong"
		if res := c.Call("POST", "/api/v1/units", map[string]any{"code": "X1", "name": "X"}); res.Status != http.StatusForbidden {
			t.Fatalf("POST with wrong CSRF = %d", res.Status)
		}
		if f.Count("units") != before {
			t.Fatal("a refused request wrote a unit")
		}
		c.CSRF = csrf
		if res := c.Call("POST", "/api/v1/units", map[string]any{"code": "X1", "name": "X"}); res.Status != http.StatusCreated {
			t.Fatalf("POST with CSRF = %d %s", res.Status, res.Body)
		}
		if me := c.Call("GET", "/api/v1/me", nil); me.Str("csrf_token") != csrf {
			t.Fatalf("GET /me csrf_token = %q", me.Str("csrf_token"))
		}

		// Logging in again rotates the session: the old token stops working.
		again := f.CompleteSignIn(c, "admin", c.Call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": webtest.TestPassword}))
		if again.Status != http.StatusOK {
			t.Fatal(again.Status)
		}
		old := webtest.NewClient(t, f.Srv.URL)
		req, _ := http.NewRequest("GET", f.Srv.URL+"/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: "tiski_session", Value: token})
		if res := old.Send(req); res.Status != http.StatusUnauthorized {
			t.Fatalf("old session after re-login = %d", res.Status)
		}
		c.CSRF = again.Str("csrf_token")
		if res := c.Call("DELETE", "/api/v1/session", nil); res.Status != http.StatusNoContent {
			t.Fatalf("logout = %d %s", res.Status, res.Body)
		}
		if res := c.Call("GET", "/api/v1/me", nil); res.Status != http.StatusUnauthorized {
			t.Fatalf("after logout = %d", res.Status)
		}
	})
}

func TestLoginFailuresLookAlikeAndAreThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		c := webtest.NewClient(t, f.Srv.URL)
		wrong := c.Call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": "not the password"})
		unknown := c.Call("POST", "/api/v1/session", map[string]string{"email": "ghost@example.org", "password": "not the password"})
		if wrong.Status != http.StatusUnauthorized || unknown.Status != http.StatusUnauthorized || string(wrong.Body) != string(unknown.Body) {
			t.Fatalf("wrong password %d %s vs unknown e-mail %d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
		}
		for i := 1; i < auth.MaxFailuresPerPair; i++ {
			c.Call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": "not the password"})
		}
		// Now even the right password is refused for this account...
		res := c.Call("POST", "/api/v1/session", map[string]string{"email": "admin@example.org", "password": webtest.TestPassword})
		if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("login after %d failures = %d %s", auth.MaxFailuresPerPair, res.Status, res.Body)
		}
		// ...while another account from the same client still signs in.
		if res := f.CompleteSignIn(c, "finance", c.Call("POST", "/api/v1/session", map[string]string{"email": "finance@example.org", "password": webtest.TestPassword})); res.Status != http.StatusOK {
			t.Fatalf("other account = %d %s", res.Status, res.Body)
		}
	})
}

func TestClientAddressComesOnlyFromTrustedProxies(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	// Spoofed X-Forwarded-For from an untrusted peer must not dodge the
	// per-client limit: every attempt counts against the real peer.
	c := webtest.NewClient(t, f.Srv.URL)
	for i := 0; i < auth.MaxFailuresPerClient; i++ {
		req, _ := http.NewRequest("POST", f.Srv.URL+"/api/v1/session",
			strings.NewReader(`{"email":"user`+webtest.ID(int64(i))+`@example.org","password":"wrong password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113."+webtest.ID(int64(i%250)))
		c.Send(req)
	}
	res := c.Call("POST", "/api/v1/session", map[string]string{"email": "finance@example.org", "password": webtest.TestPassword})
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures from one peer with spoofed XFF = %d", auth.MaxFailuresPerClient, res.Status)
	}
}

func TestDisabledUserLosesSessionAndToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		ctx := context.Background()
		var secret string
		err := d.InTx(ctx, func(tx bun.Tx) (err error) {
			secret, _, err = auth.CreateToken(ctx, tx, 0, f.Users["itagent"], "script", 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		browser := f.Login("itagent")
		script := webtest.NewClient(t, f.Srv.URL)
		script.Bearer = secret
		for _, c := range []*webtest.Client{browser, script} {
			if res := c.Call("GET", "/api/v1/me", nil); res.Status != http.StatusOK {
				t.Fatalf("before disabling = %d", res.Status)
			}
		}
		admin := f.Login("admin")
		if res := admin.Call("PATCH", "/api/v1/users/"+webtest.ID(f.Users["itagent"]), map[string]any{"disabled": true}); res.Status != http.StatusOK {
			t.Fatalf("disable = %d %s", res.Status, res.Body)
		}
		for _, c := range []*webtest.Client{browser, script} {
			if res := c.Call("GET", "/api/v1/me", nil); res.Status != http.StatusUnauthorized {
				t.Fatalf("after disabling = %d", res.Status)
			}
		}
		// Re-enabling does not bring old sessions or tokens back.
		if res := admin.Call("PATCH", "/api/v1/users/"+webtest.ID(f.Users["itagent"]), map[string]any{"disabled": false}); res.Status != http.StatusOK {
			t.Fatal(res.Status)
		}
		if res := script.Call("GET", "/api/v1/me", nil); res.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token after re-enabling = %d", res.Status)
		}
		if res := webtest.NewClient(t, f.Srv.URL).Call("POST", "/api/v1/session",
			map[string]string{"email": "agent@example.org", "password": webtest.TestPassword}); res.Status != http.StatusOK {
			t.Fatalf("fresh login after re-enabling = %d", res.Status)
		}
		if res := admin.Call("PATCH", "/api/v1/users/"+webtest.ID(f.Users["admin"]), map[string]any{"disabled": true}); res.Status != http.StatusConflict {
			t.Fatalf("admin disabling themself = %d", res.Status)
		}
	})
}

func TestPasswordChange(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	c := f.Login("mktmember")
	path := "/api/v1/users/" + webtest.ID(f.Users["mktmember"])
	if res := c.Call("PATCH", path, map[string]any{"password": "a brand new secret"}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("without current password = %d", res.Status)
	}
	if res := c.Call("PATCH", path, map[string]any{"password": "short", "current_password": webtest.TestPassword}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("too short = %d", res.Status)
	}
	if res := c.Call("PATCH", path, map[string]any{"password": "a brand new secret", "current_password": webtest.TestPassword}); res.Status != http.StatusOK {
		t.Fatalf("change = %d %s", res.Status, res.Body)
	}
	if res := webtest.NewClient(t, f.Srv.URL).Call("POST", "/api/v1/session",
		map[string]string{"email": "member@example.org", "password": "a brand new secret"}); res.Status != http.StatusOK {
		t.Fatalf("login with new password = %d", res.Status)
	}
	if res := c.Call("PATCH", path, map[string]any{"disabled": true}); res.Status != http.StatusForbidden {
		t.Fatalf("self-disable by a non-admin = %d", res.Status)
	}
}
