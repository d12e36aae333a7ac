package billing_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// commit stores a request of the consumer unit in the given status with
// an estimate, created at the given time.
func (b *books) commit(t *testing.T, status requests.Status, estimate int64, at time.Time) {
	t.Helper()
	r := &requests.Request{ServiceID: b.service, ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, RequesterID: b.user,
		CreatedBy: b.user, Title: "Laptops", Quantity: "1", FieldsJSON: "{}", Channel: "portal", Status: status,
		Version: 1, RateID: b.rate, PricingModel: "per_unit", UnitPriceMinor: estimate, EstimateMinor: estimate, Currency: "EUR",
		SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: at, UpdatedAt: at}
	if _, err := b.d.NewInsert().Model(r).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (b *books) setBudget(t *testing.T, month string, amount int64, warnPct int, hard bool) (*billing.Budget, error) {
	t.Helper()
	var out *billing.Budget
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		out, err = billing.SetBudget(ctx, tx, billing.Operator(b.user), billing.Budget{UnitID: b.consumer, Month: month, AmountMinor: amount,
			Currency: "EUR", WarnPct: warnPct, Hard: hard}, helsinki, time.Now().UTC())
		return err
	})
	return out, err
}

func (b *books) use(t *testing.T, month string) billing.Use {
	t.Helper()
	u, err := billing.BudgetUse(context.Background(), b.d, b.consumer, month, helsinki)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b *books) checkOrder(t *testing.T, estimate int64, at time.Time) (billing.OrderCheck, error) {
	t.Helper()
	var check billing.OrderCheck
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		check, err = billing.CheckOrder(ctx, tx, b.user, b.consumer, estimate, helsinki, at)
		return err
	})
	return check, err
}

func TestSetBudgetValidatesAndAudits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		for _, c := range []struct {
			name    string
			month   string
			amount  int64
			warnPct int
			field   string
		}{
			{"bad month", "2026-00", 1000, 80, "month"},
			{"negative amount", "2026-11", -1, 80, "amount"},
			{"warn_pct 0", "2026-11", 1000, 0, "warn_pct"},
			{"warn_pct 101", "2026-11", 1000, 101, "warn_pct"},
		} {
			if _, err := b.setBudget(t, c.month, c.amount, c.warnPct, false); !fault.Is(err, fault.KindInvalid) {
				t.Errorf("%s: %v", c.name, err)
			} else if fe, _ := fault.As(err); fe.Details["field"] != c.field {
				t.Errorf("%s: field %v", c.name, fe.Details["field"])
			}
		}
		if n := b.count(t, "SELECT COUNT(*) FROM budgets"); n != 0 {
			t.Fatalf("refused budgets left %d rows", n)
		}
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := billing.SetBudget(ctx, tx, billing.Operator(b.user), billing.Budget{UnitID: 999999, Month: "2026-11", AmountMinor: 1000,
				Currency: "EUR", WarnPct: 80}, helsinki, time.Now())
			return err
		}); !fault.Is(err, fault.KindNotFound) {
			t.Fatalf("budget of an unknown unit: %v", err)
		}
		first, err := b.setBudget(t, "2026-11", 500000, 80, false)
		if err != nil || first.AmountMinor != 500000 || first.Hard {
			t.Fatalf("first = %+v, %v", first, err)
		}
		if _, err := b.setBudget(t, "2026-11", 700000, 90, true); err != nil {
			t.Fatal(err)
		}
		got, err := billing.GetBudget(context.Background(), d, b.consumer, "2026-11")
		if err != nil || got.AmountMinor != 700000 || got.WarnPct != 90 || !got.Hard || got.UpdatedBy == nil || *got.UpdatedBy != b.user {
			t.Fatalf("stored = %+v, %v", got, err)
		}
		if _, err := billing.GetBudget(context.Background(), d, b.consumer, "2026-12"); !fault.Is(err, fault.KindNotFound) {
			t.Fatalf("a month without a budget: %v", err)
		}
		objectID := strconv.FormatInt(b.consumer, 10) + "/2026-11"
		if got := auditActions(t, d, "budget", objectID); strings.Join(got, ",") != "create,update" {
			t.Fatalf("audit = %v", got)
		}
	})
}

func TestBudgetUseCountsChargesLessCreditsAndCommitments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		nov := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		// Two charges in November (99999 + 33333), the first credited 33333.
		first := b.charge(t, b.request(t, "3"), "3", nov)[0]
		b.charge(t, b.request(t, "1"), "1", nov)
		b.charge(t, b.request(t, "1"), "1", time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)) // December's
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			dsp, err := billing.RaiseDispute(ctx, tx, billing.Operator(b.user), first.ID, "two, not three", nov)
			if err != nil {
				return err
			}
			_, err = billing.SettleDispute(ctx, tx, billing.Operator(b.user), billing.Settlement{DisputeID: dsp.ID, Action: "accept", CreditMinor: 33333, Note: "agreed"}, helsinki, nov)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// Commitments: waiting for approval, open, in progress and waiting
		// on the customer count; the rest do not.
		b.commit(t, requests.PendingApproval, 500, nov)
		b.commit(t, requests.Open, 1000, nov)
		b.commit(t, requests.InProgress, 2000, nov)
		b.commit(t, requests.WaitingOnCustomer, 4000, nov)
		for _, s := range []requests.Status{requests.Resolved, requests.Closed, requests.Rejected, requests.Cancelled} {
			b.commit(t, s, 100000, nov)
		}
		// 22:30 UTC on 31 October is already November in Helsinki; 21:30 on
		// 30 November is still November; 22:30 is December.
		b.commit(t, requests.Open, 8000, time.Date(2026, 10, 31, 22, 30, 0, 0, time.UTC))
		b.commit(t, requests.Open, 16000, time.Date(2026, 11, 30, 21, 30, 0, 0, time.UTC))
		b.commit(t, requests.Open, 32000, time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC))
		b.commit(t, requests.Open, 64000, time.Date(2026, 10, 31, 21, 30, 0, 0, time.UTC))

		use := b.use(t, "2026-11")
		if use.Posted != 99999+33333-33333 || use.Committed != 500+1000+2000+4000+8000+16000 || use.Pending != 500 ||
			use.Used() != use.Posted+use.Committed {
			t.Fatalf("November use = %+v", use)
		}
		if dec := b.use(t, "2026-12"); dec.Posted != 33333 || dec.Committed != 32000 {
			t.Fatalf("December use = %+v", dec)
		}
		// Another unit's spending is not this unit's.
		if other, err := billing.BudgetUse(context.Background(), d, b.provider, "2026-11", helsinki); err != nil || other.Used() != 0 {
			t.Fatalf("provider's use = %+v, %v", other, err)
		}
	})
}

func TestCheckOrderAgainstHardAndSoftBudgets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		// No budget: no verdict.
		if check, err := b.checkOrder(t, 1_000_000_000, now); err != nil || check.Budget != nil || check.Exceeds {
			t.Fatalf("without a budget: %+v, %v", check, err)
		}
		if _, err := b.setBudget(t, "2026-11", 10000, 80, true); err != nil {
			t.Fatal(err)
		}
		b.commit(t, requests.Open, 6000, now)
		// 6000 used: 4000 fits exactly, 4001 does not.
		if check, err := b.checkOrder(t, 4000, now); err != nil || check.Exceeds {
			t.Fatalf("an order that fits: %+v, %v", check, err)
		}
		_, err := b.checkOrder(t, 4001, now)
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.KindConflict || fe.Code != "budget_exceeded" ||
			!strings.Contains(fe.Message, "40.00 EUR of 100.00 EUR remaining") || !strings.Contains(fe.Message, "2026-11") {
			t.Fatalf("over a hard budget: %v", err)
		}
		// A free order takes nothing, so even a spent budget lets it through.
		b.commit(t, requests.Open, 5000, now)
		if _, err := b.checkOrder(t, 0, now); err != nil {
			t.Fatalf("a free order: %v", err)
		}
		// Soft: the same order is allowed but flagged for approval.
		if _, err := b.setBudget(t, "2026-11", 10000, 80, false); err != nil {
			t.Fatal(err)
		}
		check, err := b.checkOrder(t, 4001, now)
		if err != nil || !check.Exceeds || check.Use.Used() != 11000 ||
			check.Note(4001) != "the estimate 40.01 EUR would exceed the unit's budget for 2026-11: -10.00 EUR of 100.00 EUR remaining" {
			t.Fatalf("over a soft budget: %+v, %v (%s)", check, err, check.Note(4001))
		}
		// An order in December is weighed against December's budget, of
		// which there is none.
		if check, err := b.checkOrder(t, 4001, time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)); err != nil || check.Budget != nil {
			t.Fatalf("December order: %+v, %v", check, err)
		}
	})
}

func TestBudgetWarnsOncePerMonth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		objectID := strconv.FormatInt(b.consumer, 10) + "/2026-11"
		warnings := func() int {
			return b.count(t, "SELECT COUNT(*) FROM audit_events WHERE object_type = 'budget' AND object_id = ? AND action = 'warning'", objectID)
		}
		if _, err := b.setBudget(t, "2026-11", 10000, 80, false); err != nil {
			t.Fatal(err)
		}
		// 7999 is below the line.
		if _, err := b.checkOrder(t, 7999, now); err != nil || warnings() != 0 {
			t.Fatalf("below the line: %d warnings, %v", warnings(), err)
		}
		b.commit(t, requests.Open, 7999, now)
		// A refused (rolled back) order leaves no warning behind.
		if _, err := b.setBudget(t, "2026-11", 10000, 80, true); err != nil {
			t.Fatal(err)
		}
		if _, err := b.checkOrder(t, 5000, now); !fault.Is(err, fault.KindConflict) || warnings() != 0 {
			t.Fatalf("a refused order: %d warnings, %v", warnings(), err)
		}
		// 7999 + 1 reaches 80%: one warning, and the budget remembers it.
		if _, err := b.checkOrder(t, 1, now); err != nil || warnings() != 1 {
			t.Fatalf("at the line: %d warnings, %v", warnings(), err)
		}
		b.commit(t, requests.Open, 1, now)
		if _, err := b.checkOrder(t, 1000, now); err != nil || warnings() != 1 {
			t.Fatalf("past the line: %d warnings, %v", warnings(), err)
		}
		got, err := billing.GetBudget(context.Background(), d, b.consumer, "2026-11")
		if err != nil || got.WarnedAt == nil {
			t.Fatalf("budget after warning = %+v, %v", got, err)
		}
		// Changing only the hardness keeps the warning; raising the amount
		// re-arms it.
		if _, err := b.setBudget(t, "2026-11", 10000, 80, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.checkOrder(t, 1000, now); err != nil || warnings() != 1 {
			t.Fatalf("after a hardness change: %d warnings, %v", warnings(), err)
		}
		if _, err := b.setBudget(t, "2026-11", 20000, 80, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.checkOrder(t, 1000, now); err != nil || warnings() != 1 {
			t.Fatalf("below the raised line: %d warnings, %v", warnings(), err)
		}
		if _, err := b.checkOrder(t, 8000, now); err != nil || warnings() != 2 {
			t.Fatalf("at the raised line: %d warnings, %v", warnings(), err)
		}
		if (&billing.Budget{AmountMinor: 0, WarnPct: 80}).Warning(0) {
			t.Fatal("nothing used of nothing is a warning")
		}
	})
}

// TestPendingOrdersCountAsCommitments: an order waiting for approval is a
// claim on the budget. Against a hard budget of 1,500.00, one laptop of
// 1,450.00 waiting leaves room for no second one; once it is rejected
// (or cancelled) it commits nothing.
func TestPendingOrdersCountAsCommitments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		if _, err := b.setBudget(t, "2026-11", 150000, 80, true); err != nil {
			t.Fatal(err)
		}
		b.commit(t, requests.PendingApproval, 145000, now)
		if use := b.use(t, "2026-11"); use.Committed != 145000 || use.Pending != 145000 {
			t.Fatalf("use with one laptop waiting = %+v, want 1,450.00 committed, all of it pending", use)
		}
		_, err := b.checkOrder(t, 145000, now)
		if fe, ok := fault.As(err); !ok || fe.Code != "budget_exceeded" || !strings.Contains(fe.Message, "50.00 EUR of 1500.00 EUR remaining") {
			t.Fatalf("a second laptop against the hard budget: %v, want budget_exceeded with 50.00 of 1500.00 remaining", err)
		}
		if _, err := d.NewUpdate().Model((*requests.Request)(nil)).Set("status = ?", requests.Rejected).Where("consumer_unit_id = ?", b.consumer).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if check, err := b.checkOrder(t, 145000, now); err != nil || check.Exceeds {
			t.Fatalf("after the rejection: %+v, %v", check, err)
		}
	})
}

// TestAdjustmentsCountInBudgetUse: an adjustment that debits the unit uses
// its budget and one that credits it gives budget back, in the period the
// adjustment posts into; a hard budget then refuses an order the
// adjustments leave no room for.
func TestAdjustmentsCountInBudgetUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		debit := billing.Adjustment{DebitUnitID: b.consumer, CreditUnitID: b.provider, AmountMinor: 30000, Currency: "EUR",
			Month: "2026-11", Reason: "shared licences"}
		credit := billing.Adjustment{DebitUnitID: b.provider, CreditUnitID: b.consumer, AmountMinor: 10000, Currency: "EUR",
			Month: "2026-11", Reason: "refund of a licence"}
		october := debit
		october.Month = "2026-10"
		// October first: on books this new, the first month is the earliest posted.
		for _, a := range []billing.Adjustment{october, debit, credit} {
			if _, err := b.adjust(t, b.user, a, now); err != nil {
				t.Fatal(err)
			}
		}
		if use := b.use(t, "2026-11"); use.Posted != 20000 {
			t.Fatalf("November posted = %d, want 200.00 (300.00 debited, 100.00 credited)", use.Posted)
		}
		if use := b.use(t, "2026-10"); use.Posted != 30000 {
			t.Fatalf("October posted = %d, want 300.00", use.Posted)
		}
		if provider, err := billing.BudgetUse(context.Background(), d, b.provider, "2026-11", helsinki); err != nil || provider.Posted != -20000 {
			t.Fatalf("provider's November use = %+v, %v, want -200.00", provider, err)
		}
		if _, err := b.setBudget(t, "2026-11", 150000, 80, true); err != nil {
			t.Fatal(err)
		}
		if _, err := b.checkOrder(t, 130001, now); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("an order of 1,300.01 with 200.00 adjusted against 1,500.00: %v, want budget_exceeded", err)
		}
		if _, err := b.checkOrder(t, 130000, now); err != nil {
			t.Fatalf("an order of 1,300.00 that fits: %v", err)
		}
	})
}
