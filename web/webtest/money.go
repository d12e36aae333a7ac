package webtest

import (
	"context"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
)

// AdjustmentBody is an adjustment from MKT to IT.
func (f *Fixture) AdjustmentBody(amount any, reason string) map[string]any {
	return map[string]any{"debit_unit_id": ID(f.Units["MKT"]), "credit_unit_id": ID(f.Units["IT"]), "amount": amount,
		"month": "2026-10", "reason": reason}
}

// UnitBalance is the sum of the unit's postings.
func (f *Fixture) UnitBalance(unit string) int64 {
	f.T.Helper()
	var sum int64
	err := f.DB.NewRaw(`SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.unit_id = ?`,
		f.Units[unit]).Scan(context.Background(), &sum)
	if err != nil {
		f.T.Fatal(err)
	}
	return sum
}

// BudgetMonth is this month in the fixture organisation's zone, which is
// the month an order placed now is weighed against.
func BudgetMonth(t *testing.T) string {
	t.Helper()
	loc := helsinki
	return billing.MonthOf(time.Now(), loc)
}

// BudgetPath is the API path of a unit's budget for month.
func BudgetPath(unitID int64, month string) string {
	return "/api/v1/units/" + ID(unitID) + "/budgets/" + month
}

// BudgetWarnings counts the warning events of a unit's budget for month.
func (f *Fixture) BudgetWarnings(unitID int64, month string) int {
	f.T.Helper()
	n, err := f.DB.NewSelect().Table("audit_events").
		Where("object_type = 'budget' AND object_id = ? AND action = 'warning'", ID(unitID)+"/"+month).Count(context.Background())
	if err != nil {
		f.T.Fatal(err)
	}
	return int(n)
}

// ReportRange spans the month before to the month after today, so a request
// resolved now is inside it even across a month boundary.
func ReportRange() string {
	loc := helsinki
	now := time.Now().In(loc)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	return "from=" + first.AddDate(0, -1, 0).Format("2006-01") + "&to=" + first.AddDate(0, 1, 0).Format("2006-01")
}
