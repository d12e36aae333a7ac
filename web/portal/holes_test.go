package portal_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// Finding (issue 17, item 5): next=/%09/evil.example after sign-in
// redirected off-site, since browsers drop the tab and read "//evil.example".
func TestSignInNextStaysOnSite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		for _, next := range []string{"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "//evil.example",
			"/\\evil.example", "\\\\evil.example", "https://evil.example", "http:/evil.example", "evil.example", "/\x7f/evil.example"} {
			b := webtest.NewBrowser(t, f.Srv.URL)
			p := b.Post("/login", url.Values{"email": {"member@example.org"}, "password": {webtest.TestPassword}, "next": {next}})
			if p.Status != http.StatusSeeOther || p.Location != "/" {
				t.Errorf("next %q: %d → %q, want / ", next, p.Status, p.Location)
			}
		}
		b := webtest.NewBrowser(t, f.Srv.URL)
		if p := b.Post("/login", url.Values{"email": {"member@example.org"}, "password": {webtest.TestPassword}, "next": {"/requests?status=open"}}); p.Location != "/requests?status=open" {
			t.Errorf("a local next = %q", p.Location)
		}
		// The same rule holds for the language switch's back.
		b.Get("/")
		if p := b.Post("/language", url.Values{"locale": {"fi"}, "back": {"/\t/evil.example"}}); p.Status != http.StatusSeeOther || p.Location != "/" {
			t.Errorf("back with a tab: %d → %q", p.Status, p.Location)
		}
	})
}

// Finding (issue 17, item 5): authenticated pages carried no Cache-Control,
// so a shared browser's back button or a proxy could show them again.
func TestPortalPagesAreNotStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		b := f.SignIn("mktmember")
		for _, path := range []string{"/", "/catalog", "/requests", "/settings/sign-in", "/requests/999999"} {
			req, _ := http.NewRequest("GET", f.Srv.URL+path, nil)
			res, err := b.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s (%d): Cache-Control %q, want no-store", path, res.StatusCode, got)
			}
		}
	})
}
