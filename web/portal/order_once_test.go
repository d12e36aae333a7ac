package portal_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

var orderTokenField = regexp.MustCompile(`name="order_token" value="([^"]+)"`)

// Finding (issue 17, item 5): a double-submitted order form filed two
// requests. The form now carries a token; the same form posted again, one
// after the other or at the same moment, files one request, and every
// answer shows that request.
func TestOrderFormSentTwiceFilesOneRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		res := f.Login("itmgr").Call("POST", "/api/v1/services", map[string]any{"provider_unit_id": webtest.ID(f.Units["IT"]), "code": "DOCK", "name": "Dock",
			"pricing_model": "fixed", "price": map[string]any{"amount_minor": 5000, "currency": "EUR"},
			"approval_policy": "never", "sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}})
		if res.Status != http.StatusCreated {
			t.Fatal(res.Status, string(res.Body))
		}
		service := "/catalog/" + res.Str("id")
		member := f.SignIn("mktmember")
		formOf := func() url.Values {
			t.Helper()
			p := member.Get(service)
			m := orderTokenField.FindStringSubmatch(p.Body)
			if m == nil {
				t.Fatalf("the order form carries no token: %d", p.Status)
			}
			return url.Values{"consumer_unit_id": {webtest.ID(f.Units["MKT"])}, "title": {"Dock"}, "order_token": {m[1]}, "csrf_token": {member.CSRF}}
		}

		// One after the other: a double click, or a resend after a slow answer.
		form := formOf()
		first := member.Post(service, form)
		second := member.Post(service, form)
		if first.Status != http.StatusSeeOther || second.Status != http.StatusSeeOther || second.Location != first.Location {
			t.Fatalf("sent twice: %d → %s, then %d → %s", first.Status, first.Location, second.Status, second.Location)
		}
		if n := f.Count("requests"); n != 1 {
			t.Fatalf("the form sent twice filed %d requests", n)
		}
		if p := member.Get(second.Location); p.Status != http.StatusOK || !strings.Contains(p.Body, "already sent") {
			t.Errorf("the second answer does not show the filed request: %d", p.Status)
		}
		// A new rendering of the form is a new order.
		if p := member.Post(service, formOf()); p.Status != http.StatusSeeOther || p.Location == first.Location || f.Count("requests") != 2 {
			t.Fatalf("a fresh form = %d → %s, %d requests", p.Status, p.Location, f.Count("requests"))
		}

		// At the same moment: both answers point at the one request filed.
		form = formOf()
		body := form.Encode()
		var wg sync.WaitGroup
		locations := make([]string, 2)
		statuses := make([]int, 2)
		client := *member.HTTP
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", f.Srv.URL+service, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				statuses[i], locations[i] = res.StatusCode, res.Header.Get("Location")
			}()
		}
		wg.Wait()
		if statuses[0] != http.StatusSeeOther || statuses[1] != http.StatusSeeOther || locations[0] != locations[1] {
			t.Fatalf("sent at once: %v → %v", statuses, locations)
		}
		if n := f.Count("requests"); n != 3 {
			t.Fatalf("the form sent twice at once left %d requests, want 3", n)
		}
	})
}
