package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

func rawMail(from, subject, id, body string) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf("From: %s\nTo: IT desk <it-desk@example.org>\nSubject: %s\nMessage-ID: <%s@example.org>\nContent-Type: text/plain; charset=utf-8\n\n%s\n", from, subject, id, body), "\n", "\r\n"))
}

// postMail posts a raw message as a relay does.
func postMail(c *webtest.Client, raw []byte, contentType string) webtest.Response {
	c.T.Helper()
	req, err := http.NewRequest("POST", c.Base+"/api/v1/mail/inbound", bytes.NewReader(raw))
	if err != nil {
		c.T.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return c.Send(req)
}

// relayToken is a bearer client for a token the admin made.
func relayToken(t *testing.T, k *webtest.OrderDesk, who string) *webtest.Client {
	t.Helper()
	res := k.As[who].Call("POST", "/api/v1/me/tokens", map[string]any{"name": "relay"})
	if res.Status != http.StatusCreated {
		t.Fatalf("token for %s: %d %s", who, res.Status, res.Body)
	}
	c := webtest.NewClient(t, k.Srv.URL)
	c.Bearer = res.Str("token")
	return c
}

// setInboundAddress gives IT its inbound address at ALWAYS, as IT's manager.
func setInboundAddress(t *testing.T, k *webtest.OrderDesk) {
	t.Helper()
	res := k.As["itmgr"].Call("PUT", "/api/v1/units/"+webtest.ID(k.Units["IT"])+"/inbound-address",
		map[string]any{"address": "IT-Desk@example.org", "default_service_id": k.Svc["ALWAYS"]})
	if res.Status != http.StatusOK || res.Str("address") != "it-desk@example.org" {
		t.Fatalf("set the inbound address: %d %s", res.Status, res.Body)
	}
}

// TestInboundAddressOverAPI: IT's manager and admins set and read IT's
// inbound address; IT's agent, Marketing's manager and a member are
// refused; a bad address or another unit's service changes nothing.
func TestInboundAddressOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		path := "/api/v1/units/" + webtest.ID(k.Units["IT"]) + "/inbound-address"
		if res := k.As["itmgr"].Call("GET", path, nil); res.Status != http.StatusNotFound {
			t.Fatalf("before any: %d %s", res.Status, res.Body)
		}
		if res := k.As["itmgr"].Call("PUT", path, map[string]any{"address": "Desk <it@example.org>", "default_service_id": k.Svc["ALWAYS"]}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a named address: %d %s", res.Status, res.Body)
		}
		if res := k.As["itmgr"].Call("PUT", path, map[string]any{"address": "it@example.org", "default_service_id": k.Svc["DESIGN"]}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("Marketing's service: %d %s", res.Status, res.Body)
		}
		for _, who := range []string{"itagent", "mktmgr", "mktmember"} {
			if res := k.As[who].Call("PUT", path, map[string]any{"address": "it@example.org", "default_service_id": k.Svc["ALWAYS"]}); res.Status != http.StatusForbidden {
				t.Errorf("%s sets IT's address: %d %s", who, res.Status, res.Body)
			}
			if res := k.As[who].Call("GET", path, nil); res.Status != http.StatusForbidden {
				t.Errorf("%s reads IT's address: %d %s", who, res.Status, res.Body)
			}
		}
		if n := k.Count("inbound_addresses"); n != 0 {
			t.Fatalf("refused addresses stored %d rows", n)
		}
		setInboundAddress(t, k)
		got := k.As["admin"].Call("GET", path, nil)
		if got.Status != http.StatusOK || got.Str("address") != "it-desk@example.org" || got.Str("default_service_id") != k.Svc["ALWAYS"] {
			t.Fatalf("admin reads IT's address: %d %s", got.Status, got.Body)
		}
		if res := k.As["admin"].Call("PUT", path, map[string]any{"address": "helpdesk@example.org", "default_service_id": k.Svc["NEVER"]}); res.Status != http.StatusOK {
			t.Fatalf("admin sets IT's address: %d %s", res.Status, res.Body)
		}
	})
}

// TestInboundMailOverAPI: a relay's token posts a message from a member to
// IT's address and it becomes a request, once however often it comes; the
// message may be larger than the API's general body limit; a cookie
// session, a token without mail:ingest and a wrong media type are refused;
// an unknown sender waits in IT's quarantine for IT's agent (not for a
// member or Marketing's manager), who files it for the member or discards
// one with a note (audited).
func TestInboundMailOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		setInboundAddress(t, k)
		relay := relayToken(t, k, "admin")
		requestsBefore := k.Count("requests")

		raw := rawMail("member <member@example.org>", "Projector broken", "p1", "The projector in room 4 shows nothing."+strings.Repeat(" ", 100<<10))
		first := postMail(relay, raw, "message/rfc822")
		if first.Status != http.StatusAccepted || first.Str("outcome") != "request" || first.Str("request_id") == "" {
			t.Fatalf("inbound: %d %s", first.Status, first.Body)
		}
		again := postMail(relay, raw, "message/rfc822")
		if again.Status != http.StatusAccepted || string(again.Body) != string(first.Body) {
			t.Fatalf("the same message again: %d %s, want %s", again.Status, again.Body, first.Body)
		}
		if n := k.Count("requests"); n != requestsBefore+1 {
			t.Fatalf("requests %d, want one more", n-requestsBefore)
		}
		r := k.As["mktmember"].Call("GET", "/api/v1/requests/"+first.Str("request_id"), nil)
		if r.Status != http.StatusOK || r.Str("title") != "Projector broken" || r.Str("channel") != "email" {
			t.Fatalf("the request: %d %s", r.Status, r.Body)
		}

		other := rawMail("member@example.org", "x", "p2", "y")
		if res := postMail(k.As["admin"], other, "message/rfc822"); res.Status != http.StatusForbidden {
			t.Errorf("a cookie session posts mail: %d %s", res.Status, res.Body)
		}
		if res := postMail(relayToken(t, k, "itagent"), other, "message/rfc822"); res.Status != http.StatusForbidden {
			t.Errorf("an agent's token posts mail: %d %s", res.Status, res.Body)
		}
		if res := postMail(relay, other, "text/plain"); res.Status != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain: %d %s", res.Status, res.Body)
		}

		stranger := postMail(relay, rawMail("Stranger <stranger@elsewhere.example>", "Need a monitor", "s1", "For the new hire."), "message/rfc822")
		if stranger.Status != http.StatusAccepted || stranger.Str("outcome") != "quarantined" || stranger.Str("reason") != "unknown_sender" {
			t.Fatalf("unknown sender: %d %s", stranger.Status, stranger.Body)
		}
		second := postMail(relay, rawMail("Stranger <stranger@elsewhere.example>", "Spam", "s2", "Buy now."), "message/rfc822")
		if second.Str("outcome") != "quarantined" {
			t.Fatalf("second unknown sender: %s", second.Body)
		}

		q := k.As["itagent"].Call("GET", "/api/v1/mail/quarantine?limit=1", nil)
		items := q.Items()
		if q.Status != http.StatusOK || len(items) != 1 || items[0]["id"] != stranger.Str("id") || items[0]["reason"] != "unknown_sender" ||
			items[0]["subject"] != "Need a monitor" || q.Str("next_cursor") == "" {
			t.Fatalf("IT's agent's quarantine: %d %s", q.Status, q.Body)
		}
		if q2 := k.As["itagent"].Call("GET", "/api/v1/mail/quarantine?cursor="+q.Str("next_cursor"), nil); len(q2.Items()) != 1 || q2.Items()[0]["id"] != second.Str("id") {
			t.Fatalf("second page: %s", q2.Body)
		}
		for _, who := range []string{"mktmember", "mktmgr"} {
			c := k.As[who]
			if res := c.Call("GET", "/api/v1/mail/quarantine", nil); res.Status != http.StatusOK || len(res.Items()) != 0 {
				t.Errorf("%s's quarantine: %d %s", who, res.Status, res.Body)
			}
			if res := c.Call("POST", "/api/v1/mail/quarantine/"+stranger.Str("id")+"/file", map[string]any{"requester_id": webtest.ID(k.Users["mktmember"])}); res.Status != http.StatusNotFound {
				t.Errorf("%s files IT's quarantined message: %d %s", who, res.Status, res.Body)
			}
			if res := c.Call("POST", "/api/v1/mail/quarantine/"+stranger.Str("id")+"/discard", map[string]any{"note": "no"}); res.Status != http.StatusNotFound {
				t.Errorf("%s discards IT's quarantined message: %d %s", who, res.Status, res.Body)
			}
		}

		filed := k.As["itagent"].Call("POST", "/api/v1/mail/quarantine/"+stranger.Str("id")+"/file", map[string]any{"requester_id": webtest.ID(k.Users["mktmember"])})
		if filed.Status != http.StatusCreated || filed.Str("title") != "Need a monitor" || filed.Str("requester_id") != webtest.ID(k.Users["mktmember"]) {
			t.Fatalf("file: %d %s", filed.Status, filed.Body)
		}
		if res := k.As["itagent"].Call("POST", "/api/v1/mail/quarantine/"+stranger.Str("id")+"/file", map[string]any{"requester_id": webtest.ID(k.Users["mktmember"])}); res.Status != http.StatusConflict {
			t.Fatalf("file twice: %d %s", res.Status, res.Body)
		}
		if res := k.As["itagent"].Call("POST", "/api/v1/mail/quarantine/"+second.Str("id")+"/discard", map[string]any{"note": "spam"}); res.Status != http.StatusNoContent {
			t.Fatalf("discard: %d %s", res.Status, res.Body)
		}
		if q := k.As["itagent"].Call("GET", "/api/v1/mail/quarantine", nil); len(q.Items()) != 0 {
			t.Fatalf("quarantine after deciding both: %s", q.Body)
		}
		var audited int
		if err := d.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("object_type = 'inbound_message' AND action = 'discarded'").Scan(context.Background(), &audited); err != nil || audited != 1 {
			t.Fatalf("discards audited %d, %v", audited, err)
		}
	})
}

// TestInboundMailHasItsOwnBodyLimit: with a 4 KiB message limit, a 6 KiB
// message is still read and quarantined as oversized, and one past twice
// the limit is 413 and stores nothing.
func TestInboundMailHasItsOwnBodyLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		setInboundAddress(t, k)
		srv := httptest.NewServer(webtest.NewServer(t, d, web.Config{InboundMailLimit: 4 << 10}).Handler())
		t.Cleanup(srv.Close)
		relay := relayToken(t, k, "admin")
		relay.Base = srv.URL
		big := postMail(relay, rawMail("member@example.org", "Logs", "big1", strings.Repeat("log line\r\n", 600)), "message/rfc822")
		if big.Status != http.StatusAccepted || big.Str("outcome") != "quarantined" || big.Str("reason") != "oversized" {
			t.Fatalf("6 KiB: %d %s", big.Status, big.Body)
		}
		huge := postMail(relay, rawMail("member@example.org", "More logs", "big2", strings.Repeat("log line\r\n", 1000)), "message/rfc822")
		if huge.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("10 KiB: %d %s", huge.Status, huge.Body)
		}
		if n := k.Count("inbound_messages"); n != 1 {
			t.Fatalf("inbound messages %d, want the oversized one only", n)
		}
	})
}
