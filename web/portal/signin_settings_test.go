package portal_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// Finding (issue 17, item 4): the portal showed a user neither their API
// tokens nor their sessions, and let them end none.
func TestPortalSignInSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		b := f.SignIn("mktmember")
		other := f.SignIn("mktmember")
		page := b.Get("/settings/sign-in")
		if page.Status != http.StatusOK || strings.Count(page.Body, `<tr id="session-`) != 2 {
			t.Fatalf("settings page = %d, want two sessions: %s", page.Status, page.Body)
		}
		if strings.Count(page.Body, `class="badge"`) != 1 {
			t.Fatal("the current session is not marked once")
		}

		if p := b.Post("/settings/sign-in/tokens", url.Values{"name": {"laptop script"}, "expires_in_days": {"999"}}); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a token for 999 days = %d", p.Status)
		}
		created := b.Post("/settings/sign-in/tokens", url.Values{"name": {"laptop script"}, "expires_in_days": {"30"}})
		secret := regexp.MustCompile(`<code>(tsk_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(created.Body)
		if created.Status != http.StatusCreated || secret == nil {
			t.Fatalf("create token = %d, no secret shown: %s", created.Status, created.Body)
		}
		script := webtest.NewClient(t, f.Srv.URL)
		script.Bearer = secret[1]
		if r := script.Call("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
			t.Fatalf("the new token = %d", r.Status)
		}
		again := b.Get("/settings/sign-in")
		if strings.Contains(again.Body, secret[1]) {
			t.Fatal("the secret is shown again")
		}
		tokenID := regexp.MustCompile(`/settings/sign-in/tokens/(\d+)/revoke`).FindStringSubmatch(again.Body)
		if tokenID == nil {
			t.Fatalf("no revoke button: %s", again.Body)
		}
		if p := b.Post("/settings/sign-in/tokens/"+tokenID[1]+"/revoke", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("revoke = %d", p.Status)
		}
		if r := script.Call("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("the revoked token = %d", r.Status)
		}

		// End the other browser's session, then this one's.
		var otherID, ownID string
		for _, m := range regexp.MustCompile(`<tr id="session-([^"]+)">.*?</tr>`).FindAllStringSubmatch(strings.ReplaceAll(b.Get("/settings/sign-in").Body, "\n", " "), -1) {
			if strings.Contains(m[0], `class="badge"`) {
				ownID = m[1]
			} else {
				otherID = m[1]
			}
		}
		if p := b.Post("/settings/sign-in/sessions/"+otherID+"/end", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/settings/sign-in" {
			t.Fatalf("end the other session = %d → %s", p.Status, p.Location)
		}
		if p := other.Get("/settings/sign-in"); p.Status != http.StatusSeeOther {
			t.Fatalf("the other browser after its session ended = %d", p.Status)
		}
		if p := b.Post("/settings/sign-in/sessions/"+ownID+"/end", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/login" {
			t.Fatalf("end the own session = %d → %s", p.Status, p.Location)
		}
		if p := b.Get("/settings/sign-in"); p.Status != http.StatusSeeOther {
			t.Fatalf("after ending the own session = %d", p.Status)
		}
	})
}
