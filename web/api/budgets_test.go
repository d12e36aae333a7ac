package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/webtest"
)

func TestBudgetsWhoMaySeeAndSet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		mkt := webtest.BudgetPath(k.Units["MKT"], "2026-11")
		body := map[string]any{"amount": webtest.EUR(500000), "warn_pct": 75, "hard": true}
		// Who reads MKT's budgets is forbidden to set them; to anyone else
		// the unit is not there (billing.Viewer).
		for who, want := range map[string]int{"auditor": http.StatusForbidden, "groupmgr": http.StatusForbidden,
			"mktmgr": http.StatusForbidden, "admin": http.StatusNotFound, "itmgr": http.StatusNotFound,
			"mktmember": http.StatusNotFound, "nobody": http.StatusNotFound} {
			if res := k.As[who].Call("PUT", mkt, body); res.Status != want {
				t.Errorf("%s setting a budget: %d %s, want %d", who, res.Status, res.Body, want)
			}
		}
		if n := k.Count("budgets"); n != 0 {
			t.Fatalf("refused budgets wrote %d rows", n)
		}
		res := k.As["finance"].Call("PUT", mkt, body)
		if res.Status != http.StatusOK || res.Str("unit_id") != webtest.ID(k.Units["MKT"]) || res.Str("month") != "2026-11" ||
			amountMinor(res, "amount") != 500000 || jsonInt(res, "warn_pct") != 75 || res.JSON["hard"] != true ||
			amountMinor(res, "remaining") != 500000 || amountMinor(res, "used") != 0 || res.JSON["warning"] != false {
			t.Fatalf("set budget: %d %s", res.Status, res.Body)
		}
		// Managers of the unit and above it, finance and auditors read it;
		// to everyone else it is not there.
		for _, who := range []string{"finance", "auditor", "groupmgr", "mktmgr"} {
			res := k.As[who].Call("GET", mkt, nil)
			if res.Status != http.StatusOK || amountMinor(res, "amount") != 500000 || res.JSON["hard"] != true {
				t.Errorf("%s reading: %d %s", who, res.Status, res.Body)
			}
		}
		for _, who := range []string{"admin", "itmgr", "itagent", "mktmember", "mktmember2", "nobody"} {
			if res := k.As[who].Call("GET", mkt, nil); res.Status != http.StatusNotFound {
				t.Errorf("%s reading: %d %s", who, res.Status, res.Body)
			}
		}
		for path, want := range map[string]int{
			webtest.BudgetPath(k.Units["MKT"], "2026-12"): http.StatusNotFound,            // no budget that month
			webtest.BudgetPath(k.Units["IT"], "2026-11"):  http.StatusNotFound,            // none for IT
			webtest.BudgetPath(999999, "2026-11"):         http.StatusNotFound,            // no such unit
			"/api/v1/units/abc/budgets/2026-11":           http.StatusNotFound,            // not an id
			webtest.BudgetPath(k.Units["MKT"], "2026-13"): http.StatusUnprocessableEntity, // not a month
		} {
			if res := k.As["finance"].Call("GET", path, nil); res.Status != want {
				t.Errorf("GET %s: %d %s, want %d", path, res.Status, res.Body, want)
			}
		}
		if res := k.As["finance"].Call("PUT", webtest.BudgetPath(999999, "2026-11"), body); res.Status != http.StatusNotFound {
			t.Errorf("budget of an unknown unit: %d %s", res.Status, res.Body)
		}

		// Defaults: warn_pct 80, hard from the unit's budget mode.
		res = k.As["finance"].Call("PUT", mkt, map[string]any{"amount": webtest.EUR(600000)})
		if res.Status != http.StatusOK || jsonInt(res, "warn_pct") != 80 || res.JSON["hard"] != false {
			t.Fatalf("defaults on a soft unit: %d %s", res.Status, res.Body)
		}
		if res := k.As["admin"].Call("PATCH", "/api/v1/units/"+webtest.ID(k.Units["MKT"]), map[string]any{"budget_mode": "hard"}); res.Status != http.StatusOK {
			t.Fatalf("make MKT hard: %d %s", res.Status, res.Body)
		}
		res = k.As["finance"].Call("PUT", mkt, map[string]any{"amount": webtest.EUR(600000)})
		if res.Status != http.StatusOK || res.JSON["hard"] != true {
			t.Fatalf("defaults on a hard unit: %d %s", res.Status, res.Body)
		}
		budget := webtest.ID(k.Units["MKT"]) + "/2026-11"
		events, err := d.NewSelect().Table("audit_events").Where("object_type = 'budget' AND object_id = ? AND action <> 'refuse'", budget).Count(context.Background())
		if err != nil || events != 3 {
			t.Fatalf("budget audit events = %d, %v", events, err)
		}
		// The writes refused above (the auditor, the managers) are
		// kept as refusals.
		refused, err := d.NewSelect().Table("audit_events").Where("object_type = 'budget' AND object_id = ? AND action = 'refuse'", budget).Count(context.Background())
		if err != nil || refused == 0 {
			t.Fatalf("refused budget writes recorded = %d, %v", refused, err)
		}
	})
}

func TestBudgetBadInputWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		fin := f.Login("finance")
		path := webtest.BudgetPath(f.Units["MKT"], "2026-11")
		for _, c := range badMoneyCases {
			res := fin.Call("PUT", path, []byte(`{"amount": `+c.json+`, "warn_pct": 80}`))
			if (res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity) || res.ErrorCode() == "" {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
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
			if res := fin.Call("PUT", path, []byte(c.body)); res.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.want)
			}
		}
		if res := fin.Call("PUT", webtest.BudgetPath(f.Units["MKT"], "2026-1"), map[string]any{"amount": webtest.EUR(1)}); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("bad month: %d %s", res.Status, res.Body)
		}
		if n := f.Count("budgets"); n != 0 {
			t.Fatalf("bad input wrote %d budgets", n)
		}
		if res := fin.Call("PUT", path, map[string]any{"amount": webtest.EUR(0), "warn_pct": 100}); res.Status != http.StatusOK {
			t.Fatalf("a zero budget: %d %s", res.Status, res.Body)
		}
	})
}

func TestHardBudgetRefusesAndSoftBudgetRoutesToApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		month, mkt := webtest.BudgetMonth(t), k.Units["MKT"]
		// 100.00 EUR, hard; NEVER costs 50.00 EUR a piece and needs no approval.
		if res := k.As["finance"].Call("PUT", webtest.BudgetPath(mkt, month), map[string]any{"amount": webtest.EUR(10000), "hard": true}); res.Status != http.StatusOK {
			t.Fatalf("set budget: %d %s", res.Status, res.Body)
		}
		first := k.Order("mktmember", "MKT", "NEVER", "First half")
		if first.Str("status") != "open" || k.BudgetWarnings(mkt, month) != 0 {
			t.Fatalf("first order: %s, %d warnings", first.Body, k.BudgetWarnings(mkt, month))
		}
		// 50% → 100%: fits exactly and crosses the warning line.
		second := k.Order("mktmember", "MKT", "NEVER", "Second half")
		if second.Str("status") != "open" || k.BudgetWarnings(mkt, month) != 1 {
			t.Fatalf("second order: %s, %d warnings", second.Body, k.BudgetWarnings(mkt, month))
		}
		res := k.As["mktmgr"].Call("GET", webtest.BudgetPath(mkt, month), nil)
		if res.Status != http.StatusOK || amountMinor(res, "committed") != 10000 || amountMinor(res, "posted") != 0 ||
			amountMinor(res, "used") != 10000 || amountMinor(res, "remaining") != 0 || res.JSON["warning"] != true {
			t.Fatalf("budget after two orders: %d %s", res.Status, res.Body)
		}

		tables := []string{"requests", "request_events", "idempotency_keys", "audit_events"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = k.Count(tb)
		}
		refused := k.As["mktmember"].Call("POST", "/api/v1/requests", map[string]any{"service_id": k.Svc["NEVER"],
			"consumer_unit_id": webtest.ID(mkt), "title": "One too many"})
		if refused.Status != http.StatusConflict || refused.ErrorCode() != "budget_exceeded" {
			t.Fatalf("over a hard budget: %d %s", refused.Status, refused.Body)
		}
		msg, _ := refused.JSON["error"].(map[string]any)["message"].(string)
		if !strings.Contains(msg, "budget for "+month) || !strings.Contains(msg, "0.00 EUR of 100.00 EUR remaining") {
			t.Errorf("refusal message: %q", msg)
		}
		// A hard refusal leaves nothing behind, not even with an Idempotency-Key.
		req, _ := http.NewRequest("POST", k.Srv.URL+"/api/v1/requests", strings.NewReader(
			`{"service_id": "`+k.Svc["NEVER"]+`", "consumer_unit_id": "`+webtest.ID(mkt)+`", "title": "Retry me"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "budget-test-1")
		if res := k.As["mktmember"].Send(req); res.Status != http.StatusConflict {
			t.Fatalf("keyed order over a hard budget: %d %s", res.Status, res.Body)
		}
		for _, tb := range tables {
			if got := k.Count(tb); got != before[tb] {
				t.Errorf("a refused order wrote %d rows to %s", got-before[tb], tb)
			}
		}

		// Finance makes the budget soft: the same order now waits for approval,
		// though the service never needs it.
		if res := k.As["finance"].Call("PUT", webtest.BudgetPath(mkt, month), map[string]any{"amount": webtest.EUR(10000), "hard": false}); res.Status != http.StatusOK {
			t.Fatalf("soften budget: %d %s", res.Status, res.Body)
		}
		pending := k.Order("mktmember", "MKT", "NEVER", "Over a soft budget")
		if pending.Str("status") != string(requests.PendingApproval) || pending.JSON["needs_approval"] != true {
			t.Fatalf("over a soft budget: %s", pending.Body)
		}
		events := k.As["mktmgr"].Call("GET", "/api/v1/requests/"+pending.Str("id")+"/events", nil)
		var note string
		for _, e := range events.Items() {
			if e["action"] == "route" {
				note, _ = e["note"].(string)
			}
		}
		if !strings.Contains(note, "would exceed the unit's budget for "+month) {
			t.Errorf("route note: %q", note)
		}
		// Waiting for approval it commits already, and shows as pending_approval.
		if res := k.As["mktmgr"].Call("GET", webtest.BudgetPath(mkt, month), nil); amountMinor(res, "committed") != 15000 || amountMinor(res, "pending_approval") != 5000 {
			t.Errorf("pending order counted: %s", res.Body)
		}
		k.MustAct("mktmgr", pending.Str("id"), "approve")
		if res := k.As["mktmgr"].Call("GET", webtest.BudgetPath(mkt, month), nil); amountMinor(res, "committed") != 15000 || amountMinor(res, "remaining") != -5000 ||
			amountMinor(res, "pending_approval") != 0 {
			t.Errorf("after approval: %s", res.Body)
		}
		// The warning was written once this month, however far use went.
		if n := k.BudgetWarnings(mkt, month); n != 1 {
			t.Errorf("%d warnings", n)
		}
		// Another unit without a budget orders as before.
		if res := k.Order("itsdmember", "IT-SD", "NEVER", "No budget here"); res.Str("status") != "open" {
			t.Errorf("unit without a budget: %s", res.Body)
		}
	})
}

func TestConcurrentOrdersDoNotOverspendAHardBudget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		month, mkt := webtest.BudgetMonth(t), k.Units["MKT"]
		// Room for three 50.00 EUR orders.
		if res := k.As["finance"].Call("PUT", webtest.BudgetPath(mkt, month), map[string]any{"amount": webtest.EUR(15000), "hard": true}); res.Status != http.StatusOK {
			t.Fatalf("set budget: %d %s", res.Status, res.Body)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := k.As["mktmember"].Call("POST", "/api/v1/requests", map[string]any{"service_id": k.Svc["NEVER"],
					"consumer_unit_id": webtest.ID(mkt), "title": "Race"})
				mu.Lock()
				codes[res.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[http.StatusCreated] != 3 || codes[http.StatusConflict] != 9 {
			t.Fatalf("concurrent orders: %v", codes)
		}
		if n := k.Count("requests"); n != 3 {
			t.Fatalf("%d requests stored", n)
		}
	})
}
