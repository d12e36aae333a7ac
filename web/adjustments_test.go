package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web"
)

// adjustmentLimitMinor is the approval limit the adjustment tests' server
// runs with: 1 000.00 EUR.
const adjustmentLimitMinor = 100000

// newAdjustmentDesk is the harness organisation with a second finance user,
// "finance2", served with adjustmentLimitMinor as the approval limit.
func newAdjustmentDesk(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := newFixture(t, d)
	ctx := context.Background()
	hash, err := auth.HashPassword(testPassword, cheapHash)
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "finance2@example.org", Name: "finance2", PasswordHash: hash})
		if err != nil {
			return err
		}
		f.users["finance2"] = u.ID
		_, err = units.GrantOrgRole(ctx, tx, 0, u.ID, "finance")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(t, d, web.Config{AdjustmentApprovalLimitMinor: adjustmentLimitMinor}).Handler())
	t.Cleanup(srv.Close)
	f.srv = srv
	return f
}

func (f *fixture) adjustmentBody(amount any, reason string) map[string]any {
	return map[string]any{"debit_unit_id": id(f.units["MKT"]), "credit_unit_id": id(f.units["IT"]), "amount": amount,
		"month": "2026-10", "reason": reason}
}

// unitBalance is the sum of the unit's postings.
func (f *fixture) unitBalance(unit string) int64 {
	f.t.Helper()
	var sum int64
	err := f.d.NewRaw(`SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.unit_id = ?`,
		f.units[unit]).Scan(context.Background(), &sum)
	if err != nil {
		f.t.Fatal(err)
	}
	return sum
}

func TestAdjustmentsMakerCheckerOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdjustmentDesk(t, d)
		as := map[string]*client{}
		for _, p := range []string{"finance", "finance2", "auditor", "admin", "groupmgr", "itmgr", "mktmember", "nobody"} {
			as[p] = f.login(p)
		}

		// Up to the limit posts at once.
		small := as["finance"].call("POST", "/api/v1/adjustments", f.adjustmentBody(eur(adjustmentLimitMinor), "shared licence recharge"))
		if small.status != http.StatusCreated || small.str("status") != "posted" || small.str("entry_id") == "" ||
			small.str("created_by") != id(f.users["finance"]) || amountMinor(small, "amount") != adjustmentLimitMinor ||
			small.str("debit_unit_id") != id(f.units["MKT"]) || small.str("month") != "2026-10" {
			t.Fatalf("small adjustment: %d %s", small.status, small.body)
		}
		// Above it waits for a second finance user.
		big := as["finance"].call("POST", "/api/v1/adjustments", f.adjustmentBody(eur(adjustmentLimitMinor+1), "year-end true-up"))
		if big.status != http.StatusCreated || big.str("status") != "pending" || big.json["entry_id"] != nil {
			t.Fatalf("big adjustment: %d %s", big.status, big.body)
		}
		if f.count("journal_entries") != 1 || f.unitBalance("MKT") != adjustmentLimitMinor {
			t.Fatalf("a pending adjustment moved money: %d entries, MKT %d", f.count("journal_entries"), f.unitBalance("MKT"))
		}
		path := "/api/v1/adjustments/" + big.str("id") + "/actions"
		res := as["finance"].call("POST", path, map[string]any{"action": "approve"})
		if res.status != http.StatusForbidden || res.errorCode() != "self_approval" {
			t.Fatalf("self-approval: %d %s", res.status, res.body)
		}
		// The auditor sees adjustments and is forbidden; to anyone else
		// they are not there (billing.Viewer).
		for who, want := range map[string]int{"auditor": http.StatusForbidden, "admin": http.StatusNotFound,
			"groupmgr": http.StatusNotFound, "itmgr": http.StatusNotFound, "mktmember": http.StatusNotFound, "nobody": http.StatusNotFound} {
			if res := as[who].call("POST", path, map[string]any{"action": "approve"}); res.status != want {
				t.Errorf("%s approving: %d %s, want %d", who, res.status, res.body, want)
			}
			if res := as[who].call("POST", "/api/v1/adjustments", f.adjustmentBody(eur(100), "mine")); res.status != want {
				t.Errorf("%s creating: %d %s, want %d", who, res.status, res.body, want)
			}
		}
		if f.count("journal_entries") != 1 || f.count("adjustments") != 2 {
			t.Fatalf("refusals wrote: %d entries, %d adjustments", f.count("journal_entries"), f.count("adjustments"))
		}

		// The checker approves, twenty times at once: it posts once.
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := as["finance2"].call("POST", path, map[string]any{"action": "approve", "note": "matches the invoice"})
				mu.Lock()
				codes[res.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[http.StatusOK] != 1 || codes[http.StatusConflict] != 19 {
			t.Fatalf("concurrent approvals: %v", codes)
		}
		if f.count("journal_entries") != 2 || f.unitBalance("MKT") != 2*adjustmentLimitMinor+1 || f.unitBalance("IT") != -(2*adjustmentLimitMinor+1) {
			t.Fatalf("after approval: %d entries, MKT %d, IT %d", f.count("journal_entries"), f.unitBalance("MKT"), f.unitBalance("IT"))
		}
		res = as["finance2"].call("POST", path, map[string]any{"action": "reject", "note": "changed my mind"})
		if res.status != http.StatusConflict || res.errorCode() != "adjustment_decided" {
			t.Fatalf("deciding twice: %d %s", res.status, res.body)
		}

		// A rejection records the decision and posts nothing.
		third := as["finance2"].call("POST", "/api/v1/adjustments", f.adjustmentBody(eur(500000), "duplicate invoice"))
		rpath := "/api/v1/adjustments/" + third.str("id") + "/actions"
		if res := as["finance"].call("POST", rpath, map[string]any{"action": "reject"}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("reject without a note: %d %s", res.status, res.body)
		}
		if res := as["finance"].call("POST", rpath, map[string]any{"action": "void", "note": "x"}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown action: %d %s", res.status, res.body)
		}
		res = as["finance"].call("POST", rpath, map[string]any{"action": "reject", "note": "already booked in September"})
		if res.status != http.StatusOK || res.str("status") != "rejected" || res.str("decided_by") != id(f.users["finance"]) || res.json["entry_id"] != nil {
			t.Fatalf("reject: %d %s", res.status, res.body)
		}
		if f.count("journal_entries") != 2 {
			t.Fatal("a rejection posted")
		}
		if res := as["finance"].call("POST", "/api/v1/adjustments/999999/actions", map[string]any{"action": "approve"}); res.status != http.StatusNotFound {
			t.Fatalf("unknown adjustment: %d %s", res.status, res.body)
		}

		// Finance and auditors list; nobody else does.
		for status, want := range map[string]int{"": 3, "posted": 2, "pending": 0, "rejected": 1} {
			res := as["auditor"].call("GET", "/api/v1/adjustments?status="+status, nil)
			if res.status != http.StatusOK || len(res.items()) != want {
				t.Errorf("auditor's %q list: %d %s", status, res.status, res.body)
			}
		}
		if res := as["finance"].call("GET", "/api/v1/adjustments?limit=2", nil); res.status != http.StatusOK || len(res.items()) != 2 || res.str("next_cursor") == "" {
			t.Errorf("first page: %d %s", res.status, res.body)
		}
		if res := as["finance"].call("GET", "/api/v1/adjustments?status=approved", nil); res.status != http.StatusUnprocessableEntity {
			t.Errorf("bad status filter: %d %s", res.status, res.body)
		}
		for _, who := range []string{"admin", "groupmgr", "itmgr", "mktmember", "nobody"} {
			if res := as[who].call("GET", "/api/v1/adjustments", nil); res.status != http.StatusForbidden {
				t.Errorf("%s listing: %d %s", who, res.status, res.body)
			}
		}
		if breaches, err := billing.Verify(context.Background(), d); err != nil || len(breaches) != 0 {
			t.Fatalf("verify: %v %v", breaches, err)
		}
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
		fin := f.login("finance")
		body := func(amount string, rest string) []byte {
			return []byte(`{"debit_unit_id": "` + id(f.units["MKT"]) + `", "credit_unit_id": "` + id(f.units["IT"]) +
				`", "month": "2026-10", "reason": "x", "amount": ` + amount + rest + `}`)
		}
		for _, c := range badMoneyCases {
			res := fin.call("POST", "/api/v1/adjustments", body(c.json, ""))
			if (res.status != http.StatusBadRequest && res.status != http.StatusUnprocessableEntity) || res.errorCode() == "" {
				t.Errorf("%s: %d %s", c.name, res.status, res.body)
			}
		}
		eurOK := `{"amount_minor": 1000, "currency": "EUR"}`
		for _, c := range []struct {
			name string
			body []byte
			want int
		}{
			{"zero", body(`{"amount_minor": 0, "currency": "EUR"}`, ""), 422},
			{"same unit on both sides", []byte(`{"debit_unit_id": "` + id(f.units["IT"]) + `", "credit_unit_id": "` + id(f.units["IT"]) +
				`", "month": "2026-10", "reason": "x", "amount": ` + eurOK + `}`), 422},
			{"unknown unit", []byte(`{"debit_unit_id": "999999", "credit_unit_id": "` + id(f.units["IT"]) +
				`", "month": "2026-10", "reason": "x", "amount": ` + eurOK + `}`), 422},
			{"unit id as a number", []byte(`{"debit_unit_id": 1, "credit_unit_id": "2", "month": "2026-10", "reason": "x", "amount": ` + eurOK + `}`), 400},
			{"no reason", []byte(`{"debit_unit_id": "` + id(f.units["MKT"]) + `", "credit_unit_id": "` + id(f.units["IT"]) +
				`", "month": "2026-10", "reason": "  ", "amount": ` + eurOK + `}`), 422},
			{"month 13", []byte(`{"debit_unit_id": "` + id(f.units["MKT"]) + `", "credit_unit_id": "` + id(f.units["IT"]) +
				`", "month": "2026-13", "reason": "x", "amount": ` + eurOK + `}`), 422},
			{"unknown field", body(eurOK, `, "approve": true`), 400},
			{"reason too long", []byte(`{"debit_unit_id": "` + id(f.units["MKT"]) + `", "credit_unit_id": "` + id(f.units["IT"]) +
				`", "month": "2026-10", "reason": "` + strings.Repeat("r", 2001) + `", "amount": ` + eurOK + `}`), 422},
		} {
			res := fin.call("POST", "/api/v1/adjustments", c.body)
			if res.status != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.want)
			}
		}
		for _, table := range []string{"adjustments", "journal_entries", "postings"} {
			if n := f.count(table); n != 0 {
				t.Errorf("bad input wrote %d rows to %s", n, table)
			}
		}
		// Made good, the same body is accepted.
		if res := fin.call("POST", "/api/v1/adjustments", body(eurOK, "")); res.status != http.StatusCreated {
			t.Fatalf("good adjustment: %d %s", res.status, res.body)
		}
	})
}
