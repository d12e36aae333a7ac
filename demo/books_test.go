package demo

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// TestLoadKeepsTheBooks checks the demo's money: every resolved request is
// charged as the server would charge it, subscriptions are billed, past
// months are closed, last month is in review with disputes, budgets are
// set, the showback unit's charges are flagged, and the ledger verifies.
func TestLoadKeepsTheBooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cheap := auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}
		if err := Load(ctx, d, cheap); err != nil {
			t.Fatal(err)
		}
		checkBooks(t, d, time.Now())
	})
}

// TestLoadOnAnyDay loads the demo as of awkward moments (a month's first
// minutes, the end of February, a daylight-saving change, New Year) and
// checks its books as of then.
func TestLoadOnAnyDay(t *testing.T) {
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{
		time.Date(2026, 12, 1, 0, 20, 0, 0, loc),
		time.Date(2027, 2, 28, 23, 50, 0, 0, loc),
		time.Date(2026, 10, 25, 3, 30, 0, 0, loc),
		time.Date(2027, 1, 1, 0, 5, 0, 0, loc),
	} {
		t.Run(now.Format("2006-01-02T15:04"), func(t *testing.T) {
			t.Parallel()
			d := dbtest.Open(t, db.SQLite)
			if err := load(context.Background(), d, auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}, now.UTC()); err != nil {
				t.Fatal(err)
			}
			checkBooks(t, d, now)
		})
	}
}

// checkBooks checks the books of a demo loaded as of now.
func checkBooks(t *testing.T, d *db.DB, now time.Time) {
	t.Helper()
	checkFulfilmentCharges(t, d)
	checkSubscriptions(t, d)
	checkPeriodsAndDisputes(t, d, now)
	checkBudgets(t, d, now)
	checkShowback(t, d)
	checkWorkAndFeedback(t, d)
	checkStatementsReconcile(t, d)
	if breaches, err := billing.Verify(context.Background(), d); err != nil || len(breaches) != 0 {
		t.Fatalf("verify: %v, %v", breaches, err)
	}
}

// checkFulfilmentCharges recomputes what each resolved request costs, from
// its quote or its billable time at the rate of each day, and compares it
// with the charges posted for it.
func checkFulfilmentCharges(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	var reqs []struct {
		ID             int64  `bun:"id"`
		ServiceID      int64  `bun:"service_id"`
		PricingModel   string `bun:"pricing_model"`
		Quantity       string `bun:"quantity"`
		UnitPriceMinor int64  `bun:"unit_price_minor"`
	}
	if err := d.NewSelect().Table("requests").Column("id", "service_id", "pricing_model", "quantity", "unit_price_minor").
		Where("status IN ('resolved', 'closed') AND pricing_model <> 'monthly'").OrderExpr("id").Scan(ctx, &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) < 30 {
		t.Fatalf("%d resolved requests with a fulfilment charge, want 30 or more", len(reqs))
	}
	var want int64
	hourly := 0
	for _, r := range reqs {
		var expected int64
		if r.PricingModel == "hourly" {
			hourly++
			var entries []struct {
				Minutes  int64  `bun:"minutes"`
				WorkDate string `bun:"work_date"`
			}
			if err := d.NewSelect().Table("time_entries").Column("minutes", "work_date").
				Where("request_id = ? AND billable", r.ID).Scan(ctx, &entries); err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				rate, err := catalog.RateOn(ctx, d, r.ServiceID, e.WorkDate)
				if err != nil {
					t.Fatalf("request %d: no rate on %s: %v", r.ID, e.WorkDate, err)
				}
				if e.Minutes*rate.PriceMinor%60 != 0 {
					t.Fatalf("request %d: %d minutes at %d do not price exactly", r.ID, e.Minutes, rate.PriceMinor)
				}
				expected += e.Minutes * rate.PriceMinor / 60
			}
		} else {
			q, err := strconv.ParseInt(r.Quantity, 10, 64)
			if err != nil {
				t.Fatalf("request %d quantity %q: %v", r.ID, r.Quantity, err)
			}
			expected = q * r.UnitPriceMinor
		}
		if expected <= 0 {
			t.Errorf("request %d (%s) costs %d", r.ID, r.PricingModel, expected)
		}
		var charged int64
		if err := d.NewSelect().Table("charges").ColumnExpr("COALESCE(SUM(amount_minor), 0)").
			Where("request_id = ? AND source_key LIKE 'request:%'", r.ID).Scan(ctx, &charged); err != nil {
			t.Fatal(err)
		}
		if charged != expected {
			t.Errorf("request %d (%s) charged %d, want %d", r.ID, r.PricingModel, charged, expected)
		}
		want += expected
	}
	if hourly == 0 {
		t.Error("no hourly request was resolved")
	}
	var total int64
	if err := d.NewSelect().Table("charges").ColumnExpr("COALESCE(SUM(amount_minor), 0)").
		Where("source_key LIKE 'request:%'").Scan(ctx, &total); err != nil {
		t.Fatal(err)
	}
	if total != want {
		t.Errorf("fulfilment charges sum to %d, resolved requests to %d", total, want)
	}
	var stray int
	if err := d.NewSelect().Table("charges").ColumnExpr("COUNT(*)").
		Where("request_id IN (SELECT id FROM requests WHERE status NOT IN ('resolved', 'closed'))").Scan(ctx, &stray); err != nil || stray != 0 {
		t.Errorf("%d charges on unresolved requests (%v)", stray, err)
	}
}

func checkSubscriptions(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	var resolved, subs, charged int
	if err := d.NewSelect().Table("requests").ColumnExpr("COUNT(*)").
		Where("status IN ('resolved', 'closed') AND pricing_model = 'monthly'").Scan(ctx, &resolved); err != nil {
		t.Fatal(err)
	}
	if err := d.NewSelect().Table("subscriptions").ColumnExpr("COUNT(*)").Scan(ctx, &subs); err != nil {
		t.Fatal(err)
	}
	if err := d.NewSelect().Table("charges").ColumnExpr("COUNT(*)").Where("source_key LIKE 'subscription:%' AND amount_minor > 0").
		Scan(ctx, &charged); err != nil {
		t.Fatal(err)
	}
	if resolved == 0 || subs != resolved || charged == 0 {
		t.Errorf("%d monthly requests resolved, %d subscriptions, %d subscription charges", resolved, subs, charged)
	}
}

func checkPeriodsAndDisputes(t *testing.T, d *db.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	current := billing.MonthOf(now, loc)
	last := billing.MonthOf(time.Date(now.In(loc).Year(), now.In(loc).Month(), 1, 12, 0, 0, 0, loc).AddDate(0, -1, 0), loc)
	periods, err := billing.ListPeriods(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string][]string{}
	for _, p := range periods {
		byStatus[p.Status] = append(byStatus[p.Status], p.Month)
		if p.Status == billing.PeriodClosed && (p.ClosedAt == nil || p.Month >= last || p.ClosedAt.After(now)) {
			t.Errorf("period %s closed at %v", p.Month, p.ClosedAt)
		}
	}
	if len(byStatus[billing.PeriodClosed]) < 2 || len(byStatus[billing.PeriodReview]) != 1 || byStatus[billing.PeriodReview][0] != last {
		t.Fatalf("periods by status %v; want months before %s closed and %s in review", byStatus, last, last)
	}
	if p, err := billing.GetPeriod(ctx, d, current); err != nil || p.Status != billing.PeriodOpen {
		t.Fatalf("current month %s = %+v, %v", current, p, err)
	}
	var disputes []struct {
		Status      string `bun:"status"`
		CreditMinor int64  `bun:"credit_minor"`
		AmountMinor int64  `bun:"amount_minor"`
		Period      string `bun:"period"`
		RaisedBy    string `bun:"raised_by"`
		ResolvedBy  string `bun:"resolved_by"`
	}
	if err := d.NewSelect().TableExpr("disputes AS d").Join("JOIN charges AS c ON c.id = d.charge_id").
		Join("JOIN users AS r ON r.id = d.raised_by").Join("LEFT JOIN users AS f ON f.id = d.resolved_by").
		ColumnExpr("d.status, d.credit_minor, c.amount_minor, c.period, r.email AS raised_by, COALESCE(f.email, '') AS resolved_by").
		Scan(ctx, &disputes); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, x := range disputes {
		count[x.Status]++
		if x.Period != last || x.RaisedBy != "maria.jarvinen@tiski.example" {
			t.Errorf("dispute %+v: want one raised by the Marketing manager on a charge of %s", x, last)
		}
		switch x.Status {
		case billing.DisputeAccepted:
			if x.CreditMinor <= 0 || x.CreditMinor >= x.AmountMinor {
				t.Errorf("accepted dispute credits %d of %d; want a partial credit", x.CreditMinor, x.AmountMinor)
			}
		case billing.DisputeRejected:
			if x.CreditMinor != 0 {
				t.Errorf("rejected dispute credits %d", x.CreditMinor)
			}
		}
		if x.Status != billing.DisputeOpen && x.ResolvedBy != "sanna.korhonen@tiski.example" {
			t.Errorf("dispute %+v settled by %q, want finance", x, x.ResolvedBy)
		}
	}
	if count[billing.DisputeOpen] < 2 || count[billing.DisputeAccepted] != 1 || count[billing.DisputeRejected] != 1 {
		t.Errorf("disputes by status %v; want 2–3 open, 1 accepted, 1 rejected", count)
	}
	// The review month cannot be closed while its disputes are open.
	err = d.InTx(ctx, func(tx bun.Tx) error {
		_, err := billing.MovePeriod(ctx, tx, billing.Operator(0), last, "close", loc, now)
		return err
	})
	if fe, ok := fault.As(err); !ok || fe.Code != "open_disputes" {
		t.Errorf("closing %s with open disputes: %v", last, err)
	}
}

func checkBudgets(t *testing.T, d *db.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	loc, _ := time.LoadLocation(TimeZone)
	var budgets []billing.Budget
	if err := d.NewSelect().Model(&budgets).OrderExpr("unit_id, month").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(budgets) < 7*4 {
		t.Fatalf("%d budgets; want the main consumer units' for every month of history", len(budgets))
	}
	current := billing.MonthOf(now, loc)
	warned, over, thisMonth := 0, 0, 0
	for _, b := range budgets {
		if b.Month == current {
			thisMonth++
		}
		use, err := billing.BudgetUse(ctx, d, b.UnitID, b.Month, loc)
		if err != nil {
			t.Fatal(err)
		}
		if b.Warning(use.Used()) {
			warned++
		}
		if use.Used() > b.AmountMinor {
			over++
		}
	}
	if thisMonth < 7 || warned < 2 || over < 1 {
		t.Errorf("%d budgets this month, %d at the warning line, %d over; want 7, 2 or more, 1 or more", thisMonth, warned, over)
	}
}

func checkShowback(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	legal, err := units.GetUnitByCode(ctx, d, "CC-1600")
	if err != nil || legal.ChargebackMode != units.ModeShowback {
		t.Fatalf("Legal = %+v, %v", legal, err)
	}
	var rows []struct {
		Showback bool `bun:"showback"`
		N        int  `bun:"n"`
	}
	if err := d.NewSelect().Table("charges").ColumnExpr("showback, COUNT(*) AS n").Where("consumer_unit_id = ?", legal.ID).
		Group("showback").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !rows[0].Showback || rows[0].N == 0 {
		t.Errorf("Legal's charges by showback flag: %+v; want all flagged showback", rows)
	}
	var flagged int
	if err := d.NewSelect().Table("charges").ColumnExpr("COUNT(*)").Where("consumer_unit_id <> ? AND showback", legal.ID).
		Scan(ctx, &flagged); err != nil || flagged != 0 {
		t.Errorf("%d chargeback units' charges flagged showback (%v)", flagged, err)
	}
}

func checkWorkAndFeedback(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	var billable, rated, resolved int
	if err := d.NewSelect().Table("time_entries").ColumnExpr("COUNT(*)").Where("billable").Scan(ctx, &billable); err != nil {
		t.Fatal(err)
	}
	if err := d.NewSelect().Table("request_feedback").ColumnExpr("COUNT(*)").Scan(ctx, &rated); err != nil {
		t.Fatal(err)
	}
	if err := d.NewSelect().Table("requests").ColumnExpr("COUNT(*)").Where("status IN ('resolved', 'closed')").Scan(ctx, &resolved); err != nil {
		t.Fatal(err)
	}
	if billable == 0 || rated < resolved/3 || rated >= resolved {
		t.Errorf("%d billable time entries, %d of %d resolved requests rated", billable, rated, resolved)
	}
}

// checkStatementsReconcile checks, for every unit and month of the demo,
// that the unit's statement (charges, credits and adjustments) less its
// recovery view is what the month moved on its cost center, in the ledger
// and in the GL journal; and that the demo has adjustments and credits on
// statements at all, so the check is not vacuous.
func checkStatementsReconcile(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	var months []string
	if err := d.NewRaw("SELECT DISTINCT period FROM journal_entries ORDER BY period").Scan(ctx, &months); err != nil {
		t.Fatal(err)
	}
	all, err := units.ListUnits(ctx, d, units.UnitFilter{IncludeArchived: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var adjusted, credited int64
	for _, month := range months {
		for _, u := range all {
			r, err := billing.Reconcile(ctx, d, u.ID, month, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			if !r.Agrees() {
				t.Errorf("%s in %s: statement and recovery do not explain the books: %+v", u.Code, month, r)
			}
			adjusted += max(r.Statement.AdjustedMinor, -r.Statement.AdjustedMinor)
			credited += r.Statement.CreditedMinor
		}
	}
	if adjusted == 0 || credited == 0 {
		t.Errorf("the demo's statements show adjustments of %d and credits of %d; want some of each", adjusted, credited)
	}
}
