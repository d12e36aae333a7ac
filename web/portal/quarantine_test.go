package portal_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// relayPost posts a raw message to /api/v1/mail/inbound with a relay token
// of the admin's and returns the stored message's id.
func relayPost(t *testing.T, k *webtest.OrderDesk, token, from, subject, messageID string) string {
	t.Helper()
	raw := strings.ReplaceAll("From: "+from+"\nTo: it-desk@example.org\nSubject: "+subject+"\nMessage-ID: <"+messageID+"@example.org>\n\nPlease help.\n", "\n", "\r\n")
	req, _ := http.NewRequest("POST", k.Srv.URL+"/api/v1/mail/inbound", bytes.NewReader([]byte(raw)))
	req.Header.Set("Content-Type", "message/rfc822")
	c := webtest.NewClient(t, k.Srv.URL)
	c.Bearer = token
	res := c.Send(req)
	if res.Status != http.StatusAccepted {
		t.Fatalf("relay: %d %s", res.Status, res.Body)
	}
	return res.Str("id")
}

// TestPortalInboundAddressAndQuarantine: IT's manager gives IT its inbound
// address on the unit's page (a named address refused beside the field);
// IT's agent, Marketing's manager and a member may not. A stranger's two
// messages wait in IT's quarantine with their reason for IT's agent, not
// for a member or Marketing's manager; the agent files one for a member
// (an unknown address refused beside the field) and discards the other
// after a confirmation, audited.
func TestPortalInboundAddressAndQuarantine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		it := webtest.ID(k.Units["IT"])
		mgr := k.SignIn("itmgr")
		inFinnish(t, mgr)
		p := mgr.Get("/admin/units/" + it)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="inbound"`) || !strings.Contains(p.Body, "Yksiköllä ei ole saapuvan postin osoitetta.") {
			t.Fatalf("IT's page = %d\n%s", p.Status, p.Body)
		}
		path := "/admin/units/" + it + "/inbound-address"
		p = mgr.Post(path, url.Values{"inbound_address": {"Desk <it-desk@example.org>"}, "inbound_service_id": {k.Svc["NEVER"]}})
		if p.Status != http.StatusUnprocessableEntity || fieldError(t, p.Body, "inbound-address") != "osoitteen on oltava pelkkä sähköpostiosoite, kuten it-desk@example.org" {
			t.Fatalf("a named address = %d\n%s", p.Status, p.Body)
		}
		for _, who := range []string{"itagent", "mktmgr", "mktmember"} {
			b := k.SignIn(who)
			if p := b.Post(path, url.Values{"inbound_address": {"it-desk@example.org"}, "inbound_service_id": {k.Svc["NEVER"]}}); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
				t.Errorf("%s sets IT's address: %d", who, p.Status)
			}
			if p := b.Get("/admin/units/" + it); strings.Contains(p.Body, `id="inbound"`) {
				t.Errorf("%s sees IT's inbound address form", who)
			}
		}
		if n := k.Count("inbound_addresses"); n != 0 {
			t.Fatalf("refused addresses stored %d rows", n)
		}
		p = mgr.Post(path, url.Values{"inbound_address": {"IT-Desk@example.org"}, "inbound_service_id": {k.Svc["NEVER"]}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("set the address = %d\n%s", p.Status, p.Body)
		}
		if p := mgr.Get("/admin/units/" + it); !strings.Contains(p.Body, "Osoitteeseen it-desk@example.org lähetetty posti kirjataan pyynnöiksi tänne.") {
			t.Fatalf("IT's page after setting:\n%s", p.Body)
		}

		token := k.As["admin"].Call("POST", "/api/v1/me/tokens", map[string]any{"name": "relay"}).Str("token")
		first := relayPost(t, k, token, "Stranger <stranger@elsewhere.example>", "Need a monitor", "q1")
		second := relayPost(t, k, token, "Stranger <stranger@elsewhere.example>", "Cheap watches", "q2")

		agent := k.SignIn("itagent")
		inFinnish(t, agent)
		p = agent.Get("/mail/quarantine")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="message-`+first+`"`) || !strings.Contains(p.Body, `id="message-`+second+`"`) ||
			!strings.Contains(p.Body, "Kenelläkään käyttäjällä ei ole lähettäjän osoitetta") || !strings.Contains(p.Body, `href="/mail/quarantine"`) {
			t.Fatalf("the agent's quarantine = %d\n%s", p.Status, p.Body)
		}
		for _, who := range []string{"mktmember", "mktmgr"} {
			b := k.SignIn(who)
			if p := b.Get("/mail/quarantine"); p.Status != http.StatusNotFound {
				t.Errorf("%s's quarantine page = %d", who, p.Status)
			}
			if p := b.Post("/mail/quarantine/"+first+"/file", url.Values{"requester": {"member@example.org"}}); p.Status != http.StatusNotFound {
				t.Errorf("%s files IT's message: %d", who, p.Status)
			}
			if p := b.Post("/mail/quarantine/"+first+"/discard", url.Values{"note": {"no"}, "confirm": {"yes"}}); p.Status != http.StatusNotFound {
				t.Errorf("%s discards IT's message: %d", who, p.Status)
			}
		}

		requestsBefore := k.Count("requests")
		p = agent.Post("/mail/quarantine/"+first+"/file", url.Values{"requester": {"nobody-here@example.org"}, "title": {"Monitor"}})
		if p.Status != http.StatusUnprocessableEntity || fieldError(t, p.Body, "requester-"+first) != "Kenelläkään Tiskissä ei ole osoitetta ”nobody-here@example.org”." {
			t.Fatalf("an unknown person = %d\n%s", p.Status, p.Body)
		}
		p = agent.Post("/mail/quarantine/"+first+"/file", url.Values{"requester": {"member@example.org"}, "title": {"Monitor for the new hire"}})
		if p.Status != http.StatusSeeOther || p.Location != "/mail/quarantine" {
			t.Fatalf("file = %d → %s\n%s", p.Status, p.Location, p.Body)
		}
		if n := k.Count("requests"); n != requestsBefore+1 {
			t.Fatalf("filing made %d requests", n-requestsBefore)
		}
		var title string
		if err := d.NewSelect().Table("requests").Column("title").Where("requester_id = ? AND channel = 'email'", k.Users["mktmember"]).Scan(context.Background(), &title); err != nil || title != "Monitor for the new hire" {
			t.Fatalf("the filed request: %q %v", title, err)
		}

		p = agent.Post("/mail/quarantine/"+second+"/discard", url.Values{"note": {"spam"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-yes"`) {
			t.Fatalf("discard without confirmation = %d\n%s", p.Status, p.Body)
		}
		p = agent.Post("/mail/quarantine/"+second+"/discard", url.Values{"note": {"spam"}, "confirm": {"yes"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("discard = %d\n%s", p.Status, p.Body)
		}
		if p := agent.Get("/mail/quarantine"); !strings.Contains(p.Body, `id="quarantine-empty"`) || !strings.Contains(p.Body, `role="status"`) {
			t.Fatalf("the quarantine after both:\n%s", p.Body)
		}
		var audited int
		if err := d.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("object_type = 'inbound_message'").Scan(context.Background(), &audited); err != nil || audited != 2 {
			t.Fatalf("decisions audited %d, %v", audited, err)
		}
	})
}
