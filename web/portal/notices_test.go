package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/webtest"
)

// TestPortalRatingLinkRatesOnce: the link a resolution mails opens a small
// page without signing in, rates with one click as the requester, and
// then, used, shows a clear page (in the browser's language: whose link it
// was is not told) and changes nothing.
func TestPortalRatingLinkRatesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := webtest.NewOrderDesk(t, d)
		id := k.Order("mktmember", "MKT", "NEVER", "Toner").Str("id")
		k.MustAct("itagent", id, "assign", "assignee_id", webtest.ID(k.Users["itagent"]))
		k.MustAct("itagent", id, "start")
		k.MustAct("itagent", id, "resolve")
		var args []string
		if err := d.NewSelect().Table("notification_events").Column("args_json").
			Where("kind = ? AND object_id = ?", notify.RequestResolved, id).Scan(ctx, &args); err != nil || len(args) != 1 {
			t.Fatalf("resolved events: %v %v", args, err)
		}
		link, _ := strconv.ParseInt(notify.StoredEvent{ArgsJSON: args[0]}.Args()["rating_link"], 10, 64)
		key, err := requests.RatingKey(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		path := requests.RatingPath + requests.RatingToken(key, link)

		b := webtest.NewBrowser(t, k.Srv.URL)
		p := b.Get(path)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Toner") || !strings.Contains(p.Body, `name="rating" value="4"`) {
			t.Fatalf("rating page = %d %s", p.Status, p.Body)
		}
		if p := b.Post(path, url.Values{"rating": {"7"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Rating must be from 1 to 5.") {
			t.Fatalf("rating 7 = %d %s", p.Status, p.Body)
		}
		if p := b.Post(path, url.Values{"rating": {"4"}, "comment": {"quick and kind"}}); p.Status != http.StatusOK || !strings.Contains(p.Body, "Your rating is in.") {
			t.Fatalf("rate = %d %s", p.Status, p.Body)
		}
		var rating []int
		if err := d.NewSelect().Table("request_feedback").Column("rating").Where("request_id = ? AND author_id = ?", id, k.Users["mktmember"]).Scan(ctx, &rating); err != nil || len(rating) != 1 || rating[0] != 4 {
			t.Fatalf("feedback = %v %v", rating, err)
		}
		other := webtest.NewBrowser(t, k.Srv.URL)
		for _, p := range []webtest.Page{other.Post(path, url.Values{"rating": {"1"}}), other.Get(path), other.Get(requests.RatingPath + "1.forged")} {
			if p.Status != http.StatusGone || !strings.Contains(p.Body, "Tämä arviointilinkki ei enää toimi") || strings.Contains(p.Body, `name="rating"`) {
				t.Fatalf("a used or forged link = %d %s", p.Status, p.Body)
			}
		}
		if err := d.NewSelect().Table("request_feedback").Column("rating").Where("request_id = ?", id).Scan(ctx, &rating); err != nil || len(rating) != 1 || rating[0] != 4 {
			t.Fatalf("after the second use: %v %v", rating, err)
		}
	})
}

// TestPortalQueueDigestChoice: an agent chooses the daily digest for new
// requests in the queue on the settings page; the API refuses a digest on
// a kind that has none and changes nothing.
func TestPortalQueueDigestChoice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := webtest.NewOrderDesk(t, d)
		b := k.SignIn("itagent")
		if p := b.Get("/notifications/settings"); !strings.Contains(p.Body, `id="digest-queue_new"`) || strings.Contains(p.Body, `id="digest-queue_new" checked`) {
			t.Fatalf("settings page lacks the digest choice: %s", p.Body)
		}
		if p := b.Post("/notifications/settings", url.Values{"email_queue_new": {"1"}, "digest_queue_new": {"1"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("settings = %d %s", p.Status, p.Body)
		}
		if p := b.Get("/notifications/settings"); !strings.Contains(p.Body, `id="digest-queue_new" checked`) {
			t.Fatal("the digest choice is not shown as made")
		}
		res := k.As["itagent"].Call("PUT", "/api/v1/notifications/preferences", map[string]any{
			"items": []map[string]any{{"kind": "queue_new", "email": true, "digest": false}, {"kind": "request_filed", "email": true, "digest": true}}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a digest on request_filed = %d %s", res.Status, res.Body)
		}
		prefs, err := notify.Preferences(ctx, d, k.Users["itagent"])
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefs {
			if (p.Kind == notify.QueueNew) != (p.Digest != nil) || (p.Kind == notify.QueueNew && !*p.Digest) {
				t.Fatalf("after the refused PUT: %s digest %v", p.Kind, p.Digest)
			}
		}
	})
}
