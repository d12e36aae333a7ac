package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tiski/tiski/sso/ssotest"
)

// TestSingleSignOnInTheBrowser: with `tiski serve` pointed at an OpenID
// provider the test runs, Leena clicks "Sign in with Acme ID" on the login
// page, picks herself on the provider's own sign-in page, and comes back
// signed in to the catalog, with no Tiski password typed; Sanna (finance)
// does the same and is asked for no TOTP code, since the provider's own
// factor counts.
func TestSingleSignOnInTheBrowser(t *testing.T) {
	browser := newAllocator(t)
	idp := ssotest.Start(t,
		ssotest.Person{Subject: "leena-at-acme", Email: "leena@journey.example", EmailVerified: true, Name: "Leena Lehtonen"},
	)
	addr := freeAddr(t)
	idp.SetRedirectURL("http://" + addr + "/auth/oidc/callback")
	srv := startServerOn(t, addr, "--oidc-issuer", idp.Issuer, "--oidc-client-id", idp.ClientID,
		"--oidc-client-secret", idp.ClientSecret, "--oidc-redirect-url", "http://"+addr+"/auth/oidc/callback",
		"--oidc-name", "Acme ID", "--local-login", "admins")
	srv.setUpOrganisation()
	sh := newShots(t)

	for _, who := range []struct{ subject, email, name string }{
		{"leena-at-acme", "leena@journey.example", "Leena Lehtonen"},
		{"sanna-at-acme", "sanna@journey.example", "Sanna Korhonen"},
	} {
		idp.Add(ssotest.Person{Subject: who.subject, Email: who.email, EmailVerified: true, Name: who.name})
		p := srv.open(t, browser, who.name, sh)
		p.visit("/login?next=%2Fcatalog")
		p.sees("main", "Sign in with Acme ID")
		if who.subject == "leena-at-acme" {
			p.snap("sso-login")
		}
		p.submit("#sso-start")
		if !strings.HasPrefix(value(p, chromedp.Evaluate[string](`location.href`)), idp.Issuer+"/login") {
			t.Fatalf("%s was not sent to the provider: %s", who.name, p.path())
		}
		p.do(chromedp.SetValue(chromedp.CSS("#subject"), who.subject))
		p.submit("#provider-sign-in")
		if path := p.path(); path != "/catalog" {
			t.Fatalf("%s landed on %s after the provider, want /catalog: %s", who.name, path, p.text("body"))
		}
		p.sees("body", who.name)
	}
}
