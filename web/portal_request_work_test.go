package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// postFile sends the request page's upload form as a browser does.
func (b *browser) postFile(path, filename string, content []byte) page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", b.csrf)
	part, err := w.CreateFormFile("file", filename)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", b.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

func TestPortalFilesAndTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mgr := f.login("itmgr")
		res := mgr.call("POST", "/api/v1/services", map[string]any{"provider_unit_id": id(f.units["IT"]), "code": "SUP", "name": "Support",
			"pricing_model": "hourly", "unit_label": "hour", "price": map[string]any{"amount_minor": 6000, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.status != http.StatusCreated {
			t.Fatal(res.status, string(res.body))
		}
		member := f.signIn("mktmember")
		p := member.post("/catalog/"+res.str("id"), url.Values{"consumer_unit_id": {id(f.units["MKT"])}, "title": {"Printer"}, "quantity": {"1"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("order = %d", p.status)
		}
		reqPath := p.location
		member.get(reqPath)

		// A file the allowlist refuses is said beside the field; nothing is stored.
		p = member.postFile(reqPath+"/attachments", "run.sh", []byte("#!/bin/sh\x00\x01\x02 rm -rf /"))
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) || f.count("request_attachments") != 0 {
			t.Fatalf("forbidden type = %d, attachments %d", p.status, f.count("request_attachments"))
		}
		p = member.postFile(reqPath+"/attachments", "../etc/passwd.txt", []byte("hello"))
		if p.status != http.StatusUnprocessableEntity || f.count("request_attachments") != 0 {
			t.Fatalf("a name with ../ = %d", p.status)
		}
		p = member.postFile(reqPath+"/attachments", `<img src=x onerror=alert(1)>.txt`, []byte("the printer on floor 3 jams\n"))
		if p.status != http.StatusSeeOther || f.count("request_attachments") != 1 {
			t.Fatalf("upload = %d, attachments %d", p.status, f.count("request_attachments"))
		}
		p = member.get(reqPath)
		if strings.Contains(p.body, "<img src=x") || !strings.Contains(p.body, "&lt;img src=x onerror=alert(1)&gt;.txt") {
			t.Fatal("the file name is not shown escaped")
		}
		link := regexpFind(t, p.body, `href="(`+reqPath+`/attachments/\d+)"`)
		req, _ := http.NewRequest("GET", f.srv.URL+link, nil)
		dl, err := member.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		dl.Body.Close()
		if dl.StatusCode != http.StatusOK || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment;") || dl.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("download = %d %q", dl.StatusCode, dl.Header.Get("Content-Disposition"))
		}
		if p := f.signIn("nobody").get(link); p.status != http.StatusNotFound {
			t.Fatalf("a stranger's download = %d", p.status)
		}

		// The requester sees neither the time section nor its form.
		if strings.Contains(p.body, `id="log-time"`) || strings.Contains(p.body, `id="h-time"`) {
			t.Fatal("the requester is offered time entries")
		}
		if p := member.post(reqPath+"/time", url.Values{"minutes": {"30"}, "date": {"2026-01-05"}, "billable": {"on"}}); p.status != http.StatusForbidden || f.count("time_entries") != 0 {
			t.Fatalf("time by the requester = %d", p.status)
		}
		// Who may read but not post gets the 403 page with its reason, not a form message.
		if p := f.signIn("auditor").post(reqPath+"/comments", url.Values{"body": {"looks fine"}}); p.status != http.StatusForbidden ||
			!strings.Contains(p.body, "not comment") || f.count("request_comments") != 0 {
			t.Fatalf("comment by the auditor = %d, comments %d", p.status, f.count("request_comments"))
		}
		agent := f.signIn("itagent")
		if p := agent.get(reqPath); !strings.Contains(p.body, `id="log-time"`) {
			t.Fatal("the agent is not offered the time form")
		}
		for _, bad := range []url.Values{
			{"minutes": {"half an hour"}, "date": {"2026-01-05"}},
			{"minutes": {"0"}, "date": {"2026-01-05"}},
			{"minutes": {"30"}, "date": {"2999-01-01"}},
		} {
			p := agent.post(reqPath+"/time", bad)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) ||
				!strings.Contains(p.body, `value="`+bad.Get("minutes")+`"`) {
				t.Fatalf("bad time %v = %d", bad, p.status)
			}
		}
		if f.count("time_entries") != 0 {
			t.Fatal("refused time was stored")
		}
		if p := agent.post(reqPath+"/time", url.Values{"minutes": {"90"}, "date": {"2026-01-05"}, "billable": {"on"}, "note": {"replaced the drum"}}); p.status != http.StatusSeeOther {
			t.Fatalf("log time = %d", p.status)
		}
		if p := agent.get(reqPath); f.count("time_entries") != 1 || !strings.Contains(p.body, "replaced the drum") || !strings.Contains(p.body, "1 h 30 min") {
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
		f := newFixture(t, d)
		res := f.login("itmgr").call("POST", "/api/v1/services", map[string]any{"provider_unit_id": id(f.units["IT"]), "code": "MON", "name": "Monitor",
			"pricing_model": "per_unit", "unit_label": "monitor", "price": map[string]any{"amount_minor": 30000, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.status != http.StatusCreated {
			t.Fatal(res.status, string(res.body))
		}
		svc := "/catalog/" + res.str("id")
		member := f.signIn("mktmember")
		if p := member.get(svc); !strings.Contains(p.body, "No budget set for this month.") {
			t.Fatal("the order form does not say the unit has no budget")
		}
		month := budgetMonth(t)
		if r := f.login("finance").call("PUT", budgetPath(f.units["MKT"], month), map[string]any{
			"amount": map[string]any{"amount_minor": 50000, "currency": "EUR"}, "hard": true}); r.status != http.StatusOK {
			t.Fatal(r.status, string(r.body))
		}
		p := member.get(svc)
		if !strings.Contains(p.body, "€0.00 used of €500.00") || !strings.Contains(p.body, `data-used-minor="0"`) || strings.Contains(p.body, "budget-over-") {
			t.Fatal("the order form does not show the budget before ordering")
		}
		// One monitor fits; once it is ordered, the next one would not.
		if p := member.post(svc, url.Values{"consumer_unit_id": {id(f.units["MKT"])}, "title": {"One screen"}, "quantity": {"1"}}); p.status != http.StatusSeeOther {
			t.Fatalf("order = %d", p.status)
		}
		p = member.get(svc)
		if !strings.Contains(p.body, "€300.00 used of €500.00") || !strings.Contains(p.body, "€600.00") ||
			!strings.Contains(p.body, `id="budget-over-`+id(f.units["MKT"])+`"`) || !strings.Contains(p.body, "Over a hard budget") {
			t.Fatal("the order form does not warn that the next order goes over the hard budget")
		}
	})
}
