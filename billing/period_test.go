package billing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
)

func (b *books) move(t *testing.T, month, action string, now time.Time) error {
	t.Helper()
	return b.tx(t, func(ctx context.Context, tx bun.Tx) error {
		_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), month, action, helsinki, now)
		return err
	})
}

// wantMonthRefused asserts an invalid month fault naming the field and the
// allowed range.
func wantMonthRefused(t *testing.T, what string, err error, min, max string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.KindInvalid || fe.Details["field"] != "month" || fe.Details["min"] != min || fe.Details["max"] != max {
		t.Fatalf("%s: %v (details %v), want month refused, allowed %s to %s", what, err, detailsOf(err), min, max)
	}
}

func detailsOf(err error) map[string]any {
	if fe, ok := fault.As(err); ok {
		return fe.Details
	}
	return nil
}

// On 2 December, December (not ended) and 2027-03 could be closed, and
// December while November was in review. A month moves only once it has
// ended in the organisation's zone, and closes only after every earlier
// month; review needs only the month to have ended.
func TestAMonthMovesOnlyOnceEndedAndClosesAfterEveryEarlierMonth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		october := time.Date(2026, 10, 12, 9, 0, 0, 0, time.UTC)
		b.charge(t, b.request(t, "1"), "1", october) // the books begin in October
		now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		for _, month := range []string{"2026-12", "2027-03"} {
			for _, action := range []string{"review", "close"} {
				err := b.move(t, month, action, now)
				wantMonthRefused(t, action+" "+month, err, "2026-10", "2026-11")
				if fe, _ := fault.As(err); fe.Message != month+" has not ended" {
					t.Fatalf("%s %s: %q", action, month, fe.Message)
				}
			}
		}
		// November ends at midnight in Helsinki, 22:00 UTC.
		if err := b.move(t, "2026-11", "review", time.Date(2026, 11, 30, 21, 30, 0, 0, time.UTC)); err == nil {
			t.Fatal("November went to review at 23:30 on its last day in Helsinki")
		}
		if err := b.move(t, "2026-11", "review", time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)); err != nil {
			t.Fatalf("review November at 00:30 on 1 December in Helsinki, with October open: %v", err)
		}
		err := b.move(t, "2026-11", "close", now)
		if fe, ok := fault.As(err); !ok || fe.Code != "earlier_period_open" || fe.Message != "2026-10 is still open; close it first" {
			t.Fatalf("close November while October is open: %v", err)
		}
		if err := b.move(t, "2026-10", "review", now); err != nil {
			t.Fatal(err)
		}
		err = b.move(t, "2026-11", "close", now)
		if fe, ok := fault.As(err); !ok || fe.Code != "earlier_period_open" || fe.Message != "2026-10 is still in review; close it first" {
			t.Fatalf("close November while October is in review: %v", err)
		}
		for _, month := range []string{"2026-10", "2026-11"} {
			if err := b.move(t, month, "close", now); err != nil {
				t.Fatalf("close %s in order: %v", month, err)
			}
		}
		// December stays open: its charges are not late.
		dec := b.charge(t, b.request(t, "1"), "1", now)
		if len(dec) != 1 || dec[0].Period != "2026-12" || dec[0].LateFrom != nil {
			t.Fatalf("December charge = %+v", dec)
		}
		b.assertClean(t)
	})
}

// `tiski billing run` billed 2027-01 … 2028-02 on 2026-12-02.
func TestBillingRunRefusesAMonthNotBegun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		newBooks(t, d, "")
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		for _, month := range []string{"2027-01", "2028-02"} {
			_, err := billing.BillingRun(ctx, d, month, helsinki, now)
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.KindInvalid || fe.Details["max"] != "2026-12" || fe.Message != month+" has not begun" {
				t.Fatalf("billing run %s on 2 December: %v", month, err)
			}
		}
		// 1 January begins at 22:00 UTC on 31 December in Helsinki.
		if _, err := billing.BillingRun(ctx, d, "2027-01", helsinki, time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC)); err != nil {
			t.Fatalf("billing run of January once it began in Helsinki: %v", err)
		}
		if _, err := billing.BillingRun(ctx, d, "2026-12", helsinki, now); err != nil {
			t.Fatalf("billing run of the current month: %v", err)
		}
	})
}

// An adjustment for 2026-07, before three closed months without a row of
// its own, posted into 2026-07 and verify said the books were sound.
func TestAMonthWithoutARowBeforeAClosedMonthIsClosed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		june := time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC)
		b.charge(t, b.request(t, "1"), "1", june) // the books begin in June
		// Books from before periods closed in order: August to October
		// closed, June and July never touched. The database refuses such
		// closes now, so they are written past its guards.
		closed := june.AddDate(0, 5, 0)
		var legacy []string
		for _, month := range []string{"2026-08", "2026-09", "2026-10"} {
			legacy = append(legacy, d.NewInsert().Model(&billing.Period{Month: month, Status: billing.PeriodClosed, ChangedAt: closed, ClosedAt: &closed}).String())
		}
		dbtest.Tamper(t, d, legacy...)
		now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		for _, month := range []string{"2026-07"} { // June has its row, open, from its charge
			if p, late, err := billing.PostingPeriod(ctx, d, month); err != nil || p != "2026-11" || late != month {
				t.Fatalf("posting period of %s = %s late from %q, %v", month, p, late, err)
			}
			if err := b.move(t, month, "review", now); !fault.Is(err, fault.KindConflict) {
				t.Fatalf("review %s, closed by the later close: %v", month, err)
			}
		}
		a := b.credit(500)
		a.Month = "2026-07"
		got, err := b.adjust(t, b.user, a, now)
		if err != nil {
			t.Fatal(err)
		}
		var e billing.JournalEntry
		if err := d.NewSelect().Model(&e).Where("id = ?", *got.EntryID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if e.Period != "2026-11" || e.LateFrom == nil || *e.LateFrom != "2026-07" {
			t.Fatalf("adjustment of 2026-07 posted into %s (late from %v)", e.Period, e.LateFrom)
		}
		for _, month := range []string{"2026-06", "2026-11"} { // June's open row, then November
			if err := b.move(t, month, "close", now.AddDate(0, 1, 0)); err != nil {
				t.Fatalf("close %s, the earliest open month: %v", month, err)
			}
		}
		b.assertClean(t)
	})
}

// Months 0000-01 and 9999-12 were accepted by adjustments, budgets and
// period actions. Each takes months from the organisation's first month:
// adjustments up to the current month, budgets 24 months ahead, period
// actions up to the last ended month.
func TestMonthsOutsideTheBooksAreRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		b.charge(t, b.request(t, "1"), "1", time.Date(2026, 9, 3, 9, 0, 0, 0, time.UTC)) // first month 2026-09
		budget := func(month string) error {
			return b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.SetBudget(ctx, tx, billing.Operator(b.user), billing.Budget{UnitID: b.consumer, Month: month,
					AmountMinor: 1000, Currency: "EUR", WarnPct: 80}, helsinki, now)
				return err
			})
		}
		adjust := func(month string) error {
			a := b.credit(500)
			a.Month = month
			_, err := b.adjust(t, b.user, a, now)
			return err
		}
		for _, month := range []string{"0000-01", "2026-08", "2027-01", "9999-12"} {
			wantMonthRefused(t, "adjustment for "+month, adjust(month), "2026-09", "2026-12")
		}
		for _, month := range []string{"0000-01", "2026-08", "2029-01", "9999-12"} {
			wantMonthRefused(t, "budget for "+month, budget(month), "2026-09", "2028-12")
		}
		for _, month := range []string{"0000-01", "2026-08", "9999-12"} {
			wantMonthRefused(t, "close "+month, b.move(t, month, "close", now), "2026-09", "2026-11")
		}
		for _, month := range []string{"2026-09", "2026-12"} {
			if err := adjust(month); err != nil {
				t.Fatalf("adjustment for %s: %v", month, err)
			}
		}
		for _, month := range []string{"2026-09", "2028-12"} {
			if err := budget(month); err != nil {
				t.Fatalf("budget for %s: %v", month, err)
			}
		}
		var stray int
		if err := d.NewRaw("SELECT COUNT(*) FROM periods WHERE month < '2026-09' OR month > '2026-12'").Scan(context.Background(), &stray); err != nil || stray != 0 {
			t.Fatalf("periods outside the books: %d, %v", stray, err)
		}
	})
}

// Forty adjustments released together with one close of their month: on
// PostgreSQL some posted into the month after it closed. Each round closes
// the next month while forty post into it; every entry must be in the
// month, committed before its close, or late in the next one.
func TestNoPostingIntoAClosedPeriodWhileItCloses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		// A clock that runs as the test does, from a fixed day, so that the
		// order of the timestamps is the order of the events.
		base, t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), time.Now()
		clock := func() time.Time { return base.Add(time.Since(t0)) }
		a := b.credit(100)
		a.Month = "2026-07"
		if _, err := b.adjust(t, b.user, a, clock()); err != nil { // the books begin in July
			t.Fatal(err)
		}
		const posters, rounds = 40, 5
		for round := range rounds {
			month := billing.MonthOf(time.Date(2026, time.Month(7+round), 1, 0, 0, 0, 0, time.UTC), time.UTC)
			next := billing.NextMonth(month)
			release := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, posters+1)
			for i := range posters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-release
					a := b.credit(int64(100 + i))
					a.Month = month
					now := clock() // read before the transaction, as the API does
					errs <- d.InTx(ctx, func(tx bun.Tx) error {
						_, err := billing.CreateAdjustment(ctx, tx, billing.Operator(b.user), a, adjustmentLimit, helsinki, now)
						return err
					})
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-release
				now := clock()
				errs <- d.InTx(ctx, func(tx bun.Tx) error {
					_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), month, "close", helsinki, now)
					return err
				})
			}()
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			b.assertClean(t)
			var entries []billing.JournalEntry
			if err := d.NewSelect().Model(&entries).Where("kind = 'adjustment' AND ((period = ? AND late_from IS NULL) OR late_from = ?)", month, month).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			p, err := billing.GetPeriod(ctx, d, month)
			if err != nil || p.Status != billing.PeriodClosed {
				t.Fatalf("round %d: %s = %+v, %v", round, month, p, err)
			}
			late := 0
			for _, e := range entries {
				switch {
				case e.Period == month && e.LateFrom == nil && !e.CreatedAt.After(*p.ClosedAt):
				case e.Period == next && e.LateFrom != nil && *e.LateFrom == month:
					late++
				default:
					t.Fatalf("round %d: entry %d in %s (late from %v, created %s) around the close of %s at %s",
						round, e.ID, e.Period, e.LateFrom, e.CreatedAt, month, p.ClosedAt)
				}
			}
			if want := posters + map[bool]int{true: 1}[round == 0]; len(entries) != want {
				t.Fatalf("round %d: %d entries of %s, want %d", round, len(entries), month, want)
			}
			t.Logf("round %d on %s: %d of %d posted late", round, d.Dialect().Name(), late, posters)
		}
	})
}
