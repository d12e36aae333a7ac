package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

// adjustmentLimitMinor is the approval limit the adjustment tests' server
// runs with: 1 000.00 EUR.
const adjustmentLimitMinor = 100000

// newAdjustmentDesk is the standard organisation (with its second finance
// user, "finance2") served with adjustmentLimitMinor as the approval limit.
func newAdjustmentDesk(t *testing.T, d *db.DB) *webtest.Fixture {
	t.Helper()
	f := webtest.NewFixture(t, d)
	srv := httptest.NewServer(webtest.NewServer(t, d, web.Config{AdjustmentApprovalLimitMinor: adjustmentLimitMinor}).Handler())
	t.Cleanup(srv.Close)
	f.Srv = srv
	return f
}

func TestAdjustmentsMakerCheckerOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdjustmentDesk(t, d)
		as := map[string]*webtest.Client{}
		for _, p := range []string{"finance", "finance2", "auditor", "admin", "groupmgr", "itmgr", "mktmember", "nobody"} {
			as[p] = f.Login(p)
		}
		var path string // the big adjustment's actions

		testkit.Step(t, "up to the limit posts at once, above it waits for a second finance user", func(t *testing.T) {
			// Up to the limit posts at once.
			small := as["finance"].Call("POST", "/api/v1/adjustments", f.AdjustmentBody(webtest.EUR(adjustmentLimitMinor), "shared licence recharge"))
			if small.Status != http.StatusCreated || small.Str("status") != "posted" || small.Str("entry_id") == "" ||
				small.Str("created_by") != webtest.ID(f.Users["finance"]) || amountMinor(small, "amount") != adjustmentLimitMinor ||
				small.Str("debit_unit_id") != webtest.ID(f.Units["MKT"]) || small.Str("month") != "2026-10" {
				t.Fatalf("small adjustment: %d %s", small.Status, small.Body)
			}
			// Above it waits for a second finance user.
			big := as["finance"].Call("POST", "/api/v1/adjustments", f.AdjustmentBody(webtest.EUR(adjustmentLimitMinor+1), "year-end true-up"))
			if big.Status != http.StatusCreated || big.Str("status") != "pending" || big.JSON["entry_id"] != nil {
				t.Fatalf("big adjustment: %d %s", big.Status, big.Body)
			}
			if f.Count("journal_entries") != 1 || f.UnitBalance("MKT") != adjustmentLimitMinor {
				t.Fatalf("a pending adjustment moved money: %d entries, MKT %d", f.Count("journal_entries"), f.UnitBalance("MKT"))
			}
			path = "/api/v1/adjustments/" + big.Str("id") + "/actions"
			res := as["finance"].Call("POST", path, map[string]any{"action": "approve"})
			if res.Status != http.StatusForbidden || res.ErrorCode() != "self_approval" {
				t.Fatalf("self-approval: %d %s", res.Status, res.Body)
			}
			// The auditor sees adjustments and is forbidden; to anyone else
			// they are not there (billing.Viewer).
			for who, want := range map[string]int{"auditor": http.StatusForbidden, "admin": http.StatusNotFound,
				"groupmgr": http.StatusNotFound, "itmgr": http.StatusNotFound, "mktmember": http.StatusNotFound, "nobody": http.StatusNotFound} {
				if res := as[who].Call("POST", path, map[string]any{"action": "approve"}); res.Status != want {
					t.Errorf("%s approving: %d %s, want %d", who, res.Status, res.Body, want)
				}
				if res := as[who].Call("POST", "/api/v1/adjustments", f.AdjustmentBody(webtest.EUR(100), "mine")); res.Status != want {
					t.Errorf("%s creating: %d %s, want %d", who, res.Status, res.Body, want)
				}
			}
			if f.Count("journal_entries") != 1 || f.Count("adjustments") != 2 {
				t.Fatalf("refusals wrote: %d entries, %d adjustments", f.Count("journal_entries"), f.Count("adjustments"))
			}
		})

		testkit.Step(t, "twenty approvals at once post once", func(t *testing.T) {
			// The checker approves, twenty times at once: it posts once.
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := as["finance2"].Call("POST", path, map[string]any{"action": "approve", "note": "matches the invoice"})
					mu.Lock()
					codes[res.Status]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 19 {
				t.Fatalf("concurrent approvals: %v", codes)
			}
			if f.Count("journal_entries") != 2 || f.UnitBalance("MKT") != 2*adjustmentLimitMinor+1 || f.UnitBalance("IT") != -(2*adjustmentLimitMinor+1) {
				t.Fatalf("after approval: %d entries, MKT %d, IT %d", f.Count("journal_entries"), f.UnitBalance("MKT"), f.UnitBalance("IT"))
			}
			res := as["finance2"].Call("POST", path, map[string]any{"action": "reject", "note": "changed my mind"})
			if res.Status != http.StatusConflict || res.ErrorCode() != "adjustment_decided" {
				t.Fatalf("deciding twice: %d %s", res.Status, res.Body)
			}
		})

		testkit.Step(t, "a rejection records the decision and posts nothing", func(t *testing.T) {
			// A rejection records the decision and posts nothing.
			third := as["finance2"].Call("POST", "/api/v1/adjustments", f.AdjustmentBody(webtest.EUR(500000), "duplicate invoice"))
			rpath := "/api/v1/adjustments/" + third.Str("id") + "/actions"
			if res := as["finance"].Call("POST", rpath, map[string]any{"action": "reject"}); res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("reject without a note: %d %s", res.Status, res.Body)
			}
			if res := as["finance"].Call("POST", rpath, map[string]any{"action": "void", "note": "x"}); res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("unknown action: %d %s", res.Status, res.Body)
			}
			res := as["finance"].Call("POST", rpath, map[string]any{"action": "reject", "note": "already booked in September"})
			if res.Status != http.StatusOK || res.Str("status") != "rejected" || res.Str("decided_by") != webtest.ID(f.Users["finance"]) || res.JSON["entry_id"] != nil {
				t.Fatalf("reject: %d %s", res.Status, res.Body)
			}
			if f.Count("journal_entries") != 2 {
				t.Fatal("a rejection posted")
			}
			if res := as["finance"].Call("POST", "/api/v1/adjustments/999999/actions", map[string]any{"action": "approve"}); res.Status != http.StatusNotFound {
				t.Fatalf("unknown adjustment: %d %s", res.Status, res.Body)
			}
		})

		testkit.Step(t, "finance and auditors list, nobody else", func(t *testing.T) {
			// Finance and auditors list; nobody else does.
			for status, want := range map[string]int{"": 3, "posted": 2, "pending": 0, "rejected": 1} {
				res := as["auditor"].Call("GET", "/api/v1/adjustments?status="+status, nil)
				if res.Status != http.StatusOK || len(res.Items()) != want {
					t.Errorf("auditor's %q list: %d %s", status, res.Status, res.Body)
				}
			}
			if res := as["finance"].Call("GET", "/api/v1/adjustments?limit=2", nil); res.Status != http.StatusOK || len(res.Items()) != 2 || res.Str("next_cursor") == "" {
				t.Errorf("first page: %d %s", res.Status, res.Body)
			}
			if res := as["finance"].Call("GET", "/api/v1/adjustments?status=approved", nil); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("bad status filter: %d %s", res.Status, res.Body)
			}
			for _, who := range []string{"admin", "groupmgr", "itmgr", "mktmember", "nobody"} {
				if res := as[who].Call("GET", "/api/v1/adjustments", nil); res.Status != http.StatusNotFound {
					t.Errorf("%s listing: %d %s", who, res.Status, res.Body)
				}
			}
			if breaches, err := billing.Verify(context.Background(), d); err != nil || len(breaches) != 0 {
				t.Fatalf("verify: %v %v", breaches, err)
			}
		})
	})
}

// badMoneyCases are money values the API must refuse, as raw JSON, with
// the statuses it may answer.
var badMoneyCases = []struct {
	name string
	json string
}{
	{"three decimals", `{"amount_minor": 1.234, "currency": "EUR"}`},
	{"a fraction", `{"amount_minor": 1.5, "currency": "EUR"}`},
	{"NaN", `{"amount_minor": NaN, "currency": "EUR"}`},
	{"NaN as a string", `{"amount_minor": "NaN", "currency": "EUR"}`},
	{"an exponent", `{"amount_minor": 1e3, "currency": "EUR"}`},
	{"beyond int64", `{"amount_minor": 9223372036854775808, "currency": "EUR"}`},
	{"a decimal string", `{"amount_minor": "12.34", "currency": "EUR"}`},
	{"another currency", `{"amount_minor": 1000, "currency": "USD"}`},
	{"lower-case currency", `{"amount_minor": 1000, "currency": "eur"}`},
	{"no currency", `{"amount_minor": 1000}`},
	{"an extra field", `{"amount_minor": 1000, "currency": "EUR", "tax": 1}`},
	{"a duplicate field", `{"amount_minor": 1000, "amount_minor": 1, "currency": "EUR"}`},
	{"a bare number", `1000`},
	{"null", `null`},
	{"negative", `{"amount_minor": -1000, "currency": "EUR"}`},
}

func TestAdjustmentBadInputWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdjustmentDesk(t, d)
		fin := f.Login("finance")
		body := func(amount string, rest string) []byte {
			return []byte(`{"debit_unit_id": "` + webtest.ID(f.Units["MKT"]) + `", "credit_unit_id": "` + webtest.ID(f.Units["IT"]) +
				`", "month": "2026-10", "reason": "x", "amount": ` + amount + rest + `}`)
		}
		for _, c := range badMoneyCases {
			res := fin.Call("POST", "/api/v1/adjustments", body(c.json, ""))
			if (res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity) || res.ErrorCode() == "" {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			}
		}
		eurOK := `{"amount_minor": 1000, "currency": "EUR"}`
		for _, c := range []struct {
			name string
			body []byte
			want int
		}{
			{"zero", body(`{"amount_minor": 0, "currency": "EUR"}`, ""), 422},
			{"same unit on both sides", []byte(`{"debit_unit_id": "` + webtest.ID(f.Units["IT"]) + `", "credit_unit_id": "` + webtest.ID(f.Units["IT"]) +
				`", "month": "2026-10", "reason": "x", "amount": ` + eurOK + `}`), 422},
			{"unknown unit", []byte(`{"debit_unit_id": "999999", "credit_unit_id": "` + webtest.ID(f.Units["IT"]) +
				`", "month": "2026-10", "reason": "x", "amount": ` + eurOK + `}`), 422},
			{"unit id as a number", []byte(`{"debit_unit_id": 1, "credit_unit_id": "2", "month": "2026-10", "reason": "x", "amount": ` + eurOK + `}`), 400},
			{"no reason", []byte(`{"debit_unit_id": "` + webtest.ID(f.Units["MKT"]) + `", "credit_unit_id": "` + webtest.ID(f.Units["IT"]) +
				`", "month": "2026-10", "reason": "  ", "amount": ` + eurOK + `}`), 422},
			{"month 13", []byte(`{"debit_unit_id": "` + webtest.ID(f.Units["MKT"]) + `", "credit_unit_id": "` + webtest.ID(f.Units["IT"]) +
				`", "month": "2026-13", "reason": "x", "amount": ` + eurOK + `}`), 422},
			{"unknown field", body(eurOK, `, "approve": true`), 400},
			{"reason too long", []byte(`{"debit_unit_id": "` + webtest.ID(f.Units["MKT"]) + `", "credit_unit_id": "` + webtest.ID(f.Units["IT"]) +
				`", "month": "2026-10", "reason": "` + strings.Repeat("r", 2001) + `", "amount": ` + eurOK + `}`), 422},
		} {
			res := fin.Call("POST", "/api/v1/adjustments", c.body)
			if res.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.want)
			}
		}
		for _, table := range []string{"adjustments", "journal_entries", "postings"} {
			if n := f.Count(table); n != 0 {
				t.Errorf("bad input wrote %d rows to %s", n, table)
			}
		}
		// Made good, the same body is accepted.
		if res := fin.Call("POST", "/api/v1/adjustments", body(eurOK, "")); res.Status != http.StatusCreated {
			t.Fatalf("good adjustment: %d %s", res.Status, res.Body)
		}
	})
}
