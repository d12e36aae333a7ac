package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func newToken(t *testing.T, f *webtest.Fixture, name string) *webtest.Client {
	t.Helper()
	var secret string
	ctx := context.Background()
	if err := f.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		secret, _, err = auth.CreateToken(ctx, tx, 0, f.Users[name], "script", 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	c := webtest.NewClient(t, f.Srv.URL)
	c.Bearer = secret
	return c
}

// Finding: a password change, by the user or an admin, left every other
// session and token working.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		here, elsewhere := f.Login("mktmember"), f.Login("mktmember")
		script := newToken(t, f, "mktmember")
		res := here.Call("PATCH", "/api/v1/users/"+webtest.ID(f.Users["mktmember"]),
			map[string]string{"current_password": webtest.TestPassword, "password": "a brand new passphrase"})
		if res.Status != http.StatusOK {
			t.Fatalf("own password change = %d %s", res.Status, res.Body)
		}
		if res := here.Call("GET", "/api/v1/me", nil); res.Status != http.StatusOK {
			t.Fatalf("the session that changed the password = %d", res.Status)
		}
		if res := elsewhere.Call("GET", "/api/v1/me", nil); res.Status != http.StatusUnauthorized {
			t.Fatalf("another session after the change = %d, want 401", res.Status)
		}
		if res := script.Call("GET", "/api/v1/me", nil); res.Status != http.StatusOK {
			t.Fatalf("the user's own API token after an own change = %d", res.Status)
		}

		// An admin setting the password ends every session and token.
		target, targetScript := f.Login("itagent"), newToken(t, f, "itagent")
		admin := f.Login("admin")
		if res := admin.Call("PATCH", "/api/v1/users/"+webtest.ID(f.Users["itagent"]),
			map[string]string{"password": "set by the admin now"}); res.Status != http.StatusOK {
			t.Fatalf("admin sets a password = %d %s", res.Status, res.Body)
		}
		for name, c := range map[string]*webtest.Client{"session": target, "token": targetScript} {
			if res := c.Call("GET", "/api/v1/me", nil); res.Status != http.StatusUnauthorized {
				t.Errorf("the user's %s after an admin set the password = %d, want 401", name, res.Status)
			}
		}
		if res := admin.Call("GET", "/api/v1/me", nil); res.Status != http.StatusOK {
			t.Fatalf("the admin's own session = %d", res.Status)
		}
	})
}
