package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestEachRoomAnswersItsOwnErrors: the portal's errors are pages, the API's
// the JSON envelope, for refusals inside a room's route and for requests no
// route matches alike.
func TestEachRoomAnswersItsOwnErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		api := f.Login("mktmember")
		browser := f.SignIn("mktmember")
		for _, row := range []struct {
			name, method, path string
			status             int
			page               bool   // an HTML page, else the JSON envelope
			code               string // the envelope's code
		}{
			{"unknown page", "GET", "/no-such-page", http.StatusNotFound, true, ""},
			{"page of a hidden object", "GET", "/charges/999999", http.StatusNotFound, true, ""},
			{"page without that method", "GET", "/logout", http.StatusMethodNotAllowed, true, ""},
			{"unknown API route", "GET", "/api/v1/no-such-route", http.StatusNotFound, false, "not_found"},
			{"API object not visible", "GET", "/api/v1/charges/999999", http.StatusNotFound, false, "not_found"},
			{"API route without that method", "PUT", "/api/v1/me", http.StatusMethodNotAllowed, false, "method_not_allowed"},
			{"unknown API route by POST", "POST", "/api/v1/no-such-route", http.StatusNotFound, false, "not_found"},
			{"unknown API version", "GET", "/api/v2/requests", http.StatusNotFound, false, "not_found"},
			{"API route with a parameter, without that method", "DELETE", "/api/v1/requests/1", http.StatusMethodNotAllowed, false, "method_not_allowed"},
			{"operator endpoint under the API without that method", "POST", "/api/v1/healthz", http.StatusMethodNotAllowed, false, "method_not_allowed"},
			{"unknown page by POST", "POST", "/no-such-page", http.StatusNotFound, true, ""},
			{"page with a parameter, without that method", "DELETE", "/requests/1", http.StatusMethodNotAllowed, true, ""},
		} {
			t.Run(row.name, func(t *testing.T) {
				req, err := http.NewRequest(row.method, f.Srv.URL+row.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if row.page {
					p := browser.Do(req)
					if p.Status != row.status || !strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, "Page not found") {
						t.Fatalf("%s %s = %d, want the %d page: %.200s", row.method, row.path, p.Status, row.status, p.Body)
					}
					return
				}
				res := api.Send(req)
				if res.Status != row.status || res.ErrorCode() != row.code {
					t.Fatalf("%s %s = %d %q, want %d %q", row.method, row.path, res.Status, res.ErrorCode(), row.status, row.code)
				}
				if row.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
					t.Errorf("%s %s: 405 without an Allow header", row.method, row.path)
				}
			})
		}
	})
}

// TestUnknownPortalPathSpeaksTheUsersLanguage: the portal's catch-all
// knows who is signed in, so its 404 page is in the user's language, not
// the browser's (the test browser asks for Finnish), and it answers an
// anonymous visitor in the browser's language without asking to sign in.
func TestUnknownPortalPathSpeaksTheUsersLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		b := f.SignIn("mktmember") // locale en
		if p := b.Get("/no-such-page"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Page not found") {
			t.Errorf("unknown page for an English user = %d, not the English 404 page", p.Status)
		}
		if p := webtest.NewBrowser(t, f.Srv.URL).Get("/no-such-page"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Sivua ei löydy") {
			t.Errorf("unknown page for a visitor asking for Finnish = %d, not the Finnish 404 page", p.Status)
		}
		if p := b.Post("/language", url.Values{"back": {"/"}, "locale": {"fi"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("language switch = %d", p.Status)
		}
		p := b.Post("/no-such-page", url.Values{})
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Sivua ei löydy") || strings.Contains(p.Body, "Page not found") {
			t.Errorf("unknown page for a Finnish user = %d, not the Finnish 404 page", p.Status)
		}
	})
}
