package web_test

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

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/units"
)

const chargeZone = "Europe/Helsinki"

// chargeDesk is the order desk plus HR, a unit that neither orders from nor
// provides to anyone in these tests, with its manager hrmgr. IT's manager
// opens services priced from 2020 so a rate from today is a real change.
type chargeDesk struct {
	*orderDesk
}

func newChargeDesk(t *testing.T, d *db.DB) *chargeDesk {
	t.Helper()
	k := &chargeDesk{newOrderDesk(t, d)}
	ctx := context.Background()
	hash, err := auth.HashPassword(testPassword, cheapHash)
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		group := k.units["GROUP"]
		hr, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: "HR", Name: "HR unit", ParentID: &group})
		if err != nil {
			return err
		}
		k.units["HR"] = hr.ID
		u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "hrmgr@example.org", Name: "hrmgr", PasswordHash: hash})
		if err != nil {
			return err
		}
		k.users["hrmgr"] = u.ID
		_, err = units.GrantUnitRole(ctx, tx, 0, hr.ID, u.ID, "manager")
		return err
	})
	if err != nil {
		t.Fatalf("HR: %v", err)
	}
	k.as["hrmgr"] = k.login("hrmgr")
	return k
}

// service creates an IT service priced from 2020-01-01 and returns its id.
func (k *chargeDesk) service(code, model, approval string, priceMinor int64) string {
	k.t.Helper()
	res := k.as["itmgr"].call("POST", "/api/v1/services", serviceBody(k.orderDesk, code, model, func(b map[string]any) {
		b["price"], b["effective_from"], b["approval_policy"] = eur(priceMinor), "2020-01-01", approval
	}))
	if res.status != http.StatusCreated {
		k.t.Fatalf("create %s: %d %s", code, res.status, res.body)
	}
	k.svc[code] = res.str("id")
	return res.str("id")
}

// rate adds a rate to a service as IT's manager.
func (k *chargeDesk) rate(serviceID string, priceMinor int64, from string) {
	k.t.Helper()
	res := k.as["itmgr"].call("POST", "/api/v1/services/"+serviceID+"/rates", map[string]any{"price": eur(priceMinor), "effective_from": from})
	if res.status != http.StatusCreated {
		k.t.Fatalf("rate %d from %s: %d %s", priceMinor, from, res.status, res.body)
	}
}

// start takes a freshly filed request to in progress: MKT's manager approves
// it when it waits for approval, IT's agent takes it and starts.
func (k *chargeDesk) start(rid string) {
	k.t.Helper()
	if k.row(rid).Status == "pending_approval" {
		k.mustAct("mktmgr", rid, "approve")
	}
	k.mustAct("itagent", rid, "assign", "assignee_id", id(k.users["itagent"]))
	k.mustAct("itagent", rid, "start")
}

// fulfil starts a request and resolves it as IT's agent.
func (k *chargeDesk) fulfil(rid string) {
	k.t.Helper()
	k.start(rid)
	k.mustAct("itagent", rid, "resolve")
}

// charges pages through GET /charges as the person and returns the items.
func (k *chargeDesk) charges(as, query string) []map[string]any {
	k.t.Helper()
	var out []map[string]any
	cursor := ""
	for range 100 {
		path := "/api/v1/charges?limit=200" + query
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := k.as[as].call("GET", path, nil)
		if res.status != http.StatusOK {
			k.t.Fatalf("%s GET %s: %d %s", as, path, res.status, res.body)
		}
		out = append(out, res.items()...)
		if cursor = res.str("next_cursor"); cursor == "" {
			return out
		}
	}
	k.t.Fatalf("GET /charges as %s did not end", as)
	return nil
}

// chargesOf returns the charges of one request as finance sees them.
func (k *chargeDesk) chargesOf(rid string) []map[string]any {
	k.t.Helper()
	var out []map[string]any
	for _, c := range k.charges("finance", "") {
		if c["request_id"] == rid {
			out = append(out, c)
		}
	}
	return out
}

func (k *chargeDesk) mustVerify() {
	k.t.Helper()
	breaches, err := billing.Verify(context.Background(), k.d)
	if err != nil || len(breaches) != 0 {
		k.t.Fatalf("verify: %v %v", breaches, err)
	}
}

// countWhere counts rows of a table matching a condition.
func (k *chargeDesk) countWhere(table, where string, args ...any) int {
	k.t.Helper()
	n, err := k.d.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		k.t.Fatal(err)
	}
	return int(n)
}

func (k *chargeDesk) balance(unit string) int64 {
	k.t.Helper()
	var sum int64
	err := k.d.NewRaw(`SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.unit_id = ?`,
		k.units[unit]).Scan(context.Background(), &sum)
	if err != nil {
		k.t.Fatal(err)
	}
	return sum
}

func minorOf(v any) int64 {
	m, _ := v.(map[string]any)
	f, _ := m["amount_minor"].(float64)
	return int64(f)
}

// helsinkiMonths are the organisation's months an instant just before and
// just after a step may fall in (the same month but at a month's turn).
func helsinkiMonths(before time.Time) []string {
	loc, _ := time.LoadLocation(chargeZone)
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
		k := newChargeDesk(t, d)
		fixed := k.service("DOCK", "fixed", "always", 12000)
		perUnit := k.service("CABLE", "per_unit", "never", 2500)
		fixedReq := k.order("mktmember", "MKT", "DOCK", "Docking station")
		perUnitReq := k.order("mktmember", "MKT", "CABLE", "Cables", "quantity", "3")
		if fixedReq.str("status") != "pending_approval" {
			t.Fatalf("fixed order: %s", fixedReq.body)
		}
		// The price changes today and again later: the quotes stand.
		for _, sid := range []string{fixed, perUnit} {
			k.rate(sid, 99900, todayPlus(0))
			k.rate(sid, 88800, todayPlus(10))
		}
		before := time.Now()
		for _, r := range []response{fixedReq, perUnitReq} {
			k.fulfil(r.str("id"))
		}
		months := helsinkiMonths(before)
		for _, c := range []struct {
			order             response
			service, quantity string
			unitPrice, amount int64
		}{
			{fixedReq, fixed, "1", 12000, 12000},
			{perUnitReq, perUnit, "3", 2500, 7500},
		} {
			rid := c.order.str("id")
			got := k.chargesOf(rid)
			if len(got) != 1 {
				t.Fatalf("request %s has %d charges: %v", rid, len(got), got)
			}
			ch := got[0]
			if ch["quantity"] != c.quantity || minorOf(ch["unit_price"]) != c.unitPrice || minorOf(ch["amount"]) != c.amount ||
				ch["rate_id"] != c.order.str("rate_id") || ch["service_id"] != c.service || !slices.Contains(months, ch["period"].(string)) ||
				ch["late_from"] != nil || ch["status"] != "posted" || ch["showback"] != false ||
				ch["consumer_unit_id"] != id(k.units["MKT"]) || ch["provider_unit_id"] != id(k.units["IT"]) {
				t.Errorf("charge of %s = %v", rid, ch)
			}
			cid := ch["id"].(string)
			for _, who := range []string{"mktmgr", "itmgr", "groupmgr", "finance", "auditor"} {
				res := k.as[who].call("GET", "/api/v1/charges/"+cid, nil)
				if res.status != http.StatusOK || minorOf(res.json["amount"]) != c.amount {
					t.Errorf("%s GET charge: %d %s", who, res.status, res.body)
				}
				found := 0
				for _, seen := range k.charges(who, "") {
					if seen["id"] == cid {
						found++
					}
				}
				if found != 1 {
					t.Errorf("%s lists charge %s %d times", who, cid, found)
				}
			}
			for _, who := range []string{"mktmember", "itagent", "hrmgr", "admin", "itsdmember", "nobody"} {
				if res := k.as[who].call("GET", "/api/v1/charges/"+cid, nil); res.status != http.StatusNotFound {
					t.Errorf("%s GET charge: %d %s, want 404", who, res.status, res.body)
				}
				// hrmgr reads HR's charges (none of these); the others read
				// no charge at all, so there is no list (billing.ListCharges).
				if who == "hrmgr" {
					if seen := k.charges(who, ""); len(seen) != 0 {
						t.Errorf("%s lists charges %v", who, seen)
					}
				} else if res := k.as[who].call("GET", "/api/v1/charges", nil); res.status != http.StatusNotFound {
					t.Errorf("%s lists charges: %d %s, want 404", who, res.status, res.body)
				}
			}
		}
		// Filters narrow the list; a bad filter is refused.
		if got := k.charges("finance", "&consumer_unit_id="+id(k.units["HR"])); len(got) != 0 {
			t.Errorf("HR's charges: %v", got)
		}
		if got := k.charges("mktmgr", "&period="+months[1]+"&status=posted"); len(got) != 2 && months[0] == months[1] {
			t.Errorf("MKT's posted charges this month: %v", got)
		}
		if got := k.charges("finance", "&service_id="+perUnit); len(got) != 1 || got[0]["service_id"] != perUnit || got[0]["quantity"] != "3" {
			t.Errorf("the cables' charges: %v", got)
		}
		for _, q := range []string{"?period=2026-13", "?status=paid", "?consumer_unit_id=x", "?service_id=-1"} {
			if res := k.as["finance"].call("GET", "/api/v1/charges"+q, nil); res.status != http.StatusUnprocessableEntity && res.status != http.StatusBadRequest {
				t.Errorf("GET /charges%s: %d %s", q, res.status, res.body)
			}
		}
		if k.balance("MKT") != 19500 || k.balance("IT") != -19500 {
			t.Errorf("balances MKT %d, IT %d", k.balance("MKT"), k.balance("IT"))
		}
		// A request resolved again after a reopen is not charged twice.
		rid := perUnitReq.str("id")
		k.mustAct("mktmember", rid, "reopen")
		k.mustAct("itagent", rid, "resolve")
		if got := k.chargesOf(rid); len(got) != 1 {
			t.Errorf("after reopen and resolve: %d charges", len(got))
		}
		k.mustVerify()
	})
}

// TestHourlyChargesBillableTimeAtTheRateOfEachDay logs billable and
// non-billable time and checks the charge is billable minutes × the rate in
// force on the entry's day / 60, rounded half to even, one charge per rate.
func TestHourlyChargesBillableTimeAtTheRateOfEachDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		logTime := func(rid string, minutes int, date string, billable bool) {
			t.Helper()
			res := k.as["itagent"].call("POST", "/api/v1/requests/"+rid+"/time-entries",
				map[string]any{"minutes": minutes, "date": date, "billable": billable})
			if res.status != http.StatusCreated {
				t.Fatalf("log time: %d %s", res.status, res.body)
			}
		}

		// One rate: 30 billable minutes at 10.01 an hour is 5.005, so 5.00.
		k.service("SUPPORT", "hourly", "never", 1001)
		rid := k.order("mktmember", "MKT", "SUPPORT", "Projector").str("id")
		k.start(rid)
		logTime(rid, 20, todayPlus(0), true)
		logTime(rid, 10, todayPlus(-1), true)
		logTime(rid, 45, todayPlus(0), false)
		k.mustAct("itagent", rid, "resolve")
		got := k.chargesOf(rid)
		if len(got) != 1 || minorOf(got[0]["amount"]) != roundHalfEven(1001*30, 60) || minorOf(got[0]["amount"]) != 500 ||
			got[0]["quantity"] != "0.5" || minorOf(got[0]["unit_price"]) != 1001 {
			t.Fatalf("hourly charge = %v", got)
		}

		// Two rates: yesterday's time at the old rate, today's at the new.
		two := k.service("ONSITE", "hourly", "never", 1001)
		rid = k.order("mktmember", "MKT", "ONSITE", "Office move").str("id")
		k.rate(two, 3003, todayPlus(0))
		k.start(rid)
		logTime(rid, 30, todayPlus(-1), true)
		logTime(rid, 90, todayPlus(0), true)
		logTime(rid, 600, todayPlus(0), false)
		k.mustAct("itagent", rid, "resolve")
		var amounts []int64
		rates := map[string]bool{}
		for _, c := range k.chargesOf(rid) {
			amounts = append(amounts, minorOf(c["amount"]))
			rates[c["rate_id"].(string)] = true
		}
		slices.Sort(amounts)
		if want := []int64{roundHalfEven(1001*30, 60), roundHalfEven(3003*90, 60)}; !slices.Equal(amounts, want) || len(rates) != 2 {
			t.Errorf("two-rate charges = %v over rates %v, want %v", amounts, rates, want)
		}

		// Time logged for the day before a new service's first price still
		// bills (at the quote) instead of blocking the resolution.
		res := k.as["itmgr"].call("POST", "/api/v1/services", serviceBody(k.orderDesk, "FRESH", "hourly", func(b map[string]any) {
			b["price"] = eur(6000)
		}))
		if res.status != http.StatusCreated {
			t.Fatalf("create FRESH: %d %s", res.status, res.body)
		}
		k.svc["FRESH"] = res.str("id")
		rid = k.order("mktmember", "MKT", "FRESH", "Yesterday's outage").str("id")
		k.start(rid)
		logTime(rid, 60, todayPlus(-1), true)
		if res := k.act("itagent", rid, "resolve", k.row(rid).Version); res.status != http.StatusOK {
			t.Errorf("resolve with time from before the first price: %d %s", res.status, res.body)
		} else if got := k.chargesOf(rid); len(got) != 1 || minorOf(got[0]["amount"]) != 6000 {
			t.Errorf("charge for time before the first price = %v", got)
		}

		// Only non-billable time: resolved, nothing charged.
		k.service("ADVICE", "hourly", "never", 5000)
		rid = k.order("mktmember", "MKT", "ADVICE", "Quick question").str("id")
		k.start(rid)
		logTime(rid, 15, todayPlus(0), false)
		k.mustAct("itagent", rid, "resolve")
		if got := k.chargesOf(rid); len(got) != 0 {
			t.Errorf("non-billable time charged: %v", got)
		}
		k.mustVerify()
	})
}

// TestMonthlyServiceChargesThroughTheBillingRun resolves a monthly order:
// nothing is charged at once; the month's billing run charges the first
// month prorated by days, once.
func TestMonthlyServiceChargesThroughTheBillingRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		k.service("VPN", "monthly", "never", 3100)
		rid := k.order("mktmember", "MKT", "VPN", "VPN for the team").str("id")
		before := time.Now()
		k.fulfil(rid)
		if got := k.chargesOf(rid); len(got) != 0 {
			t.Fatalf("a monthly order charged at resolution: %v", got)
		}
		var start string
		if err := d.NewSelect().Table("subscriptions").Column("start_date").Where("request_id = ?", rid).Scan(context.Background(), &start); err != nil {
			t.Fatalf("subscription: %v", err)
		}
		if start != before.In(chargeLocation(t)).Format("2006-01-02") && start != time.Now().In(chargeLocation(t)).Format("2006-01-02") {
			t.Errorf("subscription starts %s", start)
		}
		month := start[:7]
		first, _ := time.Parse("2006-01-02", start)
		days := int64(first.AddDate(0, 1, -first.Day()).Day())
		active := days - int64(first.Day()) + 1
		ctx := context.Background()
		res, err := billing.BillingRun(ctx, d, month, time.Now().UTC())
		if err != nil || res.Charged != 1 {
			t.Fatalf("billing run: %+v %v", res, err)
		}
		if res, err := billing.BillingRun(ctx, d, month, time.Now().UTC()); err != nil || res.Charged != 0 || res.Skipped != 1 {
			t.Fatalf("second billing run: %+v %v", res, err)
		}
		got := k.chargesOf(rid)
		if len(got) != 1 || minorOf(got[0]["amount"]) != roundHalfEven(3100*active, days) || minorOf(got[0]["unit_price"]) != 3100 ||
			got[0]["period"] != month {
			t.Fatalf("first month (%d of %d days) = %v", active, days, got)
		}
		if cid := got[0]["id"].(string); k.as["mktmgr"].call("GET", "/api/v1/charges/"+cid, nil).status != http.StatusOK ||
			k.as["hrmgr"].call("GET", "/api/v1/charges/"+cid, nil).status != http.StatusNotFound {
			t.Error("subscription charge visibility")
		}
		k.mustVerify()
	})
}

func chargeLocation(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(chargeZone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestDisputesOverAPI raises and settles a dispute, trying every refusal on
// the way; refusals post nothing.
func TestDisputesOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		k.service("DOCK", "fixed", "never", 12000)
		rid := k.order("mktmember", "MKT", "DOCK", "Docking station").str("id")
		k.fulfil(rid)
		cid := k.chargesOf(rid)[0]["id"].(string)
		raise := "/api/v1/charges/" + cid + "/disputes"

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
			if res := k.as[c.who].call("POST", raise, c.body); res.status != c.status {
				t.Errorf("%s raising %v: %d %s, want %d", c.who, c.body, res.status, res.body, c.status)
			}
		}
		if n := k.count("disputes"); n != 0 {
			t.Fatalf("refused disputes wrote %d rows", n)
		}
		res := k.as["mktmgr"].call("POST", raise, map[string]any{"reason": "the dock was second-hand"})
		if res.status != http.StatusCreated || res.str("status") != "open" || res.str("charge_id") != cid {
			t.Fatalf("raise: %d %s", res.status, res.body)
		}
		dispute := res.str("id")
		if res := k.as["mktmgr"].call("POST", raise, map[string]any{"reason": "again"}); res.status != http.StatusConflict {
			t.Errorf("second dispute: %d %s", res.status, res.body)
		}
		if got := k.as["mktmgr"].call("GET", "/api/v1/charges/"+cid, nil); got.str("status") != "disputed" {
			t.Errorf("charge after raising: %s", got.body)
		}

		settle := "/api/v1/disputes/" + dispute + "/actions"
		entries := k.count("journal_entries")
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
			res := k.as["finance"].call("POST", settle, []byte(body))
			if res.status < 400 || res.status >= 500 {
				t.Errorf("settle %s: %d %s, want 4xx", body, res.status, res.body)
			}
		}
		// Who sees the dispute is forbidden to settle it; the admin does
		// not see it (billing.Viewer).
		for who, want := range map[string]int{"admin": http.StatusNotFound, "mktmgr": http.StatusForbidden,
			"itmgr": http.StatusForbidden, "auditor": http.StatusForbidden} {
			if res := k.as[who].call("POST", settle, map[string]any{"action": "accept", "credit_minor": 100}); res.status != want {
				t.Errorf("%s settling: %d %s, want %d", who, res.status, res.body, want)
			}
		}
		if got := k.count("journal_entries"); got != entries {
			t.Fatalf("refused settlements posted %d entries", got-entries)
		}
		if res := k.as["finance"].call("POST", "/api/v1/disputes/999999/actions", map[string]any{"action": "reject", "note": "x"}); res.status != http.StatusNotFound {
			t.Errorf("settling a missing dispute: %d %s", res.status, res.body)
		}

		res = k.as["finance"].call("POST", settle, map[string]any{"action": "accept", "credit_minor": 4000, "note": "a third off"})
		if res.status != http.StatusOK || res.str("status") != "accepted" || minorOf(res.json["credit"]) != 4000 {
			t.Fatalf("partial credit: %d %s", res.status, res.body)
		}
		if res := k.as["finance"].call("POST", settle, map[string]any{"action": "accept", "credit_minor": 4000, "note": "again"}); res.status != http.StatusConflict {
			t.Errorf("settling twice: %d %s", res.status, res.body)
		}
		for _, who := range []string{"mktmgr", "itmgr", "finance", "auditor"} {
			got := k.as[who].call("GET", "/api/v1/charges/"+cid, nil)
			dj, _ := got.json["dispute"].(map[string]any)
			if got.status != http.StatusOK || got.str("status") != "credited" || minorOf(got.json["amount"]) != 12000 ||
				dj == nil || dj["id"] != dispute || dj["status"] != "accepted" || minorOf(dj["credit"]) != 4000 || dj["reason"] != "the dock was second-hand" {
				t.Errorf("%s sees the credited charge as %d %s", who, got.status, got.body)
			}
		}
		if k.count("journal_entries") != entries+1 || k.balance("MKT") != 8000 || k.balance("IT") != -8000 {
			t.Errorf("after the credit: %d entries, MKT %d, IT %d", k.count("journal_entries")-entries, k.balance("MKT"), k.balance("IT"))
		}
		if got := k.as["finance"].call("GET", "/api/v1/disputes?status=accepted", nil); got.status != http.StatusOK || len(got.items()) != 1 {
			t.Errorf("accepted disputes: %d %s", got.status, got.body)
		}
		// Managers read disputes through their charges, not the org-wide list.
		for _, who := range []string{"hrmgr", "mktmgr"} {
			if got := k.as[who].call("GET", "/api/v1/disputes", nil); got.status != http.StatusForbidden {
				t.Errorf("%s lists disputes: %d %s", who, got.status, got.body)
			}
		}
		k.mustVerify()
	})
}

// TestPeriodsCloseOverAPI closes the current month: refused while a dispute
// is open, then through review to closed; later charges post late into the
// next month and the closed month's charges cannot be disputed.
func TestPeriodsCloseOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		k.service("DOCK", "fixed", "never", 12000)
		var charges []string
		for i := range 3 {
			rid := k.order("mktmember", "MKT", "DOCK", fmt.Sprint("Dock ", i)).str("id")
			k.fulfil(rid)
			charges = append(charges, k.chargesOf(rid)[0]["id"].(string))
		}
		cur, _ := k.as["finance"].call("GET", "/api/v1/charges/"+charges[0], nil).json["period"].(string)

		for who, want := range map[string]int{"finance": 200, "auditor": 200, "mktmgr": 403, "itmgr": 403, "admin": 403, "mktmember": 403} {
			if res := k.as[who].call("GET", "/api/v1/periods", nil); res.status != want {
				t.Errorf("%s GET /periods: %d, want %d", who, res.status, want)
			}
		}
		res := k.as["mktmgr"].call("POST", "/api/v1/charges/"+charges[0]+"/disputes", map[string]any{"reason": "wrong dock"})
		if res.status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.status, res.body)
		}
		dispute := res.str("id")
		act := "/api/v1/periods/" + cur + "/actions"
		// The auditor sees the periods and is forbidden; to a manager or
		// the admin they are not there (billing.Viewer).
		for who, want := range map[string]int{"itmgr": http.StatusNotFound, "admin": http.StatusNotFound, "auditor": http.StatusForbidden} {
			if res := k.as[who].call("POST", act, map[string]any{"action": "close"}); res.status != want {
				t.Errorf("%s closing: %d %s, want %d", who, res.status, res.body, want)
			}
		}
		// The month has not ended: it neither closes nor goes to review
		// (closing with open disputes is billing's test).
		for _, action := range []string{"close", "review"} {
			if res := k.as["finance"].call("POST", act, map[string]any{"action": action}); res.status != http.StatusUnprocessableEntity ||
				!strings.Contains(string(res.body), cur+" has not ended") {
				t.Errorf("%s the current month: %d %s", action, res.status, res.body)
			}
		}
		for _, body := range []map[string]any{{"action": "open"}, {"action": ""}} {
			if res := k.as["finance"].call("POST", act, body); res.status != http.StatusUnprocessableEntity {
				t.Errorf("period action %v: %d %s", body, res.status, res.body)
			}
		}
		if res := k.as["finance"].call("POST", "/api/v1/periods/2026-13/actions", map[string]any{"action": "review"}); res.status != http.StatusUnprocessableEntity {
			t.Errorf("month 13: %d %s", res.status, res.body)
		}
		if res := k.as["finance"].call("POST", "/api/v1/disputes/"+dispute+"/actions",
			map[string]any{"action": "reject", "note": "the dock matches the order"}); res.status != http.StatusOK || res.str("status") != "rejected" {
			t.Fatalf("reject: %d %s", res.status, res.body)
		}
		if got := k.as["finance"].call("GET", "/api/v1/charges/"+charges[0], nil); got.str("status") != "posted" {
			t.Errorf("charge after a rejected dispute: %s", got.body)
		}
		closeOnceEnded(t, d, cur)
		listed := k.as["auditor"].call("GET", "/api/v1/periods", nil)
		found := false
		for _, p := range listed.items() {
			found = found || (p["month"] == cur && p["status"] == "closed")
		}
		if !found {
			t.Errorf("periods: %s", listed.body)
		}

		// A request resolved now belongs to the closed month: it posts late.
		rid := k.order("mktmember", "MKT", "DOCK", "Late dock").str("id")
		k.fulfil(rid)
		late := k.chargesOf(rid)
		next := billing.NextMonth(cur)
		if len(late) != 1 || late[0]["period"] != next || late[0]["late_from"] != cur {
			t.Fatalf("late charge = %v, want period %s late from %s", late, next, cur)
		}
		var latePeriod string
		if err := d.NewSelect().Table("journal_entries").Column("period").Where("idempotency_key = ?", fmt.Sprintf("request:%s:rate:%d", rid, k.row(rid).RateID)).
			Scan(context.Background(), &latePeriod); err != nil || latePeriod != next {
			t.Errorf("late entry period %q, %v", latePeriod, err)
		}
		// The closed month's charges can no longer be disputed; the late one can.
		if res := k.as["mktmgr"].call("POST", "/api/v1/charges/"+charges[1]+"/disputes", map[string]any{"reason": "too late"}); res.status != http.StatusConflict || res.errorCode() != "period_closed" {
			t.Errorf("dispute in a closed period: %d %s", res.status, res.body)
		}
		if res := k.as["mktmgr"].call("POST", "/api/v1/charges/"+late[0]["id"].(string)+"/disputes", map[string]any{"reason": "late and wrong"}); res.status != http.StatusCreated {
			t.Errorf("dispute on the late charge: %d %s", res.status, res.body)
		}
		k.mustVerify()
	})
}

// closeOnceEnded closes month as finance would once it has ended: the API
// runs on the wall clock, in which the month of the test's charges has not.
func closeOnceEnded(t *testing.T, d *db.DB, month string) {
	t.Helper()
	ended, _ := time.Parse("2006-01", billing.NextMonth(month))
	if err := d.InTx(context.Background(), func(tx bun.Tx) error {
		_, err := billing.MovePeriod(context.Background(), tx, billing.Operator(0), month, "close", ended.AddDate(0, 0, 2))
		return err
	}); err != nil {
		t.Fatalf("close %s once it ended: %v", month, err)
	}
}

// TestFiftyConcurrentResolvesAndAcceptsPostOnce races fifty resolutions of
// one request and fifty acceptances of one dispute: one of each wins and
// one entry of each is posted.
func TestFiftyConcurrentResolvesAndAcceptsPostOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		const n = 50
		k.service("DOCK", "fixed", "never", 12000)
		rid := k.order("mktmember", "MKT", "DOCK", "Docking station").str("id")
		k.start(rid)
		body, _ := json.Marshal(map[string]any{"action": "resolve", "version": k.row(rid).Version})
		results := together(n, func(int) raceResult {
			return k.as["itagent"].raceCall("POST", "/api/v1/requests/"+rid+"/actions", body, nil)
		})
		counts := tally(t, results, http.StatusOK, http.StatusConflict)
		if counts["200"] != 1 {
			t.Errorf("%d concurrent resolves: %v", n, counts)
		}
		if c := k.countWhere("charges", "request_id = ?", rid); c != 1 {
			t.Errorf("%d charges", c)
		}
		if e := k.count("journal_entries"); e != 1 {
			t.Errorf("%d journal entries", e)
		}
		k.mustVerify()

		cid := k.chargesOf(rid)[0]["id"].(string)
		res := k.as["mktmgr"].call("POST", "/api/v1/charges/"+cid+"/disputes", map[string]any{"reason": "never arrived"})
		if res.status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.status, res.body)
		}
		settle := "/api/v1/disputes/" + res.str("id") + "/actions"
		accept, _ := json.Marshal(map[string]any{"action": "accept", "credit_minor": 12000, "note": "refund"})
		results = together(n, func(int) raceResult { return k.as["finance"].raceCall("POST", settle, accept, nil) })
		counts = tally(t, results, http.StatusOK, http.StatusConflict)
		if counts["200"] != 1 {
			t.Errorf("%d concurrent accepts: %v", n, counts)
		}
		if c := k.countWhere("journal_entries", "kind = ?", "dispute_credit"); c != 1 {
			t.Errorf("%d credit entries", c)
		}
		if k.balance("MKT") != 0 || k.balance("IT") != 0 {
			t.Errorf("after a full credit: MKT %d, IT %d", k.balance("MKT"), k.balance("IT"))
		}
		k.mustVerify()
	})
}
