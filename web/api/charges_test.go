package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web/webtest"
)

func minorOf(v any) int64 {
	m, _ := v.(map[string]any)
	f, _ := m["amount_minor"].(float64)
	return int64(f)
}

// helsinkiMonths are the organisation's months an instant just before and
// just after a step may fall in (the same month but at a month's turn).
func helsinkiMonths(before time.Time) []string {
	loc, _ := time.LoadLocation(webtest.ChargeZone)
	return []string{before.In(loc).Format("2006-01"), time.Now().In(loc).Format("2006-01")}
}

// halfEven is num/den rounded half to even.
func roundHalfEven(num, den int64) int64 {
	r := new(big.Rat).SetFrac64(num, den)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	twice := new(big.Int).Mul(m, big.NewInt(2))
	switch twice.Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

func TestRoundHalfEvenHelper(t *testing.T) {
	for _, c := range [][3]int64{{1001, 2, 500}, {1003, 2, 502}, {10, 3, 3}, {20, 3, 7}, {9009, 2, 4504}} {
		if got := roundHalfEven(c[0], c[1]); got != c[2] {
			t.Errorf("roundHalfEven(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

// TestResolvePostsOneChargeAtTheQuote resolves a fixed and a per-unit order
// whose prices changed after ordering: each posts one charge at the quote,
// visible to both units' managers, finance and the auditor and to nobody
// else.
func TestResolvePostsOneChargeAtTheQuote(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		fixed := k.Service("DOCK", "fixed", "always", 12000)
		perUnit := k.Service("CABLE", "per_unit", "never", 2500)
		fixedReq := k.Order("mktmember", "MKT", "DOCK", "Docking station")
		perUnitReq := k.Order("mktmember", "MKT", "CABLE", "Cables", "quantity", "3")
		if fixedReq.Str("status") != "pending_approval" {
			t.Fatalf("fixed order: %s", fixedReq.Body)
		}
		// The price changes today and again later: the quotes stand.
		for _, sid := range []string{fixed, perUnit} {
			k.Rate(sid, 99900, webtest.TodayPlus(0))
			k.Rate(sid, 88800, webtest.TodayPlus(10))
		}
		before := time.Now()
		for _, r := range []webtest.Response{fixedReq, perUnitReq} {
			k.Fulfil(r.Str("id"))
		}
		months := helsinkiMonths(before)
		for _, c := range []struct {
			order             webtest.Response
			service, quantity string
			unitPrice, amount int64
		}{
			{fixedReq, fixed, "1", 12000, 12000},
			{perUnitReq, perUnit, "3", 2500, 7500},
		} {
			rid := c.order.Str("id")
			got := k.ChargesOf(rid)
			if len(got) != 1 {
				t.Fatalf("request %s has %d charges: %v", rid, len(got), got)
			}
			ch := got[0]
			if ch["quantity"] != c.quantity || minorOf(ch["unit_price"]) != c.unitPrice || minorOf(ch["amount"]) != c.amount ||
				ch["rate_id"] != c.order.Str("rate_id") || ch["service_id"] != c.service || !slices.Contains(months, ch["period"].(string)) ||
				ch["late_from"] != nil || ch["status"] != "posted" || ch["showback"] != false ||
				ch["consumer_unit_id"] != webtest.ID(k.Units["MKT"]) || ch["provider_unit_id"] != webtest.ID(k.Units["IT"]) {
				t.Errorf("charge of %s = %v", rid, ch)
			}
			cid := ch["id"].(string)
			for _, who := range []string{"mktmgr", "itmgr", "groupmgr", "finance", "auditor"} {
				res := k.As[who].Call("GET", "/api/v1/charges/"+cid, nil)
				if res.Status != http.StatusOK || minorOf(res.JSON["amount"]) != c.amount {
					t.Errorf("%s GET charge: %d %s", who, res.Status, res.Body)
				}
				found := 0
				for _, seen := range k.Charges(who, "") {
					if seen["id"] == cid {
						found++
					}
				}
				if found != 1 {
					t.Errorf("%s lists charge %s %d times", who, cid, found)
				}
			}
			for _, who := range []string{"mktmember", "itagent", "hrmgr", "admin", "itsdmember", "nobody"} {
				if res := k.As[who].Call("GET", "/api/v1/charges/"+cid, nil); res.Status != http.StatusNotFound {
					t.Errorf("%s GET charge: %d %s, want 404", who, res.Status, res.Body)
				}
				// hrmgr reads HR's charges (none of these); the others read
				// no charge at all, so there is no list (billing.ListCharges).
				if who == "hrmgr" {
					if seen := k.Charges(who, ""); len(seen) != 0 {
						t.Errorf("%s lists charges %v", who, seen)
					}
				} else if res := k.As[who].Call("GET", "/api/v1/charges", nil); res.Status != http.StatusNotFound {
					t.Errorf("%s lists charges: %d %s, want 404", who, res.Status, res.Body)
				}
			}
		}
		// Filters narrow the list; a bad filter is refused.
		if got := k.Charges("finance", "&consumer_unit_id="+webtest.ID(k.Units["HR"])); len(got) != 0 {
			t.Errorf("HR's charges: %v", got)
		}
		if got := k.Charges("mktmgr", "&period="+months[1]+"&status=posted"); len(got) != 2 && months[0] == months[1] {
			t.Errorf("MKT's posted charges this month: %v", got)
		}
		if got := k.Charges("finance", "&service_id="+perUnit); len(got) != 1 || got[0]["service_id"] != perUnit || got[0]["quantity"] != "3" {
			t.Errorf("the cables' charges: %v", got)
		}
		for _, q := range []string{"?period=2026-13", "?status=paid", "?consumer_unit_id=x", "?service_id=-1"} {
			if res := k.As["finance"].Call("GET", "/api/v1/charges"+q, nil); res.Status != http.StatusUnprocessableEntity && res.Status != http.StatusBadRequest {
				t.Errorf("GET /charges%s: %d %s", q, res.Status, res.Body)
			}
		}
		if k.Balance("MKT") != 19500 || k.Balance("IT") != -19500 {
			t.Errorf("balances MKT %d, IT %d", k.Balance("MKT"), k.Balance("IT"))
		}
		// A request resolved again after a reopen is not charged twice.
		rid := perUnitReq.Str("id")
		k.MustAct("mktmember", rid, "reopen")
		k.MustAct("itagent", rid, "resolve")
		if got := k.ChargesOf(rid); len(got) != 1 {
			t.Errorf("after reopen and resolve: %d charges", len(got))
		}
		k.MustVerify()
	})
}

// TestHourlyChargesBillableTimeAtTheRateOfEachDay logs billable and
// non-billable time and checks the charge is billable minutes × the rate in
// force on the entry's day / 60, rounded half to even, one charge per rate.
func TestHourlyChargesBillableTimeAtTheRateOfEachDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		logTime := func(rid string, minutes int, date string, billable bool) {
			t.Helper()
			res := k.As["itagent"].Call("POST", "/api/v1/requests/"+rid+"/time-entries",
				map[string]any{"minutes": minutes, "date": date, "billable": billable})
			if res.Status != http.StatusCreated {
				t.Fatalf("log time: %d %s", res.Status, res.Body)
			}
		}

		// One rate: 30 billable minutes at 10.01 an hour is 5.005, so 5.00.
		k.Service("SUPPORT", "hourly", "never", 1001)
		rid := k.Order("mktmember", "MKT", "SUPPORT", "Projector").Str("id")
		k.FiledDaysAgo(rid, 1)
		k.Start(rid)
		logTime(rid, 20, webtest.TodayPlus(0), true)
		logTime(rid, 10, webtest.TodayPlus(-1), true)
		logTime(rid, 45, webtest.TodayPlus(0), false)
		k.MustAct("itagent", rid, "resolve")
		got := k.ChargesOf(rid)
		if len(got) != 1 || minorOf(got[0]["amount"]) != roundHalfEven(1001*30, 60) || minorOf(got[0]["amount"]) != 500 ||
			got[0]["quantity"] != "0.5" || minorOf(got[0]["unit_price"]) != 1001 {
			t.Fatalf("hourly charge = %v", got)
		}

		// Two rates: yesterday's time at the old rate, today's at the new.
		two := k.Service("ONSITE", "hourly", "never", 1001)
		rid = k.Order("mktmember", "MKT", "ONSITE", "Office move").Str("id")
		k.FiledDaysAgo(rid, 1)
		k.Rate(two, 3003, webtest.TodayPlus(0))
		k.Start(rid)
		logTime(rid, 30, webtest.TodayPlus(-1), true)
		logTime(rid, 90, webtest.TodayPlus(0), true)
		logTime(rid, 600, webtest.TodayPlus(0), false)
		k.MustAct("mktmgr", rid, "approve_overrun") // 50.04 against an estimate of 10.01
		k.MustAct("itagent", rid, "resolve")
		var amounts []int64
		rates := map[string]bool{}
		for _, c := range k.ChargesOf(rid) {
			amounts = append(amounts, minorOf(c["amount"]))
			rates[c["rate_id"].(string)] = true
		}
		slices.Sort(amounts)
		if want := []int64{roundHalfEven(1001*30, 60), roundHalfEven(3003*90, 60)}; !slices.Equal(amounts, want) || len(rates) != 2 {
			t.Errorf("two-rate charges = %v over rates %v, want %v", amounts, rates, want)
		}

		// Time logged for the day before a new service's first price still
		// bills (at the quote) instead of blocking the resolution.
		res := k.As["itmgr"].Call("POST", "/api/v1/services", webtest.ServiceBody(k.OrderDesk, "FRESH", "hourly", func(b map[string]any) {
			b["price"] = webtest.EUR(6000)
		}))
		if res.Status != http.StatusCreated {
			t.Fatalf("create FRESH: %d %s", res.Status, res.Body)
		}
		k.Svc["FRESH"] = res.Str("id")
		rid = k.Order("mktmember", "MKT", "FRESH", "Yesterday's outage").Str("id")
		k.FiledDaysAgo(rid, 1)
		k.Start(rid)
		logTime(rid, 60, webtest.TodayPlus(-1), true)
		if res := k.Act("itagent", rid, "resolve", k.Row(rid).Version); res.Status != http.StatusOK {
			t.Errorf("resolve with time from before the first price: %d %s", res.Status, res.Body)
		} else if got := k.ChargesOf(rid); len(got) != 1 || minorOf(got[0]["amount"]) != 6000 {
			t.Errorf("charge for time before the first price = %v", got)
		}

		// Only non-billable time: resolved, nothing charged.
		k.Service("ADVICE", "hourly", "never", 5000)
		rid = k.Order("mktmember", "MKT", "ADVICE", "Quick question").Str("id")
		k.Start(rid)
		logTime(rid, 15, webtest.TodayPlus(0), false)
		k.MustAct("itagent", rid, "resolve")
		if got := k.ChargesOf(rid); len(got) != 0 {
			t.Errorf("non-billable time charged: %v", got)
		}
		k.MustVerify()
	})
}

// TestMonthlyServiceChargesThroughTheBillingRun resolves a monthly order:
// nothing is charged at once; the month's billing run charges the first
// month prorated by days, once.
func TestMonthlyServiceChargesThroughTheBillingRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		k.Service("VPN", "monthly", "never", 3100)
		rid := k.Order("mktmember", "MKT", "VPN", "VPN for the team").Str("id")
		before := time.Now()
		k.Fulfil(rid)
		if got := k.ChargesOf(rid); len(got) != 0 {
			t.Fatalf("a monthly order charged at resolution: %v", got)
		}
		var start string
		if err := d.NewSelect().Table("subscriptions").Column("start_date").Where("request_id = ?", rid).Scan(context.Background(), &start); err != nil {
			t.Fatalf("subscription: %v", err)
		}
		if start != before.In(webtest.ChargeLocation(t)).Format("2006-01-02") && start != time.Now().In(webtest.ChargeLocation(t)).Format("2006-01-02") {
			t.Errorf("subscription starts %s", start)
		}
		month := start[:7]
		first, _ := time.Parse("2006-01-02", start)
		days := int64(first.AddDate(0, 1, -first.Day()).Day())
		active := days - int64(first.Day()) + 1
		ctx := context.Background()
		res, err := billing.BillingRun(ctx, d, month, webtest.ChargeLocation(t), time.Now().UTC())
		if err != nil || res.Charged != 1 {
			t.Fatalf("billing run: %+v %v", res, err)
		}
		if res, err := billing.BillingRun(ctx, d, month, webtest.ChargeLocation(t), time.Now().UTC()); err != nil || res.Charged != 0 || res.Skipped != 1 {
			t.Fatalf("second billing run: %+v %v", res, err)
		}
		got := k.ChargesOf(rid)
		if len(got) != 1 || minorOf(got[0]["amount"]) != roundHalfEven(3100*active, days) || minorOf(got[0]["unit_price"]) != 3100 ||
			got[0]["period"] != month {
			t.Fatalf("first month (%d of %d days) = %v", active, days, got)
		}
		if cid := got[0]["id"].(string); k.As["mktmgr"].Call("GET", "/api/v1/charges/"+cid, nil).Status != http.StatusOK ||
			k.As["hrmgr"].Call("GET", "/api/v1/charges/"+cid, nil).Status != http.StatusNotFound {
			t.Error("subscription charge visibility")
		}
		k.MustVerify()
	})
}

// TestDisputesOverAPI raises and settles a dispute, trying every refusal on
// the way; refusals post nothing.
func TestDisputesOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		k.Service("DOCK", "fixed", "never", 12000)
		rid := k.Order("mktmember", "MKT", "DOCK", "Docking station").Str("id")
		k.Fulfil(rid)
		cid := k.ChargesOf(rid)[0]["id"].(string)
		raise := "/api/v1/charges/" + cid + "/disputes"
		var (
			dispute, settle string
			entries         int
		)

		testkit.Step(t, "MKT's manager raises the one dispute, nobody else may", func(t *testing.T) {
			for _, c := range []struct {
				who    string
				body   any
				status int
			}{
				{"itmgr", map[string]any{"reason": "we did nothing"}, http.StatusForbidden},
				{"hrmgr", map[string]any{"reason": "not ours"}, http.StatusNotFound},
				{"mktmember", map[string]any{"reason": "too dear"}, http.StatusNotFound},
				{"finance", map[string]any{"reason": "finance is no consumer"}, http.StatusForbidden},
				{"mktmgr", map[string]any{"reason": "   "}, http.StatusUnprocessableEntity},
				{"mktmgr", map[string]any{}, http.StatusUnprocessableEntity},
				{"mktmgr", []byte(`{"reason": "x", "extra": 1}`), http.StatusBadRequest},
			} {
				if res := k.As[c.who].Call("POST", raise, c.body); res.Status != c.status {
					t.Errorf("%s raising %v: %d %s, want %d", c.who, c.body, res.Status, res.Body, c.status)
				}
			}
			if n := k.Count("disputes"); n != 0 {
				t.Fatalf("refused disputes wrote %d rows", n)
			}
			res := k.As["mktmgr"].Call("POST", raise, map[string]any{"reason": "the dock was second-hand"})
			if res.Status != http.StatusCreated || res.Str("status") != "open" || res.Str("charge_id") != cid {
				t.Fatalf("raise: %d %s", res.Status, res.Body)
			}
			dispute = res.Str("id")
			if res := k.As["mktmgr"].Call("POST", raise, map[string]any{"reason": "again"}); res.Status != http.StatusConflict {
				t.Errorf("second dispute: %d %s", res.Status, res.Body)
			}
			if got := k.As["mktmgr"].Call("GET", "/api/v1/charges/"+cid, nil); got.Str("status") != "disputed" {
				t.Errorf("charge after raising: %s", got.Body)
			}
		})

		testkit.Step(t, "refused settlements post nothing", func(t *testing.T) {
			settle = "/api/v1/disputes/" + dispute + "/actions"
			entries = k.Count("journal_entries")
			for _, body := range []string{
				`{"action":"accept","credit_minor":1.5}`,
				`{"action":"accept","credit_minor":"1e3"}`,
				`{"action":"accept","credit_minor":1e3}`,
				`{"action":"accept","credit_minor":9223372036854775808}`,
				`{"action":"accept","credit_minor":-100}`,
				`{"action":"accept","credit_minor":0}`,
				`{"action":"accept"}`,
				`{"action":"accept","credit_minor":12001}`,
				`{"action":"refund","credit_minor":100}`,
				`{"action":"reject","credit_minor":100,"note":"no"}`,
				`{"action":"reject"}`,
				`{"action":"accept","credit_minor":100,"x":1}`,
			} {
				res := k.As["finance"].Call("POST", settle, []byte(body))
				if res.Status < 400 || res.Status >= 500 {
					t.Errorf("settle %s: %d %s, want 4xx", body, res.Status, res.Body)
				}
			}
			// Who sees the dispute is forbidden to settle it; the admin does
			// not see it (billing.Viewer).
			for who, want := range map[string]int{"admin": http.StatusNotFound, "mktmgr": http.StatusForbidden,
				"itmgr": http.StatusForbidden, "auditor": http.StatusForbidden} {
				if res := k.As[who].Call("POST", settle, map[string]any{"action": "accept", "credit_minor": 100}); res.Status != want {
					t.Errorf("%s settling: %d %s, want %d", who, res.Status, res.Body, want)
				}
			}
			if got := k.Count("journal_entries"); got != entries {
				t.Fatalf("refused settlements posted %d entries", got-entries)
			}
			if res := k.As["finance"].Call("POST", "/api/v1/disputes/999999/actions", map[string]any{"action": "reject", "note": "x"}); res.Status != http.StatusNotFound {
				t.Errorf("settling a missing dispute: %d %s", res.Status, res.Body)
			}
		})

		testkit.Step(t, "finance credits a part once, and every reader sees it", func(t *testing.T) {
			res := k.As["finance"].Call("POST", settle, map[string]any{"action": "accept", "credit_minor": 4000, "note": "a third off"})
			if res.Status != http.StatusOK || res.Str("status") != "accepted" || minorOf(res.JSON["credit"]) != 4000 {
				t.Fatalf("partial credit: %d %s", res.Status, res.Body)
			}
			if res := k.As["finance"].Call("POST", settle, map[string]any{"action": "accept", "credit_minor": 4000, "note": "again"}); res.Status != http.StatusConflict {
				t.Errorf("settling twice: %d %s", res.Status, res.Body)
			}
			for _, who := range []string{"mktmgr", "itmgr", "finance", "auditor"} {
				got := k.As[who].Call("GET", "/api/v1/charges/"+cid, nil)
				dj, _ := got.JSON["dispute"].(map[string]any)
				if got.Status != http.StatusOK || got.Str("status") != "credited" || minorOf(got.JSON["amount"]) != 12000 ||
					dj == nil || dj["id"] != dispute || dj["status"] != "accepted" || minorOf(dj["credit"]) != 4000 || dj["reason"] != "the dock was second-hand" {
					t.Errorf("%s sees the credited charge as %d %s", who, got.Status, got.Body)
				}
			}
			if k.Count("journal_entries") != entries+1 || k.Balance("MKT") != 8000 || k.Balance("IT") != -8000 {
				t.Errorf("after the credit: %d entries, MKT %d, IT %d", k.Count("journal_entries")-entries, k.Balance("MKT"), k.Balance("IT"))
			}
			if got := k.As["finance"].Call("GET", "/api/v1/disputes?status=accepted", nil); got.Status != http.StatusOK || len(got.Items()) != 1 {
				t.Errorf("accepted disputes: %d %s", got.Status, got.Body)
			}
			// Managers read disputes through their charges; the org-wide list is not there for them.
			for _, who := range []string{"hrmgr", "mktmgr"} {
				if got := k.As[who].Call("GET", "/api/v1/disputes", nil); got.Status != http.StatusNotFound {
					t.Errorf("%s lists disputes: %d %s", who, got.Status, got.Body)
				}
			}
			k.MustVerify()
		})
	})
}

// TestPeriodsCloseOverAPI closes the current month: refused while a dispute
// is open, then through review to closed; later charges post late into the
// next month and the closed month's charges cannot be disputed.
func TestPeriodsCloseOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		k.Service("DOCK", "fixed", "never", 12000)
		var charges []string
		for i := range 3 {
			rid := k.Order("mktmember", "MKT", "DOCK", fmt.Sprint("Dock ", i)).Str("id")
			k.Fulfil(rid)
			charges = append(charges, k.ChargesOf(rid)[0]["id"].(string))
		}
		cur, _ := k.As["finance"].Call("GET", "/api/v1/charges/"+charges[0], nil).JSON["period"].(string)

		for who, want := range map[string]int{"finance": 200, "auditor": 200, "mktmgr": 404, "itmgr": 404, "admin": 404, "mktmember": 404} {
			if res := k.As[who].Call("GET", "/api/v1/periods", nil); res.Status != want {
				t.Errorf("%s GET /periods: %d, want %d", who, res.Status, want)
			}
		}
		res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+charges[0]+"/disputes", map[string]any{"reason": "wrong dock"})
		if res.Status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.Status, res.Body)
		}
		dispute := res.Str("id")
		act := "/api/v1/periods/" + cur + "/actions"
		// The auditor sees the periods and is forbidden; to a manager or
		// the admin they are not there (billing.Viewer).
		for who, want := range map[string]int{"itmgr": http.StatusNotFound, "admin": http.StatusNotFound, "auditor": http.StatusForbidden} {
			if res := k.As[who].Call("POST", act, map[string]any{"action": "close"}); res.Status != want {
				t.Errorf("%s closing: %d %s, want %d", who, res.Status, res.Body, want)
			}
		}
		// The month has not ended: it neither closes nor goes to review
		// (closing with open disputes is billing's test).
		for _, action := range []string{"close", "review"} {
			if res := k.As["finance"].Call("POST", act, map[string]any{"action": action}); res.Status != http.StatusUnprocessableEntity ||
				!strings.Contains(string(res.Body), cur+" has not ended") {
				t.Errorf("%s the current month: %d %s", action, res.Status, res.Body)
			}
		}
		for _, body := range []map[string]any{{"action": "open"}, {"action": ""}} {
			if res := k.As["finance"].Call("POST", act, body); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("period action %v: %d %s", body, res.Status, res.Body)
			}
		}
		if res := k.As["finance"].Call("POST", "/api/v1/periods/2026-13/actions", map[string]any{"action": "review"}); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("month 13: %d %s", res.Status, res.Body)
		}
		if res := k.As["finance"].Call("POST", "/api/v1/disputes/"+dispute+"/actions",
			map[string]any{"action": "reject", "note": "the dock matches the order"}); res.Status != http.StatusOK || res.Str("status") != "rejected" {
			t.Fatalf("reject: %d %s", res.Status, res.Body)
		}
		if got := k.As["finance"].Call("GET", "/api/v1/charges/"+charges[0], nil); got.Str("status") != "posted" {
			t.Errorf("charge after a rejected dispute: %s", got.Body)
		}
		webtest.CloseOnceEnded(t, d, cur)
		listed := k.As["auditor"].Call("GET", "/api/v1/periods", nil)
		found := false
		for _, p := range listed.Items() {
			found = found || (p["month"] == cur && p["status"] == "closed")
		}
		if !found {
			t.Errorf("periods: %s", listed.Body)
		}

		// A request resolved now belongs to the closed month: it posts late.
		rid := k.Order("mktmember", "MKT", "DOCK", "Late dock").Str("id")
		k.Fulfil(rid)
		late := k.ChargesOf(rid)
		next := billing.NextMonth(cur)
		if len(late) != 1 || late[0]["period"] != next || late[0]["late_from"] != cur {
			t.Fatalf("late charge = %v, want period %s late from %s", late, next, cur)
		}
		var latePeriod string
		if err := d.NewSelect().Table("journal_entries").Column("period").Where("idempotency_key = ?", fmt.Sprintf("request:%s:rate:%d", rid, k.Row(rid).RateID)).
			Scan(context.Background(), &latePeriod); err != nil || latePeriod != next {
			t.Errorf("late entry period %q, %v", latePeriod, err)
		}
		// The closed month's charges can no longer be disputed; the late one can.
		if res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+charges[1]+"/disputes", map[string]any{"reason": "too late"}); res.Status != http.StatusConflict || res.ErrorCode() != "period_closed" {
			t.Errorf("dispute in a closed period: %d %s", res.Status, res.Body)
		}
		if res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+late[0]["id"].(string)+"/disputes", map[string]any{"reason": "late and wrong"}); res.Status != http.StatusCreated {
			t.Errorf("dispute on the late charge: %d %s", res.Status, res.Body)
		}
		k.MustVerify()
	})
}

// TestFiftyConcurrentResolvesAndAcceptsPostOnce races fifty resolutions of
// one request and fifty acceptances of one dispute: one of each wins and
// one entry of each is posted.
func TestFiftyConcurrentResolvesAndAcceptsPostOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		const n = 50
		k.Service("DOCK", "fixed", "never", 12000)
		rid := k.Order("mktmember", "MKT", "DOCK", "Docking station").Str("id")
		k.Start(rid)
		body, _ := json.Marshal(map[string]any{"action": "resolve", "version": k.Row(rid).Version})
		results := together(n, func(int) webtest.RaceResult {
			return k.As["itagent"].RaceCall("POST", "/api/v1/requests/"+rid+"/actions", body, nil)
		})
		counts := tally(t, results, http.StatusOK, http.StatusConflict)
		if counts["200"] != 1 {
			t.Errorf("%d concurrent resolves: %v", n, counts)
		}
		if c := k.CountWhere("charges", "request_id = ?", rid); c != 1 {
			t.Errorf("%d charges", c)
		}
		if e := k.Count("journal_entries"); e != 1 {
			t.Errorf("%d journal entries", e)
		}
		k.MustVerify()

		cid := k.ChargesOf(rid)[0]["id"].(string)
		res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+cid+"/disputes", map[string]any{"reason": "never arrived"})
		if res.Status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.Status, res.Body)
		}
		settle := "/api/v1/disputes/" + res.Str("id") + "/actions"
		accept, _ := json.Marshal(map[string]any{"action": "accept", "credit_minor": 12000, "note": "refund"})
		results = together(n, func(int) webtest.RaceResult { return k.As["finance"].RaceCall("POST", settle, accept, nil) })
		counts = tally(t, results, http.StatusOK, http.StatusConflict)
		if counts["200"] != 1 {
			t.Errorf("%d concurrent accepts: %v", n, counts)
		}
		if c := k.CountWhere("journal_entries", "kind = ?", "dispute_credit"); c != 1 {
			t.Errorf("%d credit entries", c)
		}
		if k.Balance("MKT") != 0 || k.Balance("IT") != 0 {
			t.Errorf("after a full credit: MKT %d, IT %d", k.Balance("MKT"), k.Balance("IT"))
		}
		k.MustVerify()
	})
}
