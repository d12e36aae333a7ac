package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
	"github.com/tiski/tiski/webhooks"
)

// signedReceiver is a webhook receiver that counts the messages whose
// signature verifies with the secret the creation answered.
type signedReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	verified int
	bad      int
}

func newSignedReceiver(t *testing.T) *signedReceiver {
	r := &signedReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if webhooks.Verify(r.secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
			req.Header.Get("webhook-signature"), body, time.Now(), 5*time.Minute) != nil {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		r.verified++
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *signedReceiver) counts() (verified, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verified, r.bad
}

// loopbackServer is the fixture's database behind a second server whose
// operator allowed 127.0.0.1 (TISKI_WEBHOOK_ALLOW), so the test's receiver
// can be subscribed; the clients' sessions work on both.
func loopbackServer(t *testing.T, d *db.DB) string {
	srv := httptest.NewServer(webtest.NewServer(t, d, web.Config{WebhookAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWebhooksOverAPI: IT's manager subscribes IT to request_filed with a
// secret shown once; an internal URL is refused with a clear message and
// nothing stored; an order reaches the receiver signed and the delivery log
// shows it, paged; an agent, a member and Marketing's people are refused or
// see nothing; the organisation's subscriptions are the admins'; delete
// ends it and keeps its log.
func TestWebhooksOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		itmgr, admin := k.As["itmgr"], k.As["admin"]
		it := webtest.ID(k.Units["IT"])
		recv := newSignedReceiver(t)

		for _, url := range []string{"http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data"} {
			res := itmgr.Call("POST", "/api/v1/webhooks", map[string]any{"unit_id": it, "name": "Chat", "url": url, "kinds": []string{"request_filed"}})
			details, _ := res.JSON["error"].(map[string]any)["details"].(map[string]any)
			msg, _ := res.JSON["error"].(map[string]any)["message"].(string)
			if res.Status != http.StatusUnprocessableEntity || details["field"] != "url" || !strings.Contains(msg, "loopback, private, link-local or metadata") {
				t.Fatalf("subscribe %s: %d %s, want 422 on url", url, res.Status, res.Body)
			}
		}
		if n := k.Count("webhook_subscriptions"); n != 0 {
			t.Fatalf("refused subscriptions stored %d rows", n)
		}
		if res := itmgr.Call("POST", "/api/v1/webhooks", map[string]any{"unit_id": it, "name": "Chat", "url": "https://93.184.216.34/hook", "format": "xml", "kinds": []string{"request_filed"}}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("format xml: %d %s", res.Status, res.Body)
		}

		// Created through the server that may reach the test's receiver.
		mgrLoop := *itmgr
		mgrLoop.Base = loopbackServer(t, d)
		created := mgrLoop.Call("POST", "/api/v1/webhooks", map[string]any{"unit_id": it, "name": "IT chat", "url": recv.URL + "/hook", "kinds": []string{"request_filed"}})
		if created.Status != http.StatusCreated || !strings.HasPrefix(created.Str("secret"), "whsec_") {
			t.Fatalf("create: %d %s", created.Status, created.Body)
		}
		id := created.Str("id")
		recv.mu.Lock()
		recv.secret = created.Str("secret")
		recv.mu.Unlock()
		got := itmgr.Call("GET", "/api/v1/webhooks/"+id, nil)
		if got.Status != http.StatusOK || got.Str("url") != recv.URL+"/hook" || strings.Contains(string(got.Body), "whsec_") {
			t.Fatalf("get: %d %s (want it without its secret)", got.Status, got.Body)
		}
		if list := itmgr.Call("GET", "/api/v1/webhooks?unit_id="+it, nil); list.Status != http.StatusOK || len(list.Items()) != 1 || strings.Contains(string(list.Body), "whsec_") {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}

		// Two orders from MKT for IT: two signed deliveries, logged.
		k.Order("mktmember", "MKT", "NEVER", "Cables", "quantity", "2")
		k.Order("mktmember", "MKT", "NEVER", "Mice", "quantity", "1")
		cat, err := i18n.New()
		if err != nil {
			t.Fatal(err)
		}
		g := &webhooks.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		w := &outbox.Worker{DB: d, Channels: map[string]outbox.Deliverer{outbox.ChannelWebhook: &webhooks.Deliverer{DB: d, Guard: g, Catalog: cat, BaseURL: "http://tiski.test"}}}
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if verified, bad := recv.counts(); verified != 2 || bad != 0 {
			t.Fatalf("receiver verified %d, refused %d; want 2 and 0", verified, bad)
		}
		page := itmgr.Call("GET", "/api/v1/webhooks/"+id+"/deliveries?limit=1", nil)
		items := page.Items()
		if page.Status != http.StatusOK || len(items) != 1 || items[0]["outcome"] != "delivered" || items[0]["response_code"] != float64(200) ||
			items[0]["kind"] != "request_filed" || page.Str("next_cursor") == "" {
			t.Fatalf("deliveries page 1: %d %s", page.Status, page.Body)
		}
		page2 := itmgr.Call("GET", "/api/v1/webhooks/"+id+"/deliveries?limit=1&cursor="+page.Str("next_cursor"), nil)
		if it2 := page2.Items(); page2.Status != http.StatusOK || len(it2) != 1 || it2[0]["id"] == items[0]["id"] || page2.Str("next_cursor") != "" {
			t.Fatalf("deliveries page 2: %d %s", page2.Status, page2.Body)
		}

		// Who may not.
		for _, who := range []string{"itagent", "mktmember", "mktmgr"} {
			c := k.As[who]
			if res := c.Call("GET", "/api/v1/webhooks/"+id, nil); res.Status != http.StatusNotFound {
				t.Errorf("%s reads IT's subscription: %d", who, res.Status)
			}
			if res := c.Call("GET", "/api/v1/webhooks/"+id+"/deliveries", nil); res.Status != http.StatusNotFound {
				t.Errorf("%s reads IT's deliveries: %d", who, res.Status)
			}
			if res := c.Call("DELETE", "/api/v1/webhooks/"+id, nil); res.Status != http.StatusNotFound {
				t.Errorf("%s deletes IT's subscription: %d", who, res.Status)
			}
			if res := c.Call("GET", "/api/v1/webhooks?unit_id="+it, nil); res.Status != http.StatusForbidden {
				t.Errorf("%s lists IT's subscriptions: %d", who, res.Status)
			}
			if res := c.Call("POST", "/api/v1/webhooks", map[string]any{"unit_id": it, "name": "x", "url": "https://93.184.216.34/", "kinds": []string{"request_filed"}}); res.Status != http.StatusForbidden {
				t.Errorf("%s subscribes IT: %d %s", who, res.Status, res.Body)
			}
		}
		if res := itmgr.Call("POST", "/api/v1/webhooks", map[string]any{"name": "Org", "url": "https://93.184.216.34/", "kinds": []string{"request_filed"}}); res.Status != http.StatusForbidden {
			t.Errorf("IT's manager subscribes the organisation: %d %s", res.Status, res.Body)
		}
		org := admin.Call("POST", "/api/v1/webhooks", map[string]any{"name": "Org", "url": "https://93.184.216.34/", "format": "chat", "locale": "fi", "kinds": []string{"dispute_raised"}})
		if org.Status != http.StatusCreated || org.JSON["unit_id"] != nil {
			t.Fatalf("admin subscribes the organisation: %d %s", org.Status, org.Body)
		}
		if list := admin.Call("GET", "/api/v1/webhooks", nil); len(list.Items()) != 1 || list.Items()[0]["id"] != org.Str("id") {
			t.Fatalf("the organisation's list: %s", list.Body)
		}
		if res := itmgr.Call("GET", "/api/v1/webhooks/"+org.Str("id"), nil); res.Status != http.StatusNotFound {
			t.Errorf("IT's manager reads the organisation's subscription: %d", res.Status)
		}

		if res := itmgr.Call("DELETE", "/api/v1/webhooks/"+id, nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		if res := itmgr.Call("GET", "/api/v1/webhooks/"+id, nil); res.Status != http.StatusNotFound {
			t.Fatalf("a deleted subscription: %d", res.Status)
		}
		if list := itmgr.Call("GET", "/api/v1/webhooks?unit_id="+it, nil); len(list.Items()) != 0 {
			t.Fatalf("list after delete: %s", list.Body)
		}
		if n := k.Count("webhook_deliveries"); n != 2 {
			t.Fatalf("delivery log has %d rows after delete, want 2 kept", n)
		}
	})
}
