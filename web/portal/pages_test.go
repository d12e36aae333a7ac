package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func TestPortalSignInAndOut(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	b := webtest.NewBrowser(t, f.Srv.URL)
	if p := b.Get("/requests?status=open"); p.Status != http.StatusSeeOther || p.Location != "/login?next=%2Frequests%3Fstatus%3Dopen" {
		t.Fatalf("anonymous page = %d → %s", p.Status, p.Location)
	}
	p := b.Get("/login")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `lang="fi"`) || !strings.Contains(p.Body, "Kirjaudu") {
		t.Fatalf("login page in Finnish: %d", p.Status)
	}
	p = b.Post("/login", url.Values{"email": {"admin@example.org"}, "password": {"wrong password!"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Sähköposti tai salasana on väärin") || !strings.Contains(p.Body, `value="admin@example.org"`) {
		t.Fatalf("failed login = %d", p.Status)
	}
	p = f.CompleteBrowserSignIn(b, "admin", b.Post("/login", url.Values{"email": {"admin@example.org"}, "password": {webtest.TestPassword}, "next": {"//evil.example/"}}), "//evil.example/")
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("login with a foreign next = %d → %s", p.Status, p.Location)
	}
	if p := b.Get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, "admin") {
		t.Fatalf("home = %d", p.Status)
	}
	if p := b.Post("/logout", url.Values{"csrf_token": {"forged"}}); p.Status != http.StatusForbidden {
		t.Fatalf("logout with a forged token = %d", p.Status)
	}
	if p := b.Post("/logout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("logout = %d", p.Status)
	}
	if p := b.Get("/"); p.Status != http.StatusSeeOther {
		t.Fatalf("after logout = %d", p.Status)
	}
}

func TestPortalOrderAndWork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		mgr := f.Login("itmgr")
		res := mgr.Call("POST", "/api/v1/services", map[string]any{"provider_unit_id": webtest.ID(f.Units["IT"]), "code": "MON", "name": "Monitor",
			"pricing_model": "per_unit", "unit_label": "monitor", "price": map[string]any{"amount_minor": 28900, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.Status != http.StatusCreated {
			t.Fatal(res.Status, string(res.Body))
		}
		svc := "/catalog/" + res.Str("id")
		member := f.SignIn("mktmember")
		p := member.Get(svc)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "€289.00") {
			t.Fatalf("service page = %d (the user's English locale wins over the browser's)", p.Status)
		}
		// A bad quantity comes back beside the field, with what was typed.
		p = member.Post(svc, url.Values{"consumer_unit_id": {webtest.ID(f.Units["MKT"])}, "title": {"Two screens <b>now</b>"}, "quantity": {"-2"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) ||
			!strings.Contains(p.Body, "Two screens &lt;b&gt;now&lt;/b&gt;") {
			t.Fatalf("refused order = %d", p.Status)
		}
		if f.Count("requests") != 0 {
			t.Fatal("a refused order was filed")
		}
		p = member.Post(svc, url.Values{"consumer_unit_id": {webtest.ID(f.Units["MKT"])}, "title": {"Two screens"}, "quantity": {"2"}})
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/requests/") {
			t.Fatalf("order = %d → %s", p.Status, p.Location)
		}
		reqPath := p.Location
		if p := member.Get(reqPath); !strings.Contains(p.Body, "€578.00") || !strings.Contains(p.Body, `role="status"`) {
			t.Fatalf("request page after ordering lacks the estimate or the flash message")
		}
		// Another unit's member gets a 404 page, not the request.
		if p := f.SignIn("itagent").Get("/requests/999999"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "<h1>") {
			t.Fatalf("missing request page = %d", p.Status)
		}
		stranger := f.SignIn("nobody")
		if p := stranger.Get(reqPath); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Two screens") {
			t.Fatalf("a stranger saw the request: %d", p.Status)
		}
		// The agent resolves: without the script a confirmation page asks first.
		agent := f.SignIn("itagent")
		for _, action := range []string{"start"} {
			if p := agent.Post(reqPath+"/act", url.Values{"action": {action}, "version": {"1"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("%s = %d", action, p.Status)
			}
		}
		p = agent.Post(reqPath+"/act", url.Values{"action": {"resolve"}, "version": {"2"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="confirm" value="yes"`) || f.Count("charges") != 0 {
			t.Fatalf("resolve without confirmation = %d, charges %d", p.Status, f.Count("charges"))
		}
		// A stale form says so and offers to reload.
		if p := agent.Post(reqPath+"/act", url.Values{"action": {"resolve"}, "version": {"1"}, "confirm": {"yes"}}); p.Status != http.StatusConflict || !strings.Contains(p.Body, `href="`+reqPath+`"`) {
			t.Fatalf("stale resolve = %d", p.Status)
		}
		if p := agent.Post(reqPath+"/act", url.Values{"action": {"resolve"}, "version": {"2"}, "confirm": {"yes"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("confirmed resolve = %d", p.Status)
		}
		if f.Count("charges") != 1 {
			t.Fatalf("charges after resolve = %d", f.Count("charges"))
		}
		// Comments never run as HTML; the requester rates once.
		if p := member.Post(reqPath+"/comments", url.Values{"body": {"<script>alert(1)</script>\n\n**thanks** <img src=x onerror=alert(2)>"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("comment = %d", p.Status)
		}
		p = member.Get(reqPath)
		if strings.Contains(p.Body, "<script>alert") || strings.Contains(p.Body, "onerror") || !strings.Contains(p.Body, "<strong>thanks</strong>") {
			t.Fatal("comment rendering is unsafe or lost its Markdown")
		}
		if p := member.Post(reqPath+"/rate", url.Values{"rating": {"9"}}); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("rating 9 = %d", p.Status)
		}
		if p := member.Post(reqPath+"/rate", url.Values{"rating": {"5"}, "comment": {"quick"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("rating = %d", p.Status)
		}
		if p := member.Get(reqPath); !strings.Contains(p.Body, "5 / 5") || strings.Contains(p.Body, `name="rating"`) {
			t.Fatal("the rating is not shown, or the form is still offered")
		}
	})
}

func TestPortalLanguageSwitch(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	b := f.SignIn("mktmember") // locale en
	if p := b.Get("/catalog"); !strings.Contains(p.Body, "Service catalog") {
		t.Fatal("English catalog expected for an en user, whatever the browser says")
	}
	if p := b.Post("/language", url.Values{"back": {"/catalog"}, "locale": {"fi"}}); p.Status != http.StatusSeeOther || p.Location != "/catalog" {
		t.Fatalf("switch = %d → %s", p.Status, p.Location)
	}
	if p := b.Get("/catalog"); !strings.Contains(p.Body, "Palveluluettelo") {
		t.Fatal("Finnish catalog expected after switching")
	}
}
