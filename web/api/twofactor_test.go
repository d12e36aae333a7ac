package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web/webtest"
)

// newMoneyUser makes a finance user with the fixture's password who has
// not enrolled an authenticator app.
func newMoneyUser(t *testing.T, f *webtest.Fixture, name string) {
	t.Helper()
	f.AddPerson(name, testkit.Grant{Role: "finance"})
}

func countEvents(t *testing.T, d *db.DB, action string, userID int64) int {
	t.Helper()
	var n int
	if err := d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE object_type = 'second_factor' AND action = ? AND object_id = ?",
		action, webtest.ID(userID)).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Issue 17, item 2: a money-role user who signs in with a password must
// enrol an authenticator app before reaching anything else, then gives a
// code at each sign-in; a code is good once, recovery codes once each.
func TestMoneyRolesSignInWithASecondFactor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		newMoneyUser(t, f, "fin3")
		login := map[string]string{"email": "fin3@example.org", "password": webtest.TestPassword}
		var secret string
		var recovery []string

		t.Run("before enrolling, the session reaches only the enrolment", func(t *testing.T) {
			c := webtest.NewClient(t, f.Srv.URL)
			res := c.Call("POST", "/api/v1/session", login)
			if res.Status != http.StatusOK || res.JSON["second_factor_enrolment_required"] != true {
				t.Fatalf("first sign-in = %d %s", res.Status, res.Body)
			}
			c.CSRF = res.Str("csrf_token")
			if res := c.Call("GET", "/api/v1/charges", nil); res.Status != http.StatusForbidden || res.ErrorCode() != "second_factor_required" {
				t.Fatalf("charges before enrolling = %d %s", res.Status, res.Body)
			}
			if res := c.Call("GET", "/api/v1/me/two-factor", nil); res.Status != http.StatusOK || res.JSON["required"] != true ||
				res.JSON["enrolled"] != false || res.JSON["owed"] != true {
				t.Fatalf("status = %d %s", res.Status, res.Body)
			}
			begun := c.Call("POST", "/api/v1/me/two-factor", nil)
			secret = begun.Str("secret")
			if begun.Status != http.StatusCreated || secret == "" || !strings.HasPrefix(begun.Str("otpauth_uri"), "otpauth://totp/Tiski:fin3@example.org?") {
				t.Fatalf("begin = %d %s", begun.Status, begun.Body)
			}
			if res := c.Call("POST", "/api/v1/me/two-factor/confirm", map[string]string{"code": "000000"}); res.Status != http.StatusUnauthorized || res.ErrorCode() != "second_factor_wrong" {
				t.Fatalf("confirm with a wrong code = %d %s", res.Status, res.Body)
			}
			if enrolled, _ := auth.Enrolled(t.Context(), d, f.Users["fin3"]); enrolled {
				t.Fatal("a wrong code enrolled")
			}
			code, _ := auth.Code(secret, time.Now())
			res = c.Call("POST", "/api/v1/me/two-factor/confirm", map[string]string{"code": code})
			if res.Status != http.StatusOK {
				t.Fatalf("confirm = %d %s", res.Status, res.Body)
			}
			for _, x := range res.JSON["recovery_codes"].([]any) {
				recovery = append(recovery, x.(string))
			}
			if len(recovery) != auth.RecoveryCodeCount {
				t.Fatalf("recovery codes = %v", recovery)
			}
			if res := c.Call("GET", "/api/v1/charges", nil); res.Status != http.StatusOK {
				t.Fatalf("charges after enrolling = %d %s", res.Status, res.Body)
			}
			if n := countEvents(t, d, "enrol", f.Users["fin3"]); n != 1 {
				t.Fatalf("enrolment events = %d", n)
			}
			if n := countEvents(t, d, "refuse", f.Users["fin3"]); n != 1 {
				t.Fatalf("refusal events for the wrong code = %d", n)
			}
		})

		t.Run("a password alone now answers with a challenge, no session", func(t *testing.T) {
			c := webtest.NewClient(t, f.Srv.URL)
			res := c.Call("POST", "/api/v1/session", login)
			if res.Status != http.StatusAccepted || res.JSON["second_factor_required"] != true || res.Str("challenge") == "" ||
				strings.Contains(res.Header.Get("Set-Cookie"), "tiski_session=") {
				t.Fatalf("sign-in = %d %s (cookie %q)", res.Status, res.Body, res.Header.Get("Set-Cookie"))
			}
			if res := c.Call("GET", "/api/v1/me", nil); res.Status != http.StatusUnauthorized {
				t.Fatalf("me with a challenge only = %d", res.Status)
			}
		})

		// Finding: a TOTP code reused in its window must be refused. The
		// enrolment above used the code of this step, so the same code is
		// refused now; and a recovery code signs in once.
		t.Run("a code reused in its window is refused and audited", func(t *testing.T) {
			c := webtest.NewClient(t, f.Srv.URL)
			challenge := c.Call("POST", "/api/v1/session", login).Str("challenge")
			refusals := countEvents(t, d, "refuse", f.Users["fin3"])
			sessions := f.Count("sessions")
			used, _ := auth.Code(secret, time.Now())
			res := c.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": challenge, "code": used})
			// If the enrolment's 30 seconds have passed meanwhile, the
			// current code is a fresh one and signs in: then it is the
			// used one, and the next sign-in reuses it.
			if res.Status == http.StatusOK {
				c = webtest.NewClient(t, f.Srv.URL)
				challenge = c.Call("POST", "/api/v1/session", login).Str("challenge")
				sessions = f.Count("sessions")
				res = c.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": challenge, "code": used})
			}
			if res.Status != http.StatusUnauthorized || res.ErrorCode() != "second_factor_reused" {
				t.Fatalf("reused code = %d %s", res.Status, res.Body)
			}
			if f.Count("sessions") != sessions {
				t.Fatal("a reused code started a session")
			}
			if n := countEvents(t, d, "refuse", f.Users["fin3"]); n <= refusals {
				t.Fatal("the reused code was not recorded")
			}
			res = c.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": challenge, "code": strings.ToUpper(recovery[0])})
			if res.Status != http.StatusOK || res.Str("csrf_token") == "" {
				t.Fatalf("recovery code = %d %s", res.Status, res.Body)
			}
			if res := c.Call("GET", "/api/v1/charges", nil); res.Status != http.StatusOK {
				t.Fatalf("charges after a recovery code = %d", res.Status)
			}
			again := webtest.NewClient(t, f.Srv.URL)
			challenge = again.Call("POST", "/api/v1/session", login).Str("challenge")
			if res := again.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": challenge, "code": recovery[0]}); res.Status != http.StatusUnauthorized || res.ErrorCode() != "second_factor_wrong" {
				t.Fatalf("a used recovery code again = %d %s", res.Status, res.Body)
			}
		})

		t.Run("a challenge takes five codes, then is gone", func(t *testing.T) {
			c := webtest.NewClient(t, f.Srv.URL)
			challenge := c.Call("POST", "/api/v1/session", login).Str("challenge")
			for range 5 {
				c.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": challenge, "code": "999999"})
			}
			res := c.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": challenge, "code": recovery[1]})
			if res.Status != http.StatusUnauthorized || res.ErrorCode() != "challenge_expired" {
				t.Fatalf("sixth code = %d %s", res.Status, res.Body)
			}
			if res := c.Call("POST", "/api/v1/session/second-factor", map[string]string{"challenge": "forged", "code": recovery[1]}); res.Status != http.StatusUnauthorized || res.ErrorCode() != "challenge_expired" {
				t.Fatalf("forged challenge = %d %s", res.Status, res.Body)
			}
		})

		t.Run("users without a money role sign in with a password alone", func(t *testing.T) {
			res := webtest.NewClient(t, f.Srv.URL).Call("POST", "/api/v1/session", map[string]string{"email": "itmanager@example.org", "password": webtest.TestPassword})
			if res.Status != http.StatusOK || res.JSON["second_factor_enrolment_required"] != nil {
				t.Fatalf("manager sign-in = %d %s", res.Status, res.Body)
			}
		})
	})
}
