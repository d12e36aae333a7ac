package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

// workDesk is the harness organisation with one IT service and the people
// the work on a request involves, beyond the harness personas:
//
//	mktmgr      manager of MKT, the ordering unit (consumer side only)
//	mktmember2  another member of MKT, who does not see mktmember's requests
//	sdagent     an agent of IT-SD, a unit below IT that does not provide the service
//
// Its server accepts bodies up to 16 MB so uploads meet the attachment
// limit rather than the general body limit.
type workDesk struct {
	*webtest.Fixture
	as      map[string]*webtest.Client
	service string
}

func newWorkDesk(t *testing.T, d *db.DB) *workDesk {
	t.Helper()
	f := webtest.NewFixture(t, d)
	w := &workDesk{Fixture: f, as: f.LoginPersonas()}
	admin := w.as["admin"]
	for _, p := range []struct{ name, unit, role string }{
		{"mktmgr", "MKT", "manager"}, {"mktmember2", "MKT", "member"}, {"sdagent", "IT-SD", "agent"},
	} {
		res := admin.Call("POST", "/api/v1/users", map[string]any{"email": p.name + "@example.org", "name": p.name, "password": webtest.TestPassword})
		if res.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", p.name, res.Status, res.Body)
		}
		f.Users[p.name] = mustID(t, res.Str("id"))
		res = admin.Call("POST", "/api/v1/units/"+webtest.ID(f.Units[p.unit])+"/members", map[string]any{"user_id": res.Str("id"), "role": p.role})
		if res.Status != http.StatusCreated {
			t.Fatalf("grant %s: %d %s", p.name, res.Status, res.Body)
		}
		w.as[p.name] = f.Login(p.name)
	}
	res := w.as["itmgr"].Call("POST", "/api/v1/services", map[string]any{
		"provider_unit_id": webtest.ID(f.Units["IT"]), "code": "SUPPORT", "name": "Desk-side support", "pricing_model": "fixed",
		"approval_policy": "never", "price": map[string]any{"amount_minor": 5000, "currency": "EUR"},
		"sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
	if res.Status != http.StatusCreated {
		t.Fatalf("create service: %d %s", res.Status, res.Body)
	}
	w.service = res.Str("id")
	return w
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}

// orderWork files a request as mktmember for MKT; it is open at once.
func (w *workDesk) orderWork(title string) string {
	w.T.Helper()
	res := w.as["mktmember"].Call("POST", "/api/v1/requests", map[string]any{
		"service_id": w.service, "consumer_unit_id": webtest.ID(w.Units["MKT"]), "title": title})
	if res.Status != http.StatusCreated || res.Str("status") != "open" {
		w.T.Fatalf("order: %d %s", res.Status, res.Body)
	}
	return res.Str("id")
}

// move takes each action in turn as the named person, with the version of
// the moment, and fails the test unless each succeeds.
func (w *workDesk) move(as, rid string, actions ...string) {
	w.T.Helper()
	for _, action := range actions {
		res := w.as[as].Call("POST", "/api/v1/requests/"+rid+"/actions",
			map[string]any{"action": action, "version": w.request(as, rid).JSON["version"]})
		if res.Status != http.StatusOK {
			w.T.Fatalf("%s %s: %d %s", as, action, res.Status, res.Body)
		}
	}
}

func (w *workDesk) request(as, rid string) webtest.Response {
	w.T.Helper()
	res := w.as[as].Call("GET", "/api/v1/requests/"+rid, nil)
	if res.Status != http.StatusOK {
		w.T.Fatalf("get request as %s: %d %s", as, res.Status, res.Body)
	}
	return res
}

// actions lists the actions of a request's timeline as the person sees it.
func (w *workDesk) actions(as, rid string) []string {
	w.T.Helper()
	res := w.as[as].Call("GET", "/api/v1/requests/"+rid+"/events", nil)
	if res.Status != http.StatusOK {
		w.T.Fatalf("events as %s: %d %s", as, res.Status, res.Body)
	}
	var out []string
	for _, e := range res.Items() {
		out = append(out, e["action"].(string))
	}
	return out
}

// rowCounts counts the rows every write of this file may add.
func (w *workDesk) rowCounts() map[string]int {
	out := map[string]int{}
	for _, table := range []string{"request_comments", "request_attachments", "attachment_contents", "time_entries", "request_feedback", "request_events"} {
		out[table] = w.Count(table)
	}
	return out
}

func (w *workDesk) assertNothingWritten(before map[string]int, what string) {
	w.T.Helper()
	after := w.rowCounts()
	for table, n := range before {
		if after[table] != n {
			w.T.Errorf("%s: %s went from %d to %d rows", what, table, n, after[table])
		}
	}
}

// upload posts one file part with the given Content-Disposition filename
// parameter written as is (so it may hold what a browser would not send),
// plus any form fields.
func (w *workDesk) upload(as, rid, filenameParam string, content []byte, fields map[string]string) webtest.Response {
	w.T.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			w.T.Fatal(err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; `+filenameParam)
	h.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(h)
	if err != nil {
		w.T.Fatal(err)
	}
	part.Write(content)
	mw.Close()
	req, err := http.NewRequest("POST", w.Srv.URL+"/api/v1/requests/"+rid+"/attachments", &body)
	if err != nil {
		w.T.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return w.as[as].Send(req)
}

func (w *workDesk) download(as, path string) webtest.Response {
	w.T.Helper()
	req, err := http.NewRequest("GET", w.Srv.URL+path, nil)
	if err != nil {
		w.T.Fatal(err)
	}
	return w.as[as].Send(req)
}

func (w *workDesk) firstRespondedAt(rid string) *time.Time {
	w.T.Helper()
	var at *time.Time
	if err := w.DB.NewRaw("SELECT first_responded_at FROM requests WHERE id = ?", mustID(w.T, rid)).Scan(context.Background(), &at); err != nil {
		w.T.Fatal(err)
	}
	return at
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const pdfBytes = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

func commentBodies(res webtest.Response) []string {
	var out []string
	for _, c := range res.Items() {
		out = append(out, c["body"].(string))
	}
	return out
}

func TestCommentMarkdownIsRenderedAndSanitized(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("Printer jams")
		body := "**Jammed** again, see [the manual](https://example.org/manual).\n\n" +
			"<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click me](javascript:alert(3)) " +
			`<a href="javascript:alert(4)">raw</a>`
		res := w.as["mktmember"].Call("POST", "/api/v1/requests/"+rid+"/comments", map[string]any{"body": body})
		if res.Status != http.StatusCreated {
			t.Fatalf("comment: %d %s", res.Status, res.Body)
		}
		html := res.Str("body_html")
		if res.Str("body") != body || res.JSON["internal"] != false || res.Str("request_id") != rid ||
			res.Str("author_id") != webtest.ID(w.Users["mktmember"]) || res.Str("id") == "" || res.Str("created_at") == "" {
			t.Errorf("comment = %s", res.Body)
		}
		if !strings.Contains(html, "<strong>Jammed</strong>") {
			t.Errorf("markdown not rendered: %s", html)
		}
		if !strings.Contains(html, `href="https://example.org/manual"`) || !strings.Contains(html, `rel="nofollow noopener"`) {
			t.Errorf("link not kept with rel=nofollow noopener: %s", html)
		}
		for _, bad := range []string{"<script", "alert(1)", "onerror", "javascript:", "<img src=x"} {
			if strings.Contains(strings.ToLower(html), bad) {
				t.Errorf("body_html keeps %q: %s", bad, html)
			}
		}
		list := w.as["itagent"].Call("GET", "/api/v1/requests/"+rid+"/comments", nil)
		if list.Status != http.StatusOK || len(list.Items()) != 1 || list.Items()[0]["body_html"] != html {
			t.Errorf("comments list = %d %s", list.Status, list.Body)
		}

		before := w.rowCounts()
		for _, tc := range []struct {
			name string
			body any
			want int
		}{
			{"empty", map[string]any{"body": ""}, 422},
			{"blank", map[string]any{"body": "  \n "}, 422},
			{"too long", map[string]any{"body": strings.Repeat("x", 20001)}, 422},
			{"control character", map[string]any{"body": "bell\u0007"}, 422},
			{"invalid UTF-8", []byte("{\"body\": \"\xff\xfe\"}"), 400},
			{"unknown field", map[string]any{"body": "hi", "public": true}, 400},
		} {
			if res := w.as["mktmember"].Call("POST", "/api/v1/requests/"+rid+"/comments", tc.body); res.Status != tc.want {
				t.Errorf("%s: %d, want %d (%s)", tc.name, res.Status, tc.want, res.Body)
			}
		}
		w.assertNothingWritten(before, "refused comments")
		if res := w.as["mktmember"].Call("POST", "/api/v1/requests/"+rid+"/comments",
			map[string]any{"body": strings.Repeat("ä", 20000)}); res.Status != http.StatusCreated {
			t.Errorf("20000 characters: %d", res.Status)
		}
	})
}

func TestInternalCommentsStayOnTheProviderSide(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("New starter laptop")
		path := "/api/v1/requests/" + rid + "/comments"

		res := w.as["itagent"].Call("POST", path, map[string]any{"body": "Vendor is slow, do not promise Friday", "internal": true})
		if res.Status != http.StatusCreated || res.JSON["internal"] != true {
			t.Fatalf("internal comment by agent: %d %s", res.Status, res.Body)
		}
		if w.firstRespondedAt(rid) != nil {
			t.Error("an internal note counted as the first response")
		}
		if res := w.as["itagent"].Call("POST", path, map[string]any{"body": "On it."}); res.Status != http.StatusCreated {
			t.Fatalf("public comment by agent: %d %s", res.Status, res.Body)
		}
		if w.firstRespondedAt(rid) == nil {
			t.Error("the agent's first public comment did not set first_responded_at")
		}
		if res := w.as["mktmgr"].Call("POST", path, map[string]any{"body": "Please hurry, they start Monday."}); res.Status != http.StatusCreated {
			t.Fatalf("public comment by consumer manager: %d %s", res.Status, res.Body)
		}

		before := w.rowCounts()
		for _, who := range []string{"mktmember", "mktmgr", "auditor", "finance", "itmgr"} {
			if res := w.as[who].Call("POST", path, map[string]any{"body": "psst", "internal": true}); res.Status != http.StatusForbidden {
				t.Errorf("internal comment by %s: %d %s", who, res.Status, res.Body)
			}
		}
		for _, who := range []string{"auditor", "finance", "admin"} {
			if res := w.as[who].Call("POST", path, map[string]any{"body": "looks fine"}); res.Status != http.StatusForbidden {
				t.Errorf("public comment by %s: %d %s", who, res.Status, res.Body)
			}
		}
		w.assertNothingWritten(before, "refused comments")

		public := []string{"On it.", "Please hurry, they start Monday."}
		all := []string{"Vendor is slow, do not promise Friday", "On it.", "Please hurry, they start Monday."}
		for who, want := range map[string][]string{"mktmember": public, "mktmgr": public, "itagent": all, "itmgr": all, "auditor": all} {
			res := w.as[who].Call("GET", path, nil)
			if res.Status != http.StatusOK || fmt.Sprint(commentBodies(res)) != fmt.Sprint(want) {
				t.Errorf("comments seen by %s = %d %v, want %v", who, res.Status, commentBodies(res), want)
			}
			comments := 0
			for _, a := range w.actions(who, rid) {
				if a == "comment" {
					comments++
				}
			}
			if comments != len(want) {
				t.Errorf("comment events seen by %s = %d, want %d", who, comments, len(want))
			}
		}
	})
}

func TestRequesterReplyResumesWaitingRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("VPN does not connect")
		w.move("itagent", rid, "start", "wait")
		path := "/api/v1/requests/" + rid + "/comments"
		// Others' comments leave it waiting.
		w.as["itagent"].Call("POST", path, map[string]any{"body": "Which client version?"})
		w.as["mktmgr"].Call("POST", path, map[string]any{"body": "I'll ask them."})
		w.as["mktmember"].Call("POST", path, map[string]any{"body": "(internal attempt)", "internal": true})
		waiting := w.request("mktmember", rid)
		if waiting.Str("status") != "waiting_on_customer" {
			t.Fatalf("status before the reply = %s", waiting.Str("status"))
		}
		res := w.as["mktmember"].Call("POST", path, map[string]any{"body": "Version 5.2, on Windows."})
		if res.Status != http.StatusCreated {
			t.Fatalf("reply: %d %s", res.Status, res.Body)
		}
		after := w.request("mktmember", rid)
		if after.Str("status") != "in_progress" || after.JSON["version"].(float64) != waiting.JSON["version"].(float64)+1 {
			t.Errorf("after the reply: status %s version %v (was %v)", after.Str("status"), after.JSON["version"], waiting.JSON["version"])
		}
		events := w.as["itagent"].Call("GET", "/api/v1/requests/"+rid+"/events", nil).Items()
		last := events[len(events)-1]
		if last["action"] != "resume" || last["note"] != "customer replied" || last["from_status"] != "waiting_on_customer" ||
			last["to_status"] != "in_progress" || last["actor_id"] != webtest.ID(w.Users["mktmember"]) {
			t.Errorf("last event = %v", last)
		}
		// A reply on a request that is not waiting changes nothing.
		if res := w.as["mktmember"].Call("POST", path, map[string]any{"body": "Thanks!"}); res.Status != http.StatusCreated {
			t.Fatalf("second reply: %d", res.Status)
		}
		if again := w.request("mktmember", rid); again.JSON["version"] != after.JSON["version"] {
			t.Errorf("a reply to a working request bumped the version to %v", again.JSON["version"])
		}
	})
}

func TestAttachmentsRoundTripAndRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("Broken screen")
		base := "/api/v1/requests/" + rid + "/attachments"
		pic := pngBytes(t)

		testkit.Step(t, "uploads round-trip, typed by content, not by name", func(t *testing.T) {
			res := w.upload("mktmember", rid, `filename="screen shot.pdf"`, pic, nil)
			if res.Status != http.StatusCreated {
				t.Fatalf("upload: %d %s", res.Status, res.Body)
			}
			sum := sha256.Sum256(pic)
			if res.Str("content_type") != "image/png" || res.Str("filename") != "screen shot.png" ||
				res.JSON["size_bytes"] != float64(len(pic)) || res.Str("sha256") != hex.EncodeToString(sum[:]) ||
				res.JSON["internal"] != false || res.Str("uploader_id") != webtest.ID(w.Users["mktmember"]) {
				t.Errorf("uploaded = %s", res.Body)
			}
			got := w.download("itagent", base+"/"+res.Str("id"))
			if got.Status != http.StatusOK || !bytes.Equal(got.Body, pic) {
				t.Fatalf("download: %d, %d bytes, identical %v", got.Status, len(got.Body), bytes.Equal(got.Body, pic))
			}
			for header, want := range map[string]string{
				"Content-Type": "image/png",
				// A PNG named .pdf is renamed to what it is (issue 17, item 5).
				"Content-Disposition":    "attachment; filename*=UTF-8''screen%20shot.png",
				"X-Content-Type-Options": "nosniff",
			} {
				if got.Header.Get(header) != want {
					t.Errorf("%s = %q, want %q", header, got.Header.Get(header), want)
				}
			}
			res = w.upload("mktmember", rid, `filename*=UTF-8''raportti%20%C3%A4%3B%22x%22.pdf`, []byte(pdfBytes), nil)
			if res.Status != http.StatusCreated || res.Str("content_type") != "application/pdf" || res.Str("filename") != `raportti ä;"x".pdf` {
				t.Fatalf("pdf upload: %d %s", res.Status, res.Body)
			}
			got = w.download("mktmember", base+"/"+res.Str("id"))
			if cd := got.Header.Get("Content-Disposition"); cd != "attachment; filename*=UTF-8''raportti%20%C3%A4%3B%22x%22.pdf" {
				t.Errorf("Content-Disposition = %q", cd)
			}
			res = w.upload("mktmember", rid, `filename="notes.txt"`, []byte("Serial number: 12345\nBought: 2024\n"), nil)
			if res.Status != http.StatusCreated || res.Str("content_type") != "text/plain; charset=utf-8" {
				t.Errorf("text upload: %d %s", res.Status, res.Body)
			}
		})

		testkit.Step(t, "refused uploads write nothing", func(t *testing.T) {
			limit := web.DefaultAttachmentLimit
			before := w.rowCounts()
			for _, tc := range []struct {
				name, who, filename string
				content             []byte
				fields              map[string]string
				want                int
				code                string
			}{
				{"html", "mktmember", `filename="page.pdf"`, []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), nil, 422, "unsupported_file_type"},
				{"svg", "mktmember", `filename="logo.png"`, []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`), nil, 422, "unsupported_file_type"},
				{"executable", "mktmember", `filename="invoice.pdf"`, append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 256)...), nil, 422, "unsupported_file_type"},
				{"empty file", "mktmember", `filename="empty.txt"`, nil, nil, 422, "invalid"},
				{"parent directory", "mktmember", `filename="../x.pdf"`, []byte(pdfBytes), nil, 422, "invalid"},
				{"directory", "mktmember", `filename="reports/x.pdf"`, []byte(pdfBytes), nil, 422, "invalid"},
				{"windows path", "mktmember", `filename="C:\\\\temp\\\\x.pdf"`, []byte(pdfBytes), nil, 422, "invalid"},
				{"control character", "mktmember", `filename*=UTF-8''a%01b.pdf`, []byte(pdfBytes), nil, 422, "invalid"},
				{"newline", "mktmember", `filename*=UTF-8''a%0Ab.pdf`, []byte(pdfBytes), nil, 422, "invalid"},
				{"right-to-left override", "mktmember", `filename*=UTF-8''invoice%E2%80%AEfdp.exe`, []byte(pdfBytes), nil, 422, "invalid"},
				{"no name", "mktmember", `filename=""`, []byte(pdfBytes), nil, 422, "invalid"},
				{"name too long", "mktmember", `filename="` + strings.Repeat("a", 197) + `.pdf"`, []byte(pdfBytes), nil, 422, "invalid"},
				{"over the limit", "mktmember", `filename="big.txt"`, bytes.Repeat([]byte("a"), int(limit)+1), nil, 413, "payload_too_large"},
				{"far over the limit", "mktmember", `filename="huge.txt"`, bytes.Repeat([]byte("a"), int(limit)+200<<10), nil, 413, "payload_too_large"},
				{"internal by the requester", "mktmember", `filename="x.pdf"`, []byte(pdfBytes), map[string]string{"internal": "true"}, 403, "forbidden"},
				{"internal not a boolean", "itagent", `filename="x.pdf"`, []byte(pdfBytes), map[string]string{"internal": "yes"}, 422, "invalid"},
				{"by the auditor", "auditor", `filename="x.pdf"`, []byte(pdfBytes), nil, 403, "forbidden"},
			} {
				res := w.upload(tc.who, rid, tc.filename, tc.content, tc.fields)
				if res.Status != tc.want || res.ErrorCode() != tc.code {
					t.Errorf("%s: %d %s, want %d %s", tc.name, res.Status, res.ErrorCode(), tc.want, tc.code)
				}
			}
			if res := w.upload("mktmember", rid, `filename="`+strings.Repeat("a", 196)+`.pdf"`, []byte(pdfBytes), nil); res.Status != http.StatusCreated {
				t.Errorf("a 200-character name: %d %s", res.Status, res.Body)
			}
			delete(before, "request_attachments")
			delete(before, "attachment_contents")
			delete(before, "request_events")
			w.assertNothingWritten(before, "refused uploads")
			if n := w.Count("request_attachments"); n != 4 {
				t.Errorf("request_attachments = %d rows, want 4", n)
			}
			if n := w.Count("attachment_contents"); n != 4 {
				t.Errorf("attachment_contents = %d rows, want 4", n)
			}
			asJSON := w.as["mktmember"].Call("POST", base, map[string]any{"file": "x"})
			if asJSON.Status != http.StatusUnsupportedMediaType {
				t.Errorf("JSON upload: %d %s", asJSON.Status, asJSON.Body)
			}
		})

		testkit.Step(t, "an internal attachment reaches the provider side only", func(t *testing.T) {
			internal := w.upload("itagent", rid, `filename="quote.pdf"`, []byte(pdfBytes), map[string]string{"internal": "true"})
			if internal.Status != http.StatusCreated || internal.JSON["internal"] != true {
				t.Fatalf("internal upload by agent: %d %s", internal.Status, internal.Body)
			}
			for who, want := range map[string]int{"mktmember": 4, "mktmgr": 4, "itagent": 5, "auditor": 5} {
				res := w.as[who].Call("GET", base, nil)
				if res.Status != http.StatusOK || len(res.Items()) != want {
					t.Errorf("attachments seen by %s = %d, %d items, want %d", who, res.Status, len(res.Items()), want)
				}
				if got := w.download(who, base+"/"+internal.Str("id")); (got.Status == http.StatusOK) != (want == 5) {
					t.Errorf("internal download by %s = %d", who, got.Status)
				}
				attaches := 0
				for _, a := range w.actions(who, rid) {
					if a == "attach" {
						attaches++
					}
				}
				if attaches != want {
					t.Errorf("attach events seen by %s = %d, want %d", who, attaches, want)
				}
			}
			if got := w.download("itagent", base+"/999999"); got.Status != http.StatusNotFound {
				t.Errorf("missing attachment = %d", got.Status)
			}
		})

		testkit.Step(t, "office documents are told from a bare zip", func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				content []byte
				want    string
			}{
				{"docx", zipBytes(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml"),
					"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
				{"xlsx", zipBytes(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"),
					"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
				{"odt", zipBytes(t, "mimetype:application/vnd.oasis.opendocument.text", "content.xml"),
					"application/vnd.oasis.opendocument.text"},
				{"zip", zipBytes(t, "setup.exe"), ""},
			} {
				res := w.upload("mktmember", rid, `filename="file.`+tc.name+`"`, tc.content, nil)
				if tc.want == "" && (res.Status != http.StatusUnprocessableEntity || res.ErrorCode() != "unsupported_file_type") {
					t.Errorf("%s: %d %s, want it refused", tc.name, res.Status, res.Body)
				}
				if tc.want != "" && (res.Status != http.StatusCreated || res.Str("content_type") != tc.want) {
					t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
				}
			}
		})

		testkit.Step(t, "a portal form carries the CSRF token in a field", func(t *testing.T) {
			// A portal form sends the CSRF token as a form field beside the file.
			agent := w.as["itagent"]
			token := agent.CSRF
			agent.CSRF = ""
			res := w.upload("itagent", rid, `filename="form.txt"`, []byte("sent from the portal\n"), map[string]string{"csrf_token": token})
			agent.CSRF = token
			if res.Status != http.StatusCreated || res.Str("filename") != "form.txt" {
				t.Errorf("upload with the CSRF token in the form: %d %s", res.Status, res.Body)
			}
		})
	})
}

// zipBytes builds a zip archive holding the named entries; "name:text"
// stores text uncompressed as the entry's content, as ODF's mimetype entry.
func zipBytes(t *testing.T, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, e := range entries {
		name, content, stored := strings.Cut(e, ":")
		method := zip.Deflate
		if stored {
			method = zip.Store
		} else {
			content = "<x/>"
		}
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(content))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTimeEntries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("Set up docking station")
		w.FiledDaysAgo(rid, 1) // so yesterday is a day it was open
		path := "/api/v1/requests/" + rid + "/time-entries"
		helsinki, err := time.LoadLocation("Europe/Helsinki")
		if err != nil {
			t.Fatal(err)
		}
		today := time.Now().In(helsinki)

		res := w.as["itagent"].Call("POST", path, map[string]any{"minutes": 90, "date": today.Format("2006-01-02"), "note": "cabling"})
		if res.Status != http.StatusCreated || res.JSON["billable"] != true || res.JSON["minutes"] != float64(90) ||
			res.Str("date") != today.Format("2006-01-02") || res.Str("agent_id") != webtest.ID(w.Users["itagent"]) || res.Str("note") != "cabling" {
			t.Fatalf("log time: %d %s", res.Status, res.Body)
		}
		yesterday := today.AddDate(0, 0, -1).Format("2006-01-02")
		res = w.as["itagent"].Call("POST", path, map[string]any{"minutes": 1440, "date": yesterday, "billable": false})
		if res.Status != http.StatusCreated || res.JSON["billable"] != false {
			t.Fatalf("log non-billable time: %d %s", res.Status, res.Body)
		}

		before := w.rowCounts()
		tomorrow := today.AddDate(0, 0, 1).Format("2006-01-02")
		for _, tc := range []struct {
			name, who string
			body      map[string]any
			want      int
		}{
			{"zero minutes", "itagent", map[string]any{"minutes": 0, "date": yesterday}, 422},
			{"no minutes", "itagent", map[string]any{"date": yesterday}, 422},
			{"over a day", "itagent", map[string]any{"minutes": 1441, "date": yesterday}, 422},
			{"negative", "itagent", map[string]any{"minutes": -5, "date": yesterday}, 422},
			{"fraction", "itagent", map[string]any{"minutes": 1.5, "date": yesterday}, 400},
			{"future date", "itagent", map[string]any{"minutes": 30, "date": tomorrow}, 422},
			// Finding: time dated 1900, or before the request existed, was taken.
			{"dated 1900", "itagent", map[string]any{"minutes": 30, "date": "1900-01-01"}, 422},
			{"before the request was filed", "itagent", map[string]any{"minutes": 30, "date": today.AddDate(0, 0, -2).Format("2006-01-02")}, 422},
			{"no date", "itagent", map[string]any{"minutes": 30}, 422},
			{"not a date", "itagent", map[string]any{"minutes": 30, "date": "2026-02-30"}, 422},
			{"other format", "itagent", map[string]any{"minutes": 30, "date": today.Format("02.01.2006")}, 422},
			{"by the requester", "mktmember", map[string]any{"minutes": 30, "date": yesterday}, 403},
			{"by the consumer manager", "mktmgr", map[string]any{"minutes": 30, "date": yesterday}, 403},
			{"by the provider manager", "itmgr", map[string]any{"minutes": 30, "date": yesterday}, 403},
			{"by the auditor", "auditor", map[string]any{"minutes": 30, "date": yesterday}, 403},
		} {
			if res := w.as[tc.who].Call("POST", path, tc.body); res.Status != tc.want {
				t.Errorf("%s: %d, want %d (%s)", tc.name, res.Status, tc.want, res.Body)
			}
		}
		w.assertNothingWritten(before, "refused time entries")

		for who, want := range map[string]int{"itagent": 200, "itmgr": 200, "mktmgr": 200, "auditor": 200, "finance": 200, "mktmember": 403} {
			res := w.as[who].Call("GET", path, nil)
			if res.Status != want || (want == 200 && len(res.Items()) != 2) {
				t.Errorf("time entries seen by %s = %d %s", who, res.Status, res.Body)
			}
		}
		for who, want := range map[string]bool{"itagent": true, "mktmember": false, "mktmgr": false} {
			seen := false
			for _, a := range w.actions(who, rid) {
				seen = seen || a == "log_time"
			}
			if seen != want {
				t.Errorf("log_time event visible to %s = %v", who, seen)
			}
		}

		cancelled := w.orderWork("Never mind")
		w.move("mktmember", cancelled, "cancel")
		before = w.rowCounts()
		res = w.as["itagent"].Call("POST", "/api/v1/requests/"+cancelled+"/time-entries", map[string]any{"minutes": 10, "date": today.Format("2006-01-02")})
		if res.Status != http.StatusConflict || res.ErrorCode() != "request_final" {
			t.Errorf("time on a cancelled request: %d %s", res.Status, res.Body)
		}
		w.assertNothingWritten(before, "time on a cancelled request")
	})
}

func TestFeedbackOnceByTheRequester(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("Keyboard missing keys")
		path := "/api/v1/requests/" + rid + "/feedback"
		before := w.rowCounts()
		if res := w.as["mktmember"].Call("POST", path, map[string]any{"rating": 5}); res.Status != http.StatusConflict || res.ErrorCode() != "not_resolved" {
			t.Errorf("feedback on an open request: %d %s", res.Status, res.Body)
		}
		w.move("itagent", rid, "start", "resolve")
		if res := w.as["itagent"].Call("GET", path, nil); res.Status != http.StatusNotFound {
			t.Errorf("feedback before any: %d", res.Status)
		}
		for _, tc := range []struct {
			name, who string
			body      map[string]any
			want      int
		}{
			{"rating 0", "mktmember", map[string]any{"rating": 0}, 422},
			{"rating 6", "mktmember", map[string]any{"rating": 6}, 422},
			{"no rating", "mktmember", map[string]any{"comment": "good"}, 422},
			{"by the agent", "itagent", map[string]any{"rating": 5}, 403},
			{"by the consumer manager", "mktmgr", map[string]any{"rating": 5}, 403},
			{"by the auditor", "auditor", map[string]any{"rating": 5}, 403},
		} {
			if res := w.as[tc.who].Call("POST", path, tc.body); res.Status != tc.want {
				t.Errorf("%s: %d, want %d (%s)", tc.name, res.Status, tc.want, res.Body)
			}
		}
		after := w.rowCounts()
		after["request_events"] -= 2 // start and resolve
		for table, n := range before {
			if after[table] != n {
				t.Errorf("refused feedback: %s went from %d to %d rows", table, n, after[table])
			}
		}

		res := w.as["mktmember"].Call("POST", path, map[string]any{"rating": 4, "comment": "Quick, thanks"})
		if res.Status != http.StatusCreated || res.JSON["rating"] != float64(4) || res.Str("comment") != "Quick, thanks" {
			t.Fatalf("feedback: %d %s", res.Status, res.Body)
		}
		if res := w.as["mktmember"].Call("POST", path, map[string]any{"rating": 1}); res.Status != http.StatusConflict || res.ErrorCode() != "already_rated" {
			t.Errorf("second feedback: %d %s", res.Status, res.Body)
		}
		w.move("mktmember", rid, "close")
		if res := w.as["mktmember"].Call("POST", path, map[string]any{"rating": 2}); res.Status != http.StatusConflict {
			t.Errorf("feedback after close: %d %s", res.Status, res.Body)
		}
		if n := w.Count("request_feedback"); n != 1 {
			t.Errorf("request_feedback = %d rows", n)
		}
		for _, who := range []string{"mktmember", "mktmgr", "itagent", "itmgr", "auditor"} {
			res := w.as[who].Call("GET", path, nil)
			if res.Status != http.StatusOK || res.JSON["rating"] != float64(4) || res.Str("author_id") != webtest.ID(w.Users["mktmember"]) {
				t.Errorf("feedback seen by %s = %d %s", who, res.Status, res.Body)
			}
		}
		found := false
		for _, a := range w.actions("mktmember", rid) {
			found = found || a == "feedback"
		}
		if !found {
			t.Error("no feedback event")
		}
	})
}

func TestOutsidersFindNoWork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorkDesk(t, d)
		rid := w.orderWork("Headset")
		base := "/api/v1/requests/" + rid
		up := w.upload("mktmember", rid, `filename="spec.pdf"`, []byte(pdfBytes), nil)
		if up.Status != http.StatusCreated {
			t.Fatalf("upload: %d %s", up.Status, up.Body)
		}
		w.move("itagent", rid, "start", "resolve")
		if res := w.as["mktmember"].Call("POST", base+"/feedback", map[string]any{"rating": 5}); res.Status != http.StatusCreated {
			t.Fatalf("feedback: %d", res.Status)
		}
		yesterday := time.Now().AddDate(0, 0, -2).Format("2006-01-02")
		before := w.rowCounts()
		for _, who := range []string{"nobody", "mktmember2", "sdagent"} {
			for _, call := range []struct {
				method, path string
				body         any
			}{
				{"GET", base + "/comments", nil},
				{"POST", base + "/comments", map[string]any{"body": "hello"}},
				{"GET", base + "/attachments", nil},
				{"GET", base + "/attachments/" + up.Str("id"), nil},
				{"GET", base + "/time-entries", nil},
				{"POST", base + "/time-entries", map[string]any{"minutes": 5, "date": yesterday}},
				{"GET", base + "/feedback", nil},
				{"POST", base + "/feedback", map[string]any{"rating": 1}},
			} {
				if res := w.as[who].Call(call.method, call.path, call.body); res.Status != http.StatusNotFound {
					t.Errorf("%s %s as %s = %d, want 404", call.method, call.path, who, res.Status)
				}
			}
			if res := w.upload(who, rid, `filename="x.pdf"`, []byte(pdfBytes), nil); res.Status != http.StatusNotFound {
				t.Errorf("upload as %s = %d, want 404", who, res.Status)
			}
		}
		w.assertNothingWritten(before, "outsiders")
	})
}
