package portal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
	"github.com/tiski/tiski/webhooks"
)

// TestPortalWebhooks: IT's manager adds a webhook for IT; a URL aimed at
// the metadata address is refused beside the field, in Finnish, and
// stores nothing; the secret is shown once; an order's delivery shows in
// the log; an agent, a member and Marketing's manager see no such page;
// delete asks first and keeps the log; admins keep the organisation's.
func TestPortalWebhooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		it := webtest.ID(k.Units["IT"])
		mgr := k.SignIn("itmgr")
		inFinnish(t, mgr)
		p := mgr.Get("/webhooks")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="webhook-new"`) || !strings.Contains(p.Body, `name="unit_id" value="`+it+`"`) ||
			!strings.Contains(p.Body, `href="/webhooks"`) {
			t.Fatalf("webhooks page = %d\n%s", p.Status, p.Body)
		}
		p = mgr.Post("/webhooks", url.Values{"unit_id": {it}, "name": {"IT chat"}, "url": {"http://169.254.169.254/latest"}, "kinds": {"request_filed"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="webhook-url-error"`) ||
			!strings.Contains(p.Body, "Webhookeja ei lähetetä osoitteeseen 169.254.169.254") || !strings.Contains(p.Body, `value="IT chat"`) {
			t.Fatalf("metadata URL = %d\n%s", p.Status, p.Body)
		}
		if n := k.Count("webhook_subscriptions"); n != 0 {
			t.Fatalf("a refused webhook stored %d rows", n)
		}
		if p := mgr.Post("/webhooks", url.Values{"unit_id": {it}, "name": {"IT chat"}, "url": {"https://93.184.216.34/hook"}}); p.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, "Valitse vähintään yksi tapahtumalaji.") {
			t.Fatalf("no kinds = %d\n%s", p.Status, p.Body)
		}

		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(recv.Close)
		loopSrv := httptest.NewServer(webtest.NewServer(t, d, web.Config{WebhookAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}).Handler())
		t.Cleanup(loopSrv.Close)
		loop := *mgr
		loop.Base = loopSrv.URL
		p = loop.Post("/webhooks", url.Values{"unit_id": {it}, "name": {"IT chat"}, "url": {recv.URL + "/hook"}, "kinds": {"request_filed", "request_resolved"}})
		secret := regexp.MustCompile(`<code>(whsec_[^<]+)</code>`).FindStringSubmatch(p.Body)
		if p.Status != http.StatusCreated || secret == nil || !strings.Contains(p.Body, `id="webhook-secret"`) {
			t.Fatalf("create = %d\n%s", p.Status, p.Body)
		}
		var id string
		if err := d.NewSelect().Table("webhook_subscriptions").ColumnExpr("CAST(id AS TEXT)").Scan(context.Background(), &id); err != nil {
			t.Fatal(err)
		}
		if p := mgr.Get("/webhooks?unit_id=" + it); !strings.Contains(p.Body, `id="webhook-`+id+`"`) || strings.Contains(p.Body, secret[1]) {
			t.Fatalf("list shows %v or the secret:\n%s", id, p.Body)
		}
		p = mgr.Get("/webhooks/" + id)
		if p.Status != http.StatusOK || strings.Contains(p.Body, secret[1]) || !strings.Contains(p.Body, `id="webhook-log-empty"`) {
			t.Fatalf("webhook page = %d\n%s", p.Status, p.Body)
		}

		k.Order("mktmember", "MKT", "NEVER", "Cables", "quantity", "2")
		cat, err := i18n.New()
		if err != nil {
			t.Fatal(err)
		}
		g := &webhooks.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		w := &outbox.Worker{DB: d, Channels: map[string]outbox.Deliverer{outbox.ChannelWebhook: &webhooks.Deliverer{DB: d, Guard: g, Catalog: cat, BaseURL: "http://tiski.test"}}}
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		p = mgr.Get("/webhooks/" + id)
		if !regexp.MustCompile(`(?s)<tr id="delivery-\d+">.*?Toimitettu.*?200`).MatchString(p.Body) {
			t.Fatalf("the log shows no delivered attempt:\n%s", p.Body)
		}

		for _, who := range []string{"itagent", "mktmember", "mktmgr"} {
			b := k.SignIn(who)
			if p := b.Get("/webhooks/" + id); p.Status != http.StatusNotFound {
				t.Errorf("%s reads IT's webhook: %d", who, p.Status)
			}
			if p := b.Post("/webhooks/"+id+"/delete", url.Values{"confirm": {"yes"}}); p.Status != http.StatusNotFound {
				t.Errorf("%s deletes IT's webhook: %d", who, p.Status)
			}
			if p := b.Get("/webhooks?unit_id=" + it); p.Status != http.StatusNotFound {
				t.Errorf("%s lists IT's webhooks: %d", who, p.Status)
			}
			if p := b.Post("/webhooks", url.Values{"unit_id": {it}, "name": {"x"}, "url": {"https://93.184.216.34/"}, "kinds": {"request_filed"}}); p.Status != http.StatusForbidden {
				t.Errorf("%s adds a webhook for IT: %d", who, p.Status)
			}
		}
		if p := k.SignIn("mktmember").Get("/"); strings.Contains(p.Body, `href="/webhooks"`) {
			t.Error("a member's navigation offers webhooks")
		}

		p = mgr.Post("/webhooks/"+id+"/delete", url.Values{})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-yes"`) {
			t.Fatalf("delete without confirmation = %d\n%s", p.Status, p.Body)
		}
		if n := k.Count("webhook_subscriptions"); n != 1 {
			t.Fatal("asking deleted")
		}
		p = mgr.Post("/webhooks/"+id+"/delete", url.Values{"confirm": {"yes"}})
		if p.Status != http.StatusSeeOther || p.Location != "/webhooks?unit_id="+it {
			t.Fatalf("delete = %d → %s\n%s", p.Status, p.Location, p.Body)
		}
		if p := mgr.Get("/webhooks/" + id); p.Status != http.StatusNotFound {
			t.Fatalf("a deleted webhook's page = %d", p.Status)
		}
		if n := k.Count("webhook_deliveries"); n != 1 {
			t.Fatalf("the log has %d rows after delete, want 1", n)
		}

		admin := k.SignIn("admin")
		inFinnish(t, admin)
		if p := admin.Get("/webhooks"); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="unit_id" value="0"`) || !strings.Contains(p.Body, "Koko organisaatio") {
			t.Fatalf("admin's webhooks page = %d\n%s", p.Status, p.Body)
		}
		if p := admin.Post("/webhooks", url.Values{"unit_id": {"0"}, "name": {"Ops"}, "url": {"https://93.184.216.34/ops"}, "format": {"chat"}, "kinds": {"dispute_raised"}}); p.Status != http.StatusCreated {
			t.Fatalf("admin adds the organisation's webhook = %d\n%s", p.Status, p.Body)
		}
		if p := mgr.Post("/webhooks", url.Values{"unit_id": {"0"}, "name": {"Org"}, "url": {"https://93.184.216.34/"}, "kinds": {"request_filed"}}); p.Status != http.StatusForbidden {
			t.Fatalf("IT's manager adds an organisation webhook = %d", p.Status)
		}
	})
}
