package portal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/sso"
	"github.com/tiski/tiski/sso/ssotest"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

// ssoRig is the fixture's organisation behind a server that signs in
// through a real OpenID provider the test runs.
type ssoRig struct {
	t    *testing.T
	f    *webtest.Fixture
	idp  *ssotest.Provider
	base string
}

var ssoPeople = []ssotest.Person{
	{Subject: "sub-member", Email: "Member@example.org", EmailVerified: true, Name: "Mkt Member"},
	{Subject: "sub-unverified", Email: "agent@example.org", EmailVerified: false, Name: "Not Verified"},
	{Subject: "sub-finance", Email: "finance@example.org", EmailVerified: true, Name: "Finance"},
	{Subject: "sub-new", Email: "newcomer@example.org", EmailVerified: true, Name: "New Comer",
		Groups: []string{"it-agents", "money-people", "unrelated"}},
}

func newSSORig(t *testing.T, d *db.DB, change func(*web.Config)) *ssoRig {
	t.Helper()
	r := &ssoRig{t: t, f: webtest.NewFixture(t, d), idp: ssotest.Start(t, ssoPeople...)}
	srv := httptest.NewUnstartedServer(nil)
	r.base = "http://" + srv.Listener.Addr().String()
	r.idp.SetRedirectURL(r.base + "/auth/oidc/callback")
	cfg := web.Config{SSO: sso.Settings{Issuer: r.idp.Issuer, ClientID: r.idp.ClientID, ClientSecret: r.idp.ClientSecret,
		RedirectURL: r.base + "/auth/oidc/callback", Name: "Acme ID"}}
	if change != nil {
		change(&cfg)
	}
	srv.Config.Handler = webtest.NewServer(t, d, cfg).Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return r
}

// callback walks a new browser through the provider as subject and
// returns it with the callback address the provider sent it back to.
func (r *ssoRig) callback(subject string) (*webtest.Browser, *url.URL) {
	r.t.Helper()
	b := webtest.NewBrowser(r.t, r.base)
	return b, r.idp.Authorize(r.t, b.HTTP, r.base+"/auth/oidc/start?next=%2Fcatalog", subject)
}

// signIn signs subject in and fails unless the browser lands on /catalog.
func (r *ssoRig) signIn(subject string) *webtest.Browser {
	r.t.Helper()
	b, cb := r.callback(subject)
	if p := b.Get(cb.RequestURI()); p.Status != http.StatusSeeOther || p.Location != "/catalog" {
		r.t.Fatalf("callback of %s = %d → %q, want 303 → /catalog: %s", subject, p.Status, p.Location, p.Body)
	}
	return b
}

func (r *ssoRig) count(table, where string, args ...any) int {
	r.t.Helper()
	n, err := r.f.DB.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return int(n)
}

func (r *ssoRig) refusals(reason string) int {
	return r.count("audit_events", "object_type = 'sso_sign_in' AND action = 'refuse' AND after_json LIKE ?", "%\""+reason+"\"%")
}

func TestSSOSignInByEmailThenBySubject(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newSSORig(t, d, nil)
		login := webtest.NewBrowser(t, r.base).Get("/login")
		if !strings.Contains(login.Body, `id="sso-start"`) || !strings.Contains(login.Body, "Kirjaudu palvelulla Acme ID") {
			t.Fatalf("the login page offers no sign-in with the provider: %s", login.Body)
		}
		b := r.signIn("sub-member")
		if p := b.Get("/catalog"); p.Status != http.StatusOK || !strings.Contains(p.Body, "member") {
			t.Fatalf("catalog after SSO = %d: %s", p.Status, p.Body)
		}
		if n := r.count("sso_identities", "subject = 'sub-member' AND user_id = ?", r.f.Users["mktmember"]); n != 1 {
			t.Fatalf("links of mktmember = %d, want 1", n)
		}
		if n := r.count("sessions", "user_id = ? AND method = ?", r.f.Users["mktmember"], auth.MethodSSO); n != 1 {
			t.Fatalf("SSO sessions = %d, want 1", n)
		}
		// Once linked, the subject finds the user though the provider now
		// names another, unverified address.
		r.idp.Add(ssotest.Person{Subject: "sub-member", Email: "someone.else@example.net", Name: "Renamed"})
		r.signIn("sub-member")
		if n := r.count("sessions", "user_id = ? AND method = ?", r.f.Users["mktmember"], auth.MethodSSO); n != 2 {
			t.Fatalf("SSO sessions = %d, want 2", n)
		}
		if n := r.count("audit_events", "action = 'sso_link'"); n != 1 {
			t.Fatalf("link events = %d, want 1", n)
		}
		// Another subject with the linked user's verified e-mail is not let in
		// as them, and a disabled user is not let in at all.
		r.idp.Add(ssotest.Person{Subject: "sub-impostor", Email: "member@example.org", EmailVerified: true, Name: "Impostor"})
		b2, cb := r.callback("sub-impostor")
		if p := b2.Get(cb.RequestURI()); p.Status != http.StatusConflict || r.refusals(sso.ReasonLinked) != 1 {
			t.Fatalf("a second subject for a linked user = %d: %s", p.Status, p.Body)
		}
		disabled := true
		if err := d.InTx(context.Background(), func(tx bun.Tx) error {
			_, err := units.UpdateUser(context.Background(), tx, 0, r.f.Users["mktmember"], units.UserChange{Disabled: &disabled})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b3, cb := r.callback("sub-member")
		if p := b3.Get(cb.RequestURI()); p.Status != http.StatusForbidden || r.refusals(sso.ReasonDisabled) != 1 {
			t.Fatalf("a disabled user's callback = %d: %s", p.Status, p.Body)
		}
	})
}

func TestSSOMoneyRoleUserSkipsTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newSSORig(t, d, nil)
		b := r.signIn("sub-finance")
		if p := b.Get("/catalog"); p.Status != http.StatusOK {
			t.Fatalf("a finance user signed in through SSO was asked for more: %d → %s", p.Status, p.Location)
		}
	})
}

func TestSSOUnverifiedEmailAndJITOff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newSSORig(t, d, nil)
		users := r.f.Count("users")
		for _, subject := range []string{"sub-unverified", "sub-new"} {
			b, cb := r.callback(subject)
			p := b.Get(cb.RequestURI())
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Sinulla ei ole Tiski-tiliä") {
				t.Fatalf("%s: callback = %d, want 403 with the Finnish refusal: %s", subject, p.Status, p.Body)
			}
		}
		if r.f.Count("users") != users || r.f.Count("sessions") != 0 || r.f.Count("sso_identities") != 0 {
			t.Fatal("a refused sign-in changed something")
		}
		if n := r.refusals(sso.ReasonNoAccount); n != 2 {
			t.Fatalf("audited refusals = %d, want 2", n)
		}
	})
}

func TestSSOJustInTimeAndGroups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newSSORig(t, d, func(c *web.Config) {
			c.SSO.JIT = true
			var err error
			if c.SSO.Groups, err = sso.ParseGroups("it-agents=IT:agent, money-people=finance, it-agents=MKT:member, gone=NOPE:member"); err != nil {
				t.Fatal(err)
			}
		})
		r.signIn("sub-new")
		u, err := units.GetUserByEmail(context.Background(), d, "newcomer@example.org")
		if err != nil {
			t.Fatalf("no user was created just in time: %v", err)
		}
		if u.Name != "New Comer" || u.PasswordHash != "" {
			t.Fatalf("created %+v", u)
		}
		roles, err := units.UnitRolesOf(context.Background(), d, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range roles {
			got = append(got, g.Role+"@"+webtest.ID(g.UnitID))
		}
		want := []string{"agent@" + webtest.ID(r.f.Units["IT"]), "member@" + webtest.ID(r.f.Units["MKT"])}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("unit roles = %v, want %v", got, want)
		}
		org, err := units.OrgRolesOf(context.Background(), d, u.ID)
		if err != nil || len(org) != 0 {
			t.Fatalf("a group claim granted organisation roles %v (%v)", org, err)
		}
		if n := r.count("audit_events", "action = 'sso_role_claim' AND object_id = ?", webtest.ID(u.ID)); n != 1 {
			t.Fatalf("role claim events = %d, want 1", n)
		}
		// The next sign-in grants nothing twice.
		r.signIn("sub-new")
		if n := r.count("unit_roles", "user_id = ?", u.ID); n != 2 {
			t.Fatalf("unit roles after a second sign-in = %d, want 2", n)
		}
	})
}

func TestSSOForgedCallbacksAreRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newSSORig(t, d, nil)
		refuse := func(name string, b *webtest.Browser, target string, status int, reason, finnish string) {
			t.Helper()
			sessions, before := r.f.Count("sessions"), r.refusals(reason)
			p := b.Get(target)
			if p.Status != status || !strings.Contains(p.Body, finnish) {
				t.Fatalf("%s: callback = %d, want %d with %q: %s", name, p.Status, status, finnish, p.Body)
			}
			if r.f.Count("sessions") != sessions {
				t.Fatalf("%s: a session was started", name)
			}
			if r.refusals(reason) != before+1 {
				t.Fatalf("%s: the refusal was not audited", name)
			}
		}
		for _, c := range []struct {
			name    string
			forgery ssotest.Forgery
			reason  string
			finnish string
		}{
			{"wrong nonce", ssotest.WrongNonce, sso.ReasonNonce, "kuuluu toiseen kirjautumiseen"},
			{"expired token", ssotest.Expired, sso.ReasonExpired, "on vanhentunut"},
			{"foreign audience", ssotest.ForeignAudience, sso.ReasonToken, "ei voitu varmentaa"},
			{"alg none", ssotest.AlgNone, sso.ReasonToken, "ei voitu varmentaa"},
			{"foreign key", ssotest.ForeignKey, sso.ReasonToken, "ei voitu varmentaa"},
		} {
			r.idp.Forge(c.forgery)
			b, cb := r.callback("sub-member")
			refuse(c.name, b, cb.RequestURI(), http.StatusUnauthorized, c.reason, c.finnish)
		}
		r.idp.Forge(ssotest.Honest)

		b, cb := r.callback("sub-member")
		q := cb.Query()
		q.Set("state", "a-state-nobody-started")
		refuse("wrong state", b, cb.Path+"?"+q.Encode(), http.StatusBadRequest, sso.ReasonState, "ei aloitettu täällä")
		refuse("duplicated parameter", b, cb.RequestURI()+"&state=again", http.StatusBadRequest, sso.ReasonMalformed, "ei voitu lukea")

		_, cb = r.callback("sub-member")
		stranger := webtest.NewBrowser(t, r.base)
		refuse("another browser", stranger, cb.RequestURI(), http.StatusBadRequest, sso.ReasonState, "ei aloitettu täällä")

		b, cb = r.callback("sub-member")
		if p := b.Get(cb.RequestURI()); p.Status != http.StatusSeeOther {
			t.Fatalf("honest callback = %d: %s", p.Status, p.Body)
		}
		replay := webtest.NewBrowser(t, r.base)
		replay.HTTP.Jar = b.HTTP.Jar
		refuse("replay", replay, cb.RequestURI(), http.StatusBadRequest, sso.ReasonState, "ei aloitettu täällä")

		b, cb = r.callback("sub-member")
		q = cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		refuse("provider error", b, cb.Path+"?"+q.Encode(), http.StatusUnauthorized, sso.ReasonProviderError, "ei kirjannut sinua sisään")

		// The auditor reads the refusals in words.
		trail := r.f.SignIn("auditor").Get("/audit?object_type=sso_sign_in")
		if trail.Status != http.StatusOK || !(strings.Contains(trail.Body, "single sign-on") || strings.Contains(trail.Body, "kertakirjautuminen")) ||
			!(strings.Contains(trail.Body, "has expired") || strings.Contains(trail.Body, "on vanhentunut")) {
			t.Fatalf("the audit trail does not tell the SSO refusals: %d %s", trail.Status, trail.Body)
		}
	})
}

func TestSSOLocalLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		off := newSSORig(t, d, func(c *web.Config) { c.LocalLogin = auth.LocalLoginOff })
		b := webtest.NewBrowser(t, off.base)
		if p := b.Get("/login"); strings.Contains(p.Body, `name="password"`) || !strings.Contains(p.Body, `id="sso-start"`) {
			t.Fatalf("with local login off the login page still asks for a password: %s", p.Body)
		}
		for _, who := range []string{"member", "admin"} {
			p := b.Post("/login", url.Values{"email": {who + "@example.org"}, "password": {webtest.TestPassword}})
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "kertakirjautumisella") {
				t.Fatalf("%s signed in with a password while local login is off: %d %s", who, p.Status, p.Body)
			}
		}
		api := webtest.NewClient(t, off.base)
		if res := api.Call("POST", "/api/v1/session", map[string]string{"email": "member@example.org", "password": webtest.TestPassword}); res.Status != http.StatusForbidden {
			t.Fatalf("API password sign-in with local login off = %d", res.Status)
		}
		if off.f.Count("sessions") != 0 {
			t.Fatal("a refused password sign-in started a session")
		}
		off.signIn("sub-member")

		admins := newSSORig(t, dbtest.Open(t, d.Engine), func(c *web.Config) { c.LocalLogin = auth.LocalLoginAdmins })
		b = webtest.NewBrowser(t, admins.base)
		if p := b.Post("/login", url.Values{"email": {"member@example.org"}, "password": {webtest.TestPassword}}); p.Status != http.StatusForbidden {
			t.Fatalf("a member signed in with a password while only admins may: %d", p.Status)
		}
		if p := b.Post("/login", url.Values{"email": {"admin@example.org"}, "password": {webtest.TestPassword}}); p.Status != http.StatusOK || webtest.ChallengeOf(p) == "" {
			t.Fatalf("the break-glass admin was not asked for a code: %d %s", p.Status, p.Body)
		}
	})
}
