package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/web/webtest"
)

// TestPortalBellNotificationsAndSettings: a member's order rings their
// bell on every page; the notifications page lists it, opening it marks it
// read and leads to the request; the settings form turns e-mail off per
// kind; the outbox page is the admins', who re-send a failed message.
func TestPortalBellNotificationsAndSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := webtest.NewOrderDesk(t, d)
		id := k.Order("mktmember", "MKT", "NEVER", "Toner").Str("id")
		b := k.SignIn("mktmember")
		for _, path := range []string{"/", "/catalog", "/requests/" + id} {
			if p := b.Get(path); !strings.Contains(p.Body, `id="unread-count">1<`) || !strings.Contains(p.Body, `href="/notifications"`) {
				t.Fatalf("%s: no bell with one unread: %s", path, p.Body)
			}
		}
		list, err := notify.List(ctx, d, k.Users["mktmember"], 0, 10, false)
		if err != nil || len(list) != 1 {
			t.Fatalf("notifications = %v, %v", list, err)
		}
		nid := webtest.ID(list[0].ID)
		p := b.Get("/notifications")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="notification-`+nid+`" class="unread"`) || !strings.Contains(p.Body, "Toner") {
			t.Fatalf("notifications page = %d %s", p.Status, p.Body)
		}
		if p := b.Post("/notifications/"+nid+"/read", url.Values{"open": {"1"}}); p.Status != http.StatusSeeOther || p.Location != "/requests/"+id {
			t.Fatalf("open = %d → %s", p.Status, p.Location)
		}
		if p := b.Get("/"); strings.Contains(p.Body, `id="unread-count"`) {
			t.Fatal("the bell still counts a read notification")
		}
		other := k.SignIn("mktmgr")
		if p := other.Post("/notifications/"+nid+"/read", url.Values{}); p.Status != http.StatusNotFound {
			t.Fatalf("another user marks it read: %d", p.Status)
		}

		if p := b.Post("/notifications/settings", url.Values{"email_request_filed": {"1"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("settings = %d %s", p.Status, p.Body)
		}
		prefs, _ := notify.Preferences(ctx, d, k.Users["mktmember"])
		for _, pref := range prefs {
			if pref.Email != (pref.Kind == notify.RequestFiled) {
				t.Fatalf("after the form %s e-mail = %v", pref.Kind, pref.Email)
			}
		}
		if p := b.Get("/notifications/settings"); !strings.Contains(p.Body, `id="email-request_filed" checked`) || strings.Contains(p.Body, `id="email-request_resolved" checked`) {
			t.Fatalf("settings page does not show the choices: %s", p.Body)
		}

		if p := b.Get("/admin/outbox"); p.Status != http.StatusNotFound {
			t.Fatalf("a member's outbox page = %d", p.Status)
		}
		rows, _ := outbox.List(ctx, d, "", 0, 10)
		failed := rows[0].ID
		if _, err := d.NewUpdate().Table("outbox").Set("status = 'failed'").Set("last_error = '550 mailbox unavailable'").Where("id = ?", failed).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		admin := k.SignIn("admin")
		p = admin.Get("/admin/outbox")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "550 mailbox unavailable") || !strings.Contains(p.Body, `id="resend-`+webtest.ID(failed)+`"`) {
			t.Fatalf("admin's outbox page = %d %s", p.Status, p.Body)
		}
		if p := admin.Post("/admin/outbox/"+webtest.ID(failed)+"/resend", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("re-send = %d %s", p.Status, p.Body)
		}
		if m, _ := outbox.Get(ctx, d, failed); m.Status != outbox.Pending || m.Attempts != 0 {
			t.Fatalf("after the re-send: %+v", m)
		}
	})
}
