package api_test

import (
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestNotificationsOverAPI: an order that needs approval tells its
// requester and MKT's managers; each lists only their own, newest first,
// with a cursor; marking read one (another's is 404) and all moves the
// unread count; e-mail preferences change per kind and an unknown kind
// changes nothing; the outbox is for admins, and a pending message is not
// re-sent.
func TestNotificationsOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		member, manager := k.As["mktmember"], k.As["mktmgr"]
		first := k.Order("mktmember", "MKT", "ALWAYS", "Laptop")
		k.Order("mktmember", "MKT", "ALWAYS", "Monitor")

		unread := func(c *webtest.Client) float64 {
			t.Helper()
			res := c.Call("GET", "/api/v1/notifications/unread-count", nil)
			if res.Status != http.StatusOK {
				t.Fatalf("unread-count: %d %s", res.Status, res.Body)
			}
			return res.JSON["unread"].(float64)
		}
		if n := unread(member); n != 2 {
			t.Fatalf("the requester has %v unread, want two receipts", n)
		}
		page := member.Call("GET", "/api/v1/notifications?limit=1", nil)
		items := page.Items()
		if page.Status != http.StatusOK || len(items) != 1 || page.Str("next_cursor") == "" {
			t.Fatalf("first page: %d %s", page.Status, page.Body)
		}
		if items[0]["kind"] != "request_filed" || items[0]["args"].(map[string]any)["title"] != "Monitor" {
			t.Fatalf("newest first: %v", items[0])
		}
		next := member.Call("GET", "/api/v1/notifications?limit=1&cursor="+page.Str("next_cursor"), nil)
		if got := next.Items(); len(got) != 1 || got[0]["link"] != "/requests/"+first.Str("id") || next.Str("next_cursor") != "" {
			t.Fatalf("second page: %s", next.Body)
		}
		mine := manager.Call("GET", "/api/v1/notifications", nil).Items()
		if len(mine) != 2 || mine[0]["kind"] != "approval_waiting" {
			t.Fatalf("the manager's notifications: %v", mine)
		}
		if res := member.Call("POST", "/api/v1/notifications/"+mine[0]["id"].(string)+"/read", nil); res.Status != http.StatusNotFound {
			t.Fatalf("marking another's notification read: %d", res.Status)
		}
		if res := member.Call("POST", "/api/v1/notifications/"+items[0]["id"].(string)+"/read", nil); res.Status != http.StatusNoContent {
			t.Fatalf("mark read: %d %s", res.Status, res.Body)
		}
		if n := unread(member); n != 1 {
			t.Fatalf("after one read %v unread", n)
		}
		if unreadOnly := member.Call("GET", "/api/v1/notifications?unread=true", nil).Items(); len(unreadOnly) != 1 {
			t.Fatalf("unread only: %v", unreadOnly)
		}
		if res := member.Call("POST", "/api/v1/notifications/read-all", nil); res.Status != http.StatusOK || res.JSON["marked"].(float64) != 1 {
			t.Fatalf("read all: %d %s", res.Status, res.Body)
		}
		if n, m := unread(member), unread(manager); n != 0 || m != 2 {
			t.Fatalf("after read-all: member %v, manager %v unread", n, m)
		}

		bad := member.Call("PUT", "/api/v1/notifications/preferences", map[string]any{"items": []map[string]any{
			{"kind": "request_resolved", "email": false}, {"kind": "nonsense", "email": false}}})
		if bad.Status != http.StatusUnprocessableEntity {
			t.Fatalf("an unknown kind: %d %s", bad.Status, bad.Body)
		}
		res := member.Call("PUT", "/api/v1/notifications/preferences", map[string]any{"items": []map[string]any{{"kind": "request_resolved", "email": false}}})
		if res.Status != http.StatusOK {
			t.Fatalf("preferences: %d %s", res.Status, res.Body)
		}
		off := 0
		for _, p := range res.Items() {
			if p["email"] == false {
				off++
				if p["kind"] != "request_resolved" {
					t.Fatalf("turned off: %v", p)
				}
			}
		}
		if off != 1 {
			t.Fatalf("%d kinds off, want 1: %s", off, res.Body)
		}

		if res := member.Call("GET", "/api/v1/outbox", nil); res.Status != http.StatusForbidden {
			t.Fatalf("a member lists the outbox: %d", res.Status)
		}
		box := k.As["admin"].Call("GET", "/api/v1/outbox?status=pending", nil)
		if box.Status != http.StatusOK || len(box.Items()) != 6 { // per order: the receipt and MKT's and GROUP's managers
			t.Fatalf("admin's outbox: %d %s", box.Status, box.Body)
		}
		pending := box.Items()[0]["id"].(string)
		if res := k.As["admin"].Call("POST", "/api/v1/outbox/"+pending+"/resend", nil); res.Status != http.StatusConflict || res.ErrorCode() != "not_failed" {
			t.Fatalf("re-sending a pending message: %d %s", res.Status, res.Body)
		}
	})
}
