package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestPortalBudgetShowsPendingApprovalApart: an order waiting for approval
// lowers what is left of the budget; the manager's budget page says so in a
// figure of its own, apart from posted use and approved commitments, and
// the three add up to the spend shown.
func TestPortalBudgetShowsPendingApprovalApart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		month, mkt := webtest.BudgetMonth(t), k.Units["MKT"]
		if res := k.As["finance"].Call("PUT", webtest.BudgetPath(mkt, month), map[string]any{"amount": webtest.EUR(20000), "hard": false}); res.Status != http.StatusOK {
			t.Fatalf("set budget: %d %s", res.Status, res.Body)
		}
		if res := k.Order("mktmember", "MKT", "NEVER", "Open order"); res.Str("status") != "open" { // 50.00, no approval
			t.Fatalf("open order: %s", res.Body)
		}
		if res := k.Order("mktmember", "MKT", "ALWAYS", "Waiting order"); res.Str("status") != "pending_approval" { // 100.00, waits
			t.Fatalf("pending order: %s", res.Body)
		}
		id := webtest.ID(mkt)
		p := k.SignIn("mktmgr").Get("/budgets?month=" + month + "&unit_id=" + id)
		mustStatus(t, "budgets", p, http.StatusOK)
		for _, want := range []string{
			`id="budget-approved-` + id + `">€50.00<`,
			`id="budget-pending-` + id + `">€100.00<`,
			"€150.00 used of €200.00; €50.00 left.",
			"Waiting for approval",
			`class="bar bar-pending"`,
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the budget page lacks %q", want)
			}
		}
	})
}
