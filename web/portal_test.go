package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// browser is a cookie-keeping client that does not follow redirects, so
// tests see where each form sends the user.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

type page struct {
	status   int
	location string
	body     string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	req.Header.Set("Accept-Language", "fi-FI,fi;q=0.9")
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if b.csrf != "" && form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fi-FI,fi;q=0.9")
	return b.do(req)
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	p := page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(raw)}
	if m := csrfField.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (f *fixture) signIn(name string) *browser {
	f.t.Helper()
	b := newBrowser(f.t, f.srv.URL)
	p := b.post("/login", url.Values{"email": {name + "@example.org"}, "password": {testPassword}, "next": {"/catalog"}})
	if p.status != http.StatusSeeOther || p.location != "/catalog" {
		f.t.Fatalf("sign in as %s: %d → %s", name, p.status, p.location)
	}
	b.get("/") // pick up the CSRF token
	return b
}

func TestPortalSignInAndOut(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	b := newBrowser(t, f.srv.URL)
	if p := b.get("/requests?status=open"); p.status != http.StatusSeeOther || p.location != "/login?next=%2Frequests%3Fstatus%3Dopen" {
		t.Fatalf("anonymous page = %d → %s", p.status, p.location)
	}
	p := b.get("/login")
	if p.status != http.StatusOK || !strings.Contains(p.body, `lang="fi"`) || !strings.Contains(p.body, "Kirjaudu") {
		t.Fatalf("login page in Finnish: %d", p.status)
	}
	p = b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {"wrong password!"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Sähköposti tai salasana on väärin") || !strings.Contains(p.body, `value="admin@example.org"`) {
		t.Fatalf("failed login = %d", p.status)
	}
	p = b.post("/login", url.Values{"email": {"admin@example.org"}, "password": {testPassword}, "next": {"//evil.example/"}})
	if p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("login with a foreign next = %d → %s", p.status, p.location)
	}
	if p := b.get("/"); p.status != http.StatusOK || !strings.Contains(p.body, "admin") {
		t.Fatalf("home = %d", p.status)
	}
	if p := b.post("/logout", url.Values{"csrf_token": {"forged"}}); p.status != http.StatusForbidden {
		t.Fatalf("logout with a forged token = %d", p.status)
	}
	if p := b.post("/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout = %d", p.status)
	}
	if p := b.get("/"); p.status != http.StatusSeeOther {
		t.Fatalf("after logout = %d", p.status)
	}
}

func TestPortalOrderAndWork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mgr := f.login("itmgr")
		res := mgr.call("POST", "/api/v1/services", map[string]any{"provider_unit_id": id(f.units["IT"]), "code": "MON", "name": "Monitor",
			"pricing_model": "per_unit", "unit_label": "monitor", "price": map[string]any{"amount_minor": 28900, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.status != http.StatusCreated {
			t.Fatal(res.status, string(res.body))
		}
		svc := "/catalog/" + res.str("id")
		member := f.signIn("mktmember")
		p := member.get(svc)
		if p.status != http.StatusOK || !strings.Contains(p.body, "€289.00") {
			t.Fatalf("service page = %d (the user's English locale wins over the browser's)", p.status)
		}
		// A bad quantity comes back beside the field, with what was typed.
		p = member.post(svc, url.Values{"consumer_unit_id": {id(f.units["MKT"])}, "title": {"Two screens <b>now</b>"}, "quantity": {"-2"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) ||
			!strings.Contains(p.body, "Two screens &lt;b&gt;now&lt;/b&gt;") {
			t.Fatalf("refused order = %d", p.status)
		}
		if f.count("requests") != 0 {
			t.Fatal("a refused order was filed")
		}
		p = member.post(svc, url.Values{"consumer_unit_id": {id(f.units["MKT"])}, "title": {"Two screens"}, "quantity": {"2"}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/requests/") {
			t.Fatalf("order = %d → %s", p.status, p.location)
		}
		reqPath := p.location
		if p := member.get(reqPath); !strings.Contains(p.body, "€578.00") || !strings.Contains(p.body, `role="status"`) {
			t.Fatalf("request page after ordering lacks the estimate or the flash message")
		}
		// Another unit's member gets a 404 page, not the request.
		if p := f.signIn("itagent").get("/requests/999999"); p.status != http.StatusNotFound || !strings.Contains(p.body, "<h1>") {
			t.Fatalf("missing request page = %d", p.status)
		}
		stranger := f.signIn("nobody")
		if p := stranger.get(reqPath); p.status != http.StatusNotFound || strings.Contains(p.body, "Two screens") {
			t.Fatalf("a stranger saw the request: %d", p.status)
		}
		// The agent resolves: without the script a confirmation page asks first.
		agent := f.signIn("itagent")
		for _, action := range []string{"start"} {
			if p := agent.post(reqPath+"/act", url.Values{"action": {action}, "version": {"1"}}); p.status != http.StatusSeeOther {
				t.Fatalf("%s = %d", action, p.status)
			}
		}
		p = agent.post(reqPath+"/act", url.Values{"action": {"resolve"}, "version": {"2"}})
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="confirm" value="yes"`) || f.count("charges") != 0 {
			t.Fatalf("resolve without confirmation = %d, charges %d", p.status, f.count("charges"))
		}
		// A stale form says so and offers to reload.
		if p := agent.post(reqPath+"/act", url.Values{"action": {"resolve"}, "version": {"1"}, "confirm": {"yes"}}); p.status != http.StatusConflict || !strings.Contains(p.body, `href="`+reqPath+`"`) {
			t.Fatalf("stale resolve = %d", p.status)
		}
		if p := agent.post(reqPath+"/act", url.Values{"action": {"resolve"}, "version": {"2"}, "confirm": {"yes"}}); p.status != http.StatusSeeOther {
			t.Fatalf("confirmed resolve = %d", p.status)
		}
		if f.count("charges") != 1 {
			t.Fatalf("charges after resolve = %d", f.count("charges"))
		}
		// Comments never run as HTML; the requester rates once.
		if p := member.post(reqPath+"/comments", url.Values{"body": {"<script>alert(1)</script>\n\n**thanks** <img src=x onerror=alert(2)>"}}); p.status != http.StatusSeeOther {
			t.Fatalf("comment = %d", p.status)
		}
		p = member.get(reqPath)
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "onerror") || !strings.Contains(p.body, "<strong>thanks</strong>") {
			t.Fatal("comment rendering is unsafe or lost its Markdown")
		}
		if p := member.post(reqPath+"/rate", url.Values{"rating": {"9"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("rating 9 = %d", p.status)
		}
		if p := member.post(reqPath+"/rate", url.Values{"rating": {"5"}, "comment": {"quick"}}); p.status != http.StatusSeeOther {
			t.Fatalf("rating = %d", p.status)
		}
		if p := member.get(reqPath); !strings.Contains(p.body, "5 / 5") || strings.Contains(p.body, `name="rating"`) {
			t.Fatal("the rating is not shown, or the form is still offered")
		}
	})
}

func TestPortalLanguageSwitch(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	b := f.signIn("mktmember") // locale en
	if p := b.get("/catalog"); !strings.Contains(p.body, "Service catalog") {
		t.Fatal("English catalog expected for an en user, whatever the browser says")
	}
	if p := b.post("/language", url.Values{"back": {"/catalog"}}); p.status != http.StatusSeeOther || p.location != "/catalog" {
		t.Fatalf("switch = %d → %s", p.status, p.location)
	}
	if p := b.get("/catalog"); !strings.Contains(p.body, "Palveluluettelo") {
		t.Fatal("Finnish catalog expected after switching")
	}
}
