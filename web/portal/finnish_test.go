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

// inFinnish makes the browser's user a Finnish-locale user, as the
// language switch stores it.
func inFinnish(t *testing.T, b *webtest.Browser) {
	t.Helper()
	if p := b.Post("/language", url.Values{"back": {"/"}, "locale": {"fi"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("language switch = %d", p.Status)
	}
}

// fieldError is the message shown beside one field of a form.
func fieldError(t *testing.T, body, field string) string {
	t.Helper()
	re := regexp.MustCompile(`id="` + field + `"[^>]*>(?:</textarea>)?\s*<span class="field-error" role="alert">([^<]*)</span>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no message beside %s", field)
	}
	return m[1]
}

func TestPortalFinnishRequestPageShowsFinnishFormErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		res := f.Login("itmgr").Call("POST", "/api/v1/services", map[string]any{"provider_unit_id": webtest.ID(f.Units["IT"]), "code": "SUP", "name": "Support",
			"pricing_model": "hourly", "unit_label": "hour", "price": map[string]any{"amount_minor": 6000, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.Status != http.StatusCreated {
			t.Fatal(res.Status, string(res.Body))
		}
		p := f.SignIn("mktmember").Post("/catalog/"+res.Str("id"), url.Values{"consumer_unit_id": {webtest.ID(f.Units["MKT"])}, "title": {"Printer"}, "quantity": {"1"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("order = %d", p.Status)
		}
		reqPath := p.Location
		agent := f.SignIn("itagent")
		inFinnish(t, agent)

		p = agent.Post(reqPath+"/comments", url.Values{"body": {""}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("empty comment = %d", p.Status)
		}
		if got := fieldError(t, p.Body, "body"); got != "Viesti on pakollinen." {
			t.Errorf("empty comment says %q", got)
		}
		if strings.Contains(p.Body, "is required") {
			t.Error("the Finnish page shows the English message")
		}

		for _, tc := range []struct {
			form  url.Values
			field string
			want  string
		}{
			{url.Values{"minutes": {"half an hour"}, "date": {"2026-01-05"}}, "minutes", "Anna minuutit kokonaislukuna, esimerkiksi 45."},
			{url.Values{"minutes": {"30"}, "date": {"5.1.2026"}}, "date", "Päivä"},
		} {
			p := agent.Post(reqPath+"/time", tc.form)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("time %v = %d", tc.form, p.Status)
			}
			if got := fieldError(t, p.Body, tc.field); !strings.HasPrefix(got, tc.want) {
				t.Errorf("time %v says %q beside %s, want %q", tc.form, got, tc.field, tc.want)
			}
			if strings.Contains(p.Body, "must be") || strings.Contains(p.Body, "Give the minutes") {
				t.Errorf("time %v: the Finnish page shows an English message", tc.form)
			}
		}
	})
}

func TestPortalFinnishMoneyFormShowsFinnishErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		mgr := k.SignIn("mktmgr")
		inFinnish(t, mgr)
		path := "/charges/" + k.mktCharge + "/dispute"
		p := mgr.Post(path, url.Values{"reason": {"   "}, "confirm": {"yes"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("empty reason = %d", p.Status)
		}
		if !strings.Contains(p.Body, `<span class="field-error" role="alert">Syy on pakollinen.</span>`) || strings.Contains(p.Body, "is required") {
			t.Error("the empty reason is not said in Finnish beside the field")
		}
		mustStatus(t, "dispute", mgr.Post(path, url.Values{"reason": {"liian kallis"}, "confirm": {"yes"}}), http.StatusSeeOther)
		// A fault the area words in its own way reads in Finnish too.
		p = mgr.Post(path, url.Values{"reason": {"uudestaan"}, "confirm": {"yes"}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, "Tämä veloitus on jo kiistetty.") || strings.Contains(p.Body, "already") {
			t.Errorf("second dispute = %d, not said in Finnish", p.Status)
		}
	})
}
