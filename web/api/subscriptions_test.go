package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestSubscriptionsListedAndEndedThroughTheAPI orders two monthly services,
// bills the month and ends one today: the month keeps exactly today's share
// and the refusals change nothing.
func TestSubscriptionsListedAndEndedThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		loc := webtest.ChargeLocation(t)
		k.Service("NET", "monthly", "never", 3100)
		var rids []string
		for range 2 {
			rid := k.Order("mktmember", "MKT", "NET", "Network").Str("id")
			k.Fulfil(rid)
			rids = append(rids, rid)
		}
		now := time.Now()
		today, month := now.In(loc).Format("2006-01-02"), now.In(loc).Format("2006-01")
		if _, err := billing.BillingRun(context.Background(), d, month, loc, now.UTC()); err != nil {
			t.Fatal(err)
		}
		list := k.As["mktmgr"].Call("GET", "/api/v1/units/"+webtest.ID(k.Units["MKT"])+"/subscriptions", nil)
		if list.Status != http.StatusOK || len(list.Items()) != 2 {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}
		first := list.Items()[0]
		if first["request_id"] != rids[0] || first["since"] != today || first["status"] != "active" || minorOf(first["monthly_price"]) != 3100 {
			t.Fatalf("subscription = %v", first)
		}
		for who, want := range map[string]int{"hrmgr": http.StatusNotFound, "nobody": http.StatusNotFound, "mktmember": http.StatusNotFound} {
			if res := k.As[who].Call("GET", "/api/v1/units/"+webtest.ID(k.Units["MKT"])+"/subscriptions", nil); res.Status != want {
				t.Errorf("%s listing: %d %s", who, res.Status, res.Body)
			}
		}
		path := "/api/v1/subscriptions/" + first["id"].(string)
		charges := k.Count("charges")
		for _, c := range []struct {
			who, date string
			want      int
		}{
			{"finance", today, http.StatusForbidden},
			{"auditor", today, http.StatusForbidden},
			{"hrmgr", today, http.StatusNotFound},
			{"mktmgr", "2020-01-01", http.StatusUnprocessableEntity},
			{"mktmgr", "tomorrow", http.StatusUnprocessableEntity},
		} {
			if res := k.As[c.who].Call("POST", path+"/end", map[string]any{"end_date": c.date}); res.Status != c.want {
				t.Errorf("%s ending on %s: %d %s, want %d", c.who, c.date, res.Status, res.Body, c.want)
			}
		}
		if k.Count("charges") != charges || k.CountWhere("subscriptions", "end_date IS NOT NULL") != 0 {
			t.Fatal("a refused end wrote something")
		}
		if n := k.CountWhere("audit_events", "object_type = 'subscription' AND action = 'refuse'"); n != 4 {
			t.Fatalf("%d refusals audited, want 4 (the unseen one is not)", n)
		}
		// The person who ordered it ends it today.
		res := k.As["mktmember"].Call("POST", path+"/end", map[string]any{"end_date": today})
		if res.Status != http.StatusOK || res.Str("status") != "ended" || res.Str("end_date") != today || res.JSON["next_charge"] != nil {
			t.Fatalf("end: %d %s", res.Status, res.Body)
		}
		_, _, days := monthDays(month)
		var sum int64
		for _, c := range k.ChargesOf(rids[0]) {
			sum += minorOf(c["amount"])
		}
		if want := roundHalfEven(3100, days); sum != want {
			t.Fatalf("the ended month charges %d, want one day of %d: %d", sum, days, want)
		}
		if res := k.As["mktmember"].Call("POST", path+"/end", map[string]any{"end_date": today}); res.Status != http.StatusConflict {
			t.Fatalf("second end: %d %s", res.Status, res.Body)
		}
		// Once the month is closed, no subscription ends in it.
		webtest.CloseOnceEnded(t, d, month)
		second := "/api/v1/subscriptions/" + list.Items()[1]["id"].(string)
		if res := k.As["itmgr"].Call("POST", second+"/end", map[string]any{"end_date": today}); res.Status != http.StatusConflict || res.ErrorCode() != "period_closed" {
			t.Fatalf("end in a closed month: %d %s", res.Status, res.Body)
		}
		if res := k.As["itmgr"].Call("GET", second, nil); res.Status != http.StatusOK || res.JSON["end_date"] != nil {
			t.Fatalf("after the refused end: %d %s", res.Status, res.Body)
		}
		k.MustVerify()
	})
}

func monthDays(month string) (first, last time.Time, days int64) {
	first, _ = time.Parse("2006-01", month)
	last = first.AddDate(0, 1, -1)
	return first, last, int64(last.Day())
}
