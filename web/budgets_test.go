package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
)

// budgetMonth is this month in the fixture organisation's zone, which is
// the month an order placed now is weighed against.
func budgetMonth(t *testing.T) string {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	return billing.MonthOf(time.Now(), loc)
}

func budgetPath(unitID int64, month string) string {
	return "/api/v1/units/" + id(unitID) + "/budgets/" + month
}

// budgetWarnings counts the warning events of a unit's budget for month.
func (f *fixture) budgetWarnings(unitID int64, month string) int {
	f.t.Helper()
	n, err := f.d.NewSelect().Table("audit_events").
		Where("object_type = 'budget' AND object_id = ? AND action = 'warning'", id(unitID)+"/"+month).Count(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return int(n)
}

func TestBudgetsWhoMaySeeAndSet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		mkt := budgetPath(k.units["MKT"], "2026-11")
		body := map[string]any{"amount": eur(500000), "warn_pct": 75, "hard": true}
		// Who reads MKT's budgets is forbidden to set them; to anyone else
		// the unit is not there (billing.Viewer).
		for who, want := range map[string]int{"auditor": http.StatusForbidden, "groupmgr": http.StatusForbidden,
			"mktmgr": http.StatusForbidden, "admin": http.StatusNotFound, "itmgr": http.StatusNotFound,
			"mktmember": http.StatusNotFound, "nobody": http.StatusNotFound} {
			if res := k.as[who].call("PUT", mkt, body); res.status != want {
				t.Errorf("%s setting a budget: %d %s, want %d", who, res.status, res.body, want)
			}
		}
		if n := k.count("budgets"); n != 0 {
			t.Fatalf("refused budgets wrote %d rows", n)
		}
		res := k.as["finance"].call("PUT", mkt, body)
		if res.status != http.StatusOK || res.str("unit_id") != id(k.units["MKT"]) || res.str("month") != "2026-11" ||
			amountMinor(res, "amount") != 500000 || jsonInt(res, "warn_pct") != 75 || res.json["hard"] != true ||
			amountMinor(res, "remaining") != 500000 || amountMinor(res, "used") != 0 || res.json["warning"] != false {
			t.Fatalf("set budget: %d %s", res.status, res.body)
		}
		// Managers of the unit and above it, finance and auditors read it;
		// to everyone else it is not there.
		for _, who := range []string{"finance", "auditor", "groupmgr", "mktmgr"} {
			res := k.as[who].call("GET", mkt, nil)
			if res.status != http.StatusOK || amountMinor(res, "amount") != 500000 || res.json["hard"] != true {
				t.Errorf("%s reading: %d %s", who, res.status, res.body)
			}
		}
		for _, who := range []string{"admin", "itmgr", "itagent", "mktmember", "mktmember2", "nobody"} {
			if res := k.as[who].call("GET", mkt, nil); res.status != http.StatusNotFound {
				t.Errorf("%s reading: %d %s", who, res.status, res.body)
			}
		}
		for path, want := range map[string]int{
			budgetPath(k.units["MKT"], "2026-12"): http.StatusNotFound,            // no budget that month
			budgetPath(k.units["IT"], "2026-11"):  http.StatusNotFound,            // none for IT
			budgetPath(999999, "2026-11"):         http.StatusNotFound,            // no such unit
			"/api/v1/units/abc/budgets/2026-11":   http.StatusNotFound,            // not an id
			budgetPath(k.units["MKT"], "2026-13"): http.StatusUnprocessableEntity, // not a month
		} {
			if res := k.as["finance"].call("GET", path, nil); res.status != want {
				t.Errorf("GET %s: %d %s, want %d", path, res.status, res.body, want)
			}
		}
		if res := k.as["finance"].call("PUT", budgetPath(999999, "2026-11"), body); res.status != http.StatusNotFound {
			t.Errorf("budget of an unknown unit: %d %s", res.status, res.body)
		}

		// Defaults: warn_pct 80, hard from the unit's budget mode.
		res = k.as["finance"].call("PUT", mkt, map[string]any{"amount": eur(600000)})
		if res.status != http.StatusOK || jsonInt(res, "warn_pct") != 80 || res.json["hard"] != false {
			t.Fatalf("defaults on a soft unit: %d %s", res.status, res.body)
		}
		if res := k.as["admin"].call("PATCH", "/api/v1/units/"+id(k.units["MKT"]), map[string]any{"budget_mode": "hard"}); res.status != http.StatusOK {
			t.Fatalf("make MKT hard: %d %s", res.status, res.body)
		}
		res = k.as["finance"].call("PUT", mkt, map[string]any{"amount": eur(600000)})
		if res.status != http.StatusOK || res.json["hard"] != true {
			t.Fatalf("defaults on a hard unit: %d %s", res.status, res.body)
		}
		events, err := d.NewSelect().Table("audit_events").Where("object_type = 'budget' AND object_id = ?", id(k.units["MKT"])+"/2026-11").Count(context.Background())
		if err != nil || events != 3 {
			t.Fatalf("budget audit events = %d, %v", events, err)
		}
	})
}

func TestBudgetBadInputWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		fin := f.login("finance")
		path := budgetPath(f.units["MKT"], "2026-11")
		for _, c := range badMoneyCases {
			res := fin.call("PUT", path, []byte(`{"amount": `+c.json+`, "warn_pct": 80}`))
			if (res.status != http.StatusBadRequest && res.status != http.StatusUnprocessableEntity) || res.errorCode() == "" {
				t.Errorf("%s: %d %s", c.name, res.status, res.body)
			}
		}
		for _, c := range []struct {
			name, body string
			want       int
		}{
			{"no amount", `{"warn_pct": 80}`, 422},
			{"warn_pct 0", `{"amount": {"amount_minor": 1, "currency": "EUR"}, "warn_pct": 0}`, 422},
			{"warn_pct 101", `{"amount": {"amount_minor": 1, "currency": "EUR"}, "warn_pct": 101}`, 422},
			{"warn_pct 80.5", `{"amount": {"amount_minor": 1, "currency": "EUR"}, "warn_pct": 80.5}`, 400},
			{"hard as a string", `{"amount": {"amount_minor": 1, "currency": "EUR"}, "hard": "yes"}`, 400},
			{"unknown field", `{"amount": {"amount_minor": 1, "currency": "EUR"}, "soft": true}`, 400},
			{"malformed", `{"amount": `, 400},
		} {
			if res := fin.call("PUT", path, []byte(c.body)); res.status != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.want)
			}
		}
		if res := fin.call("PUT", budgetPath(f.units["MKT"], "2026-1"), map[string]any{"amount": eur(1)}); res.status != http.StatusUnprocessableEntity {
			t.Errorf("bad month: %d %s", res.status, res.body)
		}
		if n := f.count("budgets"); n != 0 {
			t.Fatalf("bad input wrote %d budgets", n)
		}
		if res := fin.call("PUT", path, map[string]any{"amount": eur(0), "warn_pct": 100}); res.status != http.StatusOK {
			t.Fatalf("a zero budget: %d %s", res.status, res.body)
		}
	})
}

func TestHardBudgetRefusesAndSoftBudgetRoutesToApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		month, mkt := budgetMonth(t), k.units["MKT"]
		// 100.00 EUR, hard; NEVER costs 50.00 EUR a piece and needs no approval.
		if res := k.as["finance"].call("PUT", budgetPath(mkt, month), map[string]any{"amount": eur(10000), "hard": true}); res.status != http.StatusOK {
			t.Fatalf("set budget: %d %s", res.status, res.body)
		}
		first := k.order("mktmember", "MKT", "NEVER", "First half")
		if first.str("status") != "open" || k.budgetWarnings(mkt, month) != 0 {
			t.Fatalf("first order: %s, %d warnings", first.body, k.budgetWarnings(mkt, month))
		}
		// 50% → 100%: fits exactly and crosses the warning line.
		second := k.order("mktmember", "MKT", "NEVER", "Second half")
		if second.str("status") != "open" || k.budgetWarnings(mkt, month) != 1 {
			t.Fatalf("second order: %s, %d warnings", second.body, k.budgetWarnings(mkt, month))
		}
		res := k.as["mktmgr"].call("GET", budgetPath(mkt, month), nil)
		if res.status != http.StatusOK || amountMinor(res, "committed") != 10000 || amountMinor(res, "posted") != 0 ||
			amountMinor(res, "used") != 10000 || amountMinor(res, "remaining") != 0 || res.json["warning"] != true {
			t.Fatalf("budget after two orders: %d %s", res.status, res.body)
		}

		tables := []string{"requests", "request_events", "idempotency_keys", "audit_events"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = k.count(tb)
		}
		refused := k.as["mktmember"].call("POST", "/api/v1/requests", map[string]any{"service_id": k.svc["NEVER"],
			"consumer_unit_id": id(mkt), "title": "One too many"})
		if refused.status != http.StatusConflict || refused.errorCode() != "budget_exceeded" {
			t.Fatalf("over a hard budget: %d %s", refused.status, refused.body)
		}
		msg, _ := refused.json["error"].(map[string]any)["message"].(string)
		if !strings.Contains(msg, "budget for "+month) || !strings.Contains(msg, "0.00 EUR of 100.00 EUR remaining") {
			t.Errorf("refusal message: %q", msg)
		}
		// A hard refusal leaves nothing behind, not even with an Idempotency-Key.
		req, _ := http.NewRequest("POST", k.srv.URL+"/api/v1/requests", strings.NewReader(
			`{"service_id": "`+k.svc["NEVER"]+`", "consumer_unit_id": "`+id(mkt)+`", "title": "Retry me"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "budget-test-1")
		if res := k.as["mktmember"].send(req); res.status != http.StatusConflict {
			t.Fatalf("keyed order over a hard budget: %d %s", res.status, res.body)
		}
		for _, tb := range tables {
			if got := k.count(tb); got != before[tb] {
				t.Errorf("a refused order wrote %d rows to %s", got-before[tb], tb)
			}
		}

		// Finance makes the budget soft: the same order now waits for approval,
		// though the service never needs it.
		if res := k.as["finance"].call("PUT", budgetPath(mkt, month), map[string]any{"amount": eur(10000), "hard": false}); res.status != http.StatusOK {
			t.Fatalf("soften budget: %d %s", res.status, res.body)
		}
		pending := k.order("mktmember", "MKT", "NEVER", "Over a soft budget")
		if pending.str("status") != string(requests.PendingApproval) || pending.json["needs_approval"] != true {
			t.Fatalf("over a soft budget: %s", pending.body)
		}
		events := k.as["mktmgr"].call("GET", "/api/v1/requests/"+pending.str("id")+"/events", nil)
		var note string
		for _, e := range events.items() {
			if e["action"] == "route" {
				note, _ = e["note"].(string)
			}
		}
		if !strings.Contains(note, "would exceed the unit's budget for "+month) {
			t.Errorf("route note: %q", note)
		}
		// Once approved it commits; it was pending, so it did not before.
		if res := k.as["mktmgr"].call("GET", budgetPath(mkt, month), nil); amountMinor(res, "committed") != 10000 {
			t.Errorf("pending order counted: %s", res.body)
		}
		k.mustAct("mktmgr", pending.str("id"), "approve")
		if res := k.as["mktmgr"].call("GET", budgetPath(mkt, month), nil); amountMinor(res, "committed") != 15000 || amountMinor(res, "remaining") != -5000 {
			t.Errorf("after approval: %s", res.body)
		}
		// The warning was written once this month, however far use went.
		if n := k.budgetWarnings(mkt, month); n != 1 {
			t.Errorf("%d warnings", n)
		}
		// Another unit without a budget orders as before.
		if res := k.order("itsdmember", "IT-SD", "NEVER", "No budget here"); res.str("status") != "open" {
			t.Errorf("unit without a budget: %s", res.body)
		}
	})
}

func TestConcurrentOrdersDoNotOverspendAHardBudget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		month, mkt := budgetMonth(t), k.units["MKT"]
		// Room for three 50.00 EUR orders.
		if res := k.as["finance"].call("PUT", budgetPath(mkt, month), map[string]any{"amount": eur(15000), "hard": true}); res.status != http.StatusOK {
			t.Fatalf("set budget: %d %s", res.status, res.body)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := k.as["mktmember"].call("POST", "/api/v1/requests", map[string]any{"service_id": k.svc["NEVER"],
					"consumer_unit_id": id(mkt), "title": "Race"})
				mu.Lock()
				codes[res.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[http.StatusCreated] != 3 || codes[http.StatusConflict] != 9 {
			t.Fatalf("concurrent orders: %v", codes)
		}
		if n := k.count("requests"); n != 3 {
			t.Fatalf("%d requests stored", n)
		}
	})
}
