package billing_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

const adjustmentLimit = 100000

func (b *books) adjust(t *testing.T, actor int64, a billing.Adjustment, now time.Time) (*billing.Adjustment, error) {
	t.Helper()
	var out *billing.Adjustment
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		out, err = billing.CreateAdjustment(ctx, tx, billing.Operator(actor), a, adjustmentLimit, helsinki, now)
		return err
	})
	return out, err
}

func (b *books) decide(t *testing.T, actor, id int64, action, note string) (*billing.Adjustment, error) {
	t.Helper()
	var out *billing.Adjustment
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		out, err = billing.DecideAdjustment(ctx, tx, billing.Operator(actor), id, action, note, time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC))
		return err
	})
	return out, err
}

// credit moves amount from the consumer (debited) to the provider (credited).
func (b *books) credit(amount int64) billing.Adjustment {
	return billing.Adjustment{DebitUnitID: b.consumer, CreditUnitID: b.provider, AmountMinor: amount, Currency: "EUR",
		Month: "2026-10", Reason: "recharge of shared licences"}
}

func (b *books) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := b.d.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *books) assertClean(t *testing.T) {
	t.Helper()
	if breaches, err := billing.Verify(context.Background(), b.d); err != nil || len(breaches) != 0 {
		t.Fatalf("verify: %v %v", breaches, err)
	}
}

func auditActions(t *testing.T, d *db.DB, objectType, objectID string) []string {
	t.Helper()
	events, err := audit.ListFor(context.Background(), d, objectType, objectID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	return actions
}

func TestAdjustmentUpToTheLimitPostsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC)
		a, err := b.adjust(t, b.user, b.credit(adjustmentLimit), now)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != billing.AdjustmentPosted || a.EntryID == nil || a.DecidedBy != nil || a.CreatedBy != b.user {
			t.Fatalf("adjustment = %+v", a)
		}
		if b.balance(t, b.consumer) != adjustmentLimit || b.balance(t, b.provider) != -adjustmentLimit {
			t.Fatalf("balances %d / %d", b.balance(t, b.consumer), b.balance(t, b.provider))
		}
		var e billing.JournalEntry
		if err := d.NewSelect().Model(&e).Where("id = ?", *a.EntryID).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e.IdempotencyKey != "adjustment:"+strconv.FormatInt(a.ID, 10) || e.Kind != "adjustment" || e.Period != "2026-10" ||
			e.EntryDate != "2026-10-15" || !strings.Contains(e.Memo, "recharge of shared licences") {
			t.Fatalf("entry = %+v", e)
		}
		stored, err := billing.GetAdjustment(context.Background(), d, a.ID)
		if err != nil || stored.Status != billing.AdjustmentPosted || stored.EntryID == nil || *stored.EntryID != e.ID {
			t.Fatalf("stored = %+v, %v", stored, err)
		}
		if got := auditActions(t, d, "adjustment", strconv.FormatInt(a.ID, 10)); strings.Join(got, ",") != "create" {
			t.Fatalf("audit = %v", got)
		}
		b.assertClean(t)
	})
}

func TestAdjustmentAboveTheLimitWaitsForASecondFinanceUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		checker := b.People.Finance2
		a, err := b.adjust(t, b.user, b.credit(adjustmentLimit+1), time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != billing.AdjustmentPending || a.EntryID != nil {
			t.Fatalf("adjustment = %+v", a)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM journal_entries"); n != 0 {
			t.Fatalf("a pending adjustment posted %d entries", n)
		}

		// The maker may not approve their own adjustment.
		_, err = b.decide(t, b.user, a.ID, "approve", "")
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindForbidden || fe.Code != "self_approval" {
			t.Fatalf("self-approval: %v", err)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM journal_entries"); n != 0 || b.balance(t, b.consumer) != 0 {
			t.Fatalf("self-approval posted %d entries", n)
		}
		if _, err := b.decide(t, checker, a.ID, "bless", ""); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("unknown action: %v", err)
		}

		// Fifty approvals by the checker at once: one posts.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.decide(t, checker, a.ID, "approve", "checked against the licence invoice")
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else if fe, ok := fault.As(err); !ok || fe.Code != "adjustment_decided" {
					t.Errorf("concurrent approval: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d approvals succeeded", wins)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM journal_entries WHERE idempotency_key = ?", "adjustment:"+strconv.FormatInt(a.ID, 10)); n != 1 {
			t.Fatalf("entries = %d", n)
		}
		if b.balance(t, b.consumer) != adjustmentLimit+1 || b.balance(t, b.provider) != -(adjustmentLimit+1) {
			t.Fatalf("balances %d / %d", b.balance(t, b.consumer), b.balance(t, b.provider))
		}
		posted, err := billing.GetAdjustment(context.Background(), d, a.ID)
		if err != nil || posted.Status != billing.AdjustmentPosted || posted.DecidedBy == nil || *posted.DecidedBy != checker ||
			posted.DecidedAt == nil || posted.EntryID == nil {
			t.Fatalf("approved = %+v, %v", posted, err)
		}
		if _, err := b.decide(t, checker, a.ID, "reject", "too late"); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("rejecting a posted adjustment: %v", err)
		}
		if got := auditActions(t, d, "adjustment", strconv.FormatInt(a.ID, 10)); strings.Join(got, ",") != "create,approve" {
			t.Fatalf("audit = %v", got)
		}
		b.assertClean(t)
	})
}

func TestAdjustmentRejectPostsNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		checker := b.People.Finance2
		now := time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC)
		a, err := b.adjust(t, b.user, b.credit(250000), now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.decide(t, checker, a.ID, "reject", "  "); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("reject without a reason: %v", err)
		}
		rejected, err := b.decide(t, checker, a.ID, "reject", "belongs to next quarter")
		if err != nil || rejected.Status != billing.AdjustmentRejected || rejected.EntryID != nil || *rejected.DecidedBy != checker {
			t.Fatalf("rejected = %+v, %v", rejected, err)
		}
		if _, err := b.decide(t, checker, a.ID, "approve", ""); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("approving a rejected adjustment: %v", err)
		}
		// The maker may withdraw a pending adjustment of their own.
		second, err := b.adjust(t, b.user, b.credit(250000), now)
		if err != nil {
			t.Fatal(err)
		}
		if withdrawn, err := b.decide(t, b.user, second.ID, "reject", "typo in the amount"); err != nil || withdrawn.Status != billing.AdjustmentRejected {
			t.Fatalf("withdrawn = %+v, %v", withdrawn, err)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM journal_entries"); n != 0 || b.balance(t, b.consumer) != 0 {
			t.Fatalf("rejections posted %d entries", n)
		}
		if got := auditActions(t, d, "adjustment", strconv.FormatInt(a.ID, 10)); strings.Join(got, ",") != "create,reject" {
			t.Fatalf("audit = %v", got)
		}
		if _, err := b.decide(t, checker, 999999, "approve", ""); !fault.Is(err, fault.KindNotFound) {
			t.Fatalf("unknown adjustment: %v", err)
		}
		b.assertClean(t)
	})
}

func TestAdjustmentRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		var archived int64
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: "OLD", Name: "Old"})
			if err != nil {
				return err
			}
			yes := true
			archived = u.ID
			_, err = units.UpdateUnit(ctx, d, tx, 0, u.ID, units.UnitChange{Archived: &yes})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC)
		cases := []struct {
			name  string
			edit  func(a *billing.Adjustment)
			field string
		}{
			{"same unit twice", func(a *billing.Adjustment) { a.CreditUnitID = a.DebitUnitID }, "credit_unit_id"},
			{"zero amount", func(a *billing.Adjustment) { a.AmountMinor = 0 }, "amount"},
			{"negative amount", func(a *billing.Adjustment) { a.AmountMinor = -5 }, "amount"},
			{"no reason", func(a *billing.Adjustment) { a.Reason = "   " }, "reason"},
			{"reason too long", func(a *billing.Adjustment) { a.Reason = strings.Repeat("x", 2001) }, "reason"},
			{"control character", func(a *billing.Adjustment) { a.Reason = "a\x00b" }, "reason"},
			{"bad month", func(a *billing.Adjustment) { a.Month = "2026-13" }, "month"},
			{"no month", func(a *billing.Adjustment) { a.Month = "" }, "month"},
			{"unknown currency", func(a *billing.Adjustment) { a.Currency = "XYZ" }, ""},
			{"unknown debit unit", func(a *billing.Adjustment) { a.DebitUnitID = 999999 }, "debit_unit_id"},
			{"archived credit unit", func(a *billing.Adjustment) { a.CreditUnitID = archived }, "credit_unit_id"},
		}
		for _, c := range cases {
			a := b.credit(500)
			c.edit(&a)
			_, err := b.adjust(t, b.user, a, now)
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.KindInvalid || (c.field != "" && fe.Details["field"] != c.field) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		if n := b.count(t, "SELECT COUNT(*) FROM adjustments"); n != 0 {
			t.Fatalf("refused adjustments left %d rows", n)
		}
		if n := b.count(t, "SELECT COUNT(*) FROM journal_entries"); n != 0 {
			t.Fatalf("refused adjustments posted %d entries", n)
		}
		// A maximum reason is fine.
		a := b.credit(500)
		a.Reason = strings.Repeat("ä", 2000)
		if _, err := b.adjust(t, b.user, a, now); err != nil {
			t.Fatalf("2000-character reason: %v", err)
		}
	})
}

func TestAdjustmentIntoAClosedMonthPostsLate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		checker := b.People.Finance2
		now := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
		for _, action := range []string{"review", "close"} {
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), "2026-10", action, helsinki, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		pending, err := b.adjust(t, b.user, b.credit(adjustmentLimit*3), now)
		if err != nil {
			t.Fatal(err)
		}
		approved, err := b.decide(t, checker, pending.ID, "approve", "")
		if err != nil {
			t.Fatal(err)
		}
		var e billing.JournalEntry
		if err := d.NewSelect().Model(&e).Where("id = ?", *approved.EntryID).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e.Period != "2026-11" || e.LateFrom == nil || *e.LateFrom != "2026-10" || e.CreatedBy == nil || *e.CreatedBy != checker {
			t.Fatalf("late entry = %+v", e)
		}
		if approved.Month != "2026-10" {
			t.Fatalf("the adjustment forgot its month: %+v", approved)
		}
		b.assertClean(t)
	})
}
