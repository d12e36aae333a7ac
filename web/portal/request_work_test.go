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

func TestPortalFilesAndTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		mgr := f.Login("itmgr")
		res := mgr.Call("POST", "/api/v1/services", map[string]any{"provider_unit_id": webtest.ID(f.Units["IT"]), "code": "SUP", "name": "Support",
			"pricing_model": "hourly", "unit_label": "hour", "price": map[string]any{"amount_minor": 6000, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.Status != http.StatusCreated {
			t.Fatal(res.Status, string(res.Body))
		}
		member := f.SignIn("mktmember")
		p := member.Post("/catalog/"+res.Str("id"), url.Values{"consumer_unit_id": {webtest.ID(f.Units["MKT"])}, "title": {"Printer"}, "quantity": {"1"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("order = %d", p.Status)
		}
		reqPath := p.Location
		member.Get(reqPath)

		// A file the allowlist refuses is said beside the field; nothing is stored.
		p = member.PostFile(reqPath+"/attachments", "run.sh", []byte("#!/bin/sh\x00\x01\x02 rm -rf /"))
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || f.Count("request_attachments") != 0 {
			t.Fatalf("forbidden type = %d, attachments %d", p.Status, f.Count("request_attachments"))
		}
		p = member.PostFile(reqPath+"/attachments", "../etc/passwd.txt", []byte("hello"))
		if p.Status != http.StatusUnprocessableEntity || f.Count("request_attachments") != 0 {
			t.Fatalf("a name with ../ = %d", p.Status)
		}
		p = member.PostFile(reqPath+"/attachments", `<img src=x onerror=alert(1)>.txt`, []byte("the printer on floor 3 jams\n"))
		if p.Status != http.StatusSeeOther || f.Count("request_attachments") != 1 {
			t.Fatalf("upload = %d, attachments %d", p.Status, f.Count("request_attachments"))
		}
		p = member.Get(reqPath)
		if strings.Contains(p.Body, "<img src=x") || !strings.Contains(p.Body, "&lt;img src=x onerror=alert(1)&gt;.txt") {
			t.Fatal("the file name is not shown escaped")
		}
		link := regexpFind(t, p.Body, `href="(`+reqPath+`/attachments/\d+)"`)
		req, _ := http.NewRequest("GET", f.Srv.URL+link, nil)
		dl, err := member.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		dl.Body.Close()
		if dl.StatusCode != http.StatusOK || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment;") || dl.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("download = %d %q", dl.StatusCode, dl.Header.Get("Content-Disposition"))
		}
		if p := f.SignIn("nobody").Get(link); p.Status != http.StatusNotFound {
			t.Fatalf("a stranger's download = %d", p.Status)
		}

		// The requester sees neither the time section nor its form.
		if strings.Contains(p.Body, `id="log-time"`) || strings.Contains(p.Body, `id="h-time"`) {
			t.Fatal("the requester is offered time entries")
		}
		if p := member.Post(reqPath+"/time", url.Values{"minutes": {"30"}, "date": {"2026-01-05"}, "billable": {"on"}}); p.Status != http.StatusForbidden || f.Count("time_entries") != 0 {
			t.Fatalf("time by the requester = %d", p.Status)
		}
		// Who may read but not post gets the 403 page with its reason, not a form message.
		if p := f.SignIn("auditor").Post(reqPath+"/comments", url.Values{"body": {"looks fine"}}); p.Status != http.StatusForbidden ||
			!strings.Contains(p.Body, "not comment") || f.Count("request_comments") != 0 {
			t.Fatalf("comment by the auditor = %d, comments %d", p.Status, f.Count("request_comments"))
		}
		agent := f.SignIn("itagent")
		if p := agent.Get(reqPath); !strings.Contains(p.Body, `id="log-time"`) {
			t.Fatal("the agent is not offered the time form")
		}
		for _, bad := range []url.Values{
			{"minutes": {"half an hour"}, "date": {"2026-01-05"}},
			{"minutes": {"0"}, "date": {"2026-01-05"}},
			{"minutes": {"30"}, "date": {"2999-01-01"}},
		} {
			p := agent.Post(reqPath+"/time", bad)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) ||
				!strings.Contains(p.Body, `value="`+bad.Get("minutes")+`"`) {
				t.Fatalf("bad time %v = %d", bad, p.Status)
			}
		}
		if f.Count("time_entries") != 0 {
			t.Fatal("refused time was stored")
		}
		if p := agent.Post(reqPath+"/time", url.Values{"minutes": {"90"}, "date": {webtest.TodayPlus(0)}, "billable": {"on"}, "note": {"replaced the drum"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("log time = %d", p.Status)
		}
		if p := agent.Get(reqPath); f.Count("time_entries") != 1 || !strings.Contains(p.Body, "replaced the drum") || !strings.Contains(p.Body, "1 h 30 min") {
			t.Fatal("the logged time is not on the page")
		}
	})
}

func regexpFind(t *testing.T, body, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no match for %s", pattern)
	}
	return m[1]
}

func TestPortalOrderFormShowsTheBudget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		res := f.Login("itmgr").Call("POST", "/api/v1/services", map[string]any{"provider_unit_id": webtest.ID(f.Units["IT"]), "code": "MON", "name": "Monitor",
			"pricing_model": "per_unit", "unit_label": "monitor", "price": map[string]any{"amount_minor": 30000, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.Status != http.StatusCreated {
			t.Fatal(res.Status, string(res.Body))
		}
		svc := "/catalog/" + res.Str("id")
		member := f.SignIn("mktmember")
		if p := member.Get(svc); !strings.Contains(p.Body, "No budget set for this month.") {
			t.Fatal("the order form does not say the unit has no budget")
		}
		month := webtest.BudgetMonth(t)
		if r := f.Login("finance").Call("PUT", webtest.BudgetPath(f.Units["MKT"], month), map[string]any{
			"amount": map[string]any{"amount_minor": 50000, "currency": "EUR"}, "hard": true}); r.Status != http.StatusOK {
			t.Fatal(r.Status, string(r.Body))
		}
		p := member.Get(svc)
		if !strings.Contains(p.Body, "€0.00 used of €500.00") || !strings.Contains(p.Body, `data-used-minor="0"`) || strings.Contains(p.Body, "budget-over-") {
			t.Fatal("the order form does not show the budget before ordering")
		}
		// One monitor fits; once it is ordered, the next one would not.
		if p := member.Post(svc, url.Values{"consumer_unit_id": {webtest.ID(f.Units["MKT"])}, "title": {"One screen"}, "quantity": {"1"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("order = %d", p.Status)
		}
		p = member.Get(svc)
		if !strings.Contains(p.Body, "€300.00 used of €500.00") || !strings.Contains(p.Body, "€600.00") ||
			!strings.Contains(p.Body, `id="budget-over-`+webtest.ID(f.Units["MKT"])+`"`) || !strings.Contains(p.Body, "Over a hard budget") {
			t.Fatal("the order form does not warn that the next order goes over the hard budget")
		}
	})
}
