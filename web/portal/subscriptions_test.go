package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestPortalSubscriptionsEnd lists MKT's subscription to its manager, who
// ends it; an end before it began is refused on the page and ends nothing.
func TestPortalSubscriptionsEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		k.Service("NET", "monthly", "never", 3100)
		rid := k.Order("mktmember", "MKT", "NET", "Network").Str("id")
		k.Fulfil(rid)
		var subID string
		if err := d.NewSelect().Table("subscriptions").ColumnExpr("CAST(id AS TEXT)").Scan(t.Context(), &subID); err != nil {
			t.Fatal(err)
		}
		today := time.Now().In(webtest.ChargeLocation(t)).Format("2006-01-02")
		mgr := k.SignIn("mktmgr")
		p := mgr.Get("/subscriptions")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="subscription-`+subID+`"`) || !strings.Contains(p.Body, `id="end-`+subID+`"`) ||
			!strings.Contains(p.Body, today) {
			t.Fatalf("subscriptions page = %d\n%s", p.Status, p.Body)
		}
		if p := k.SignIn("finance").Get("/subscriptions"); p.Status != http.StatusOK || strings.Contains(p.Body, `id="end-`+subID+`"`) {
			t.Fatalf("finance sees an end form: %d", p.Status)
		}
		if p := k.SignIn("nobody").Get("/subscriptions"); p.Status != http.StatusNotFound {
			t.Fatalf("nobody's subscriptions page = %d", p.Status)
		}
		path := "/subscriptions/" + subID + "/end"
		p = mgr.Post(path, url.Values{"end_date": {"2020-01-01"}, "confirm": {"yes"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="end-error-`+subID+`"`) {
			t.Fatalf("an end before the start = %d\n%s", p.Status, p.Body)
		}
		if k.CountWhere("subscriptions", "end_date IS NOT NULL") != 0 {
			t.Fatal("a refused end ended the subscription")
		}
		p = mgr.Post(path, url.Values{"end_date": {today}, "confirm": {"yes"}})
		if p.Status != http.StatusSeeOther || p.Location != "/subscriptions" {
			t.Fatalf("end = %d → %s\n%s", p.Status, p.Location, p.Body)
		}
		if p := mgr.Get("/subscriptions"); !strings.Contains(p.Body, `role="status"`) || strings.Contains(p.Body, `id="end-`+subID+`"`) {
			t.Fatalf("after the end the page still offers it:\n%s", p.Body)
		}
		if k.CountWhere("subscriptions", "end_date = ?", today) != 1 {
			t.Fatal("the subscription did not end today")
		}
	})
}
