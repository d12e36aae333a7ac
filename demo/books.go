package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// The finance person who runs the books and the consumer manager who
// disputes charges.
const (
	financeEmail  = "sanna.korhonen@tiski.example"
	disputerEmail = "maria.jarvinen@tiski.example"
	disputerUnit  = "CC-1200"
)

// books keeps the demo's books the way finance would have over the months
// of history: each month's subscriptions billed on its last day, the
// months before last reviewed and closed early in the following month,
// last month in review with disputes (some settled, some open) and the
// current month open. Every step looks first and does only what is
// missing, so loading again changes nothing.
type books struct {
	d       *db.DB
	org     units.Organisation
	loc     *time.Location
	now     time.Time
	finance int64
	months  []string // from the first month of history to the current one
}

// loadBooks brings the demo's books up to date after the request history is
// filed, in time order: billing runs, periods, disputes, budgets.
func loadBooks(ctx context.Context, d *db.DB, org units.Organisation, now time.Time) error {
	loc := org.Location
	finance, err := units.GetUserByEmail(ctx, d, financeEmail)
	if err != nil {
		return fmt.Errorf("demo finance user: %w", err)
	}
	b := &books{d: d, org: org, loc: loc, now: now, finance: finance.ID}
	for m := billing.MonthOf(now.AddDate(0, 0, -historyDays), loc); m <= billing.MonthOf(now, loc); m = billing.NextMonth(m) {
		b.months = append(b.months, m)
	}
	if len(b.months) < 3 {
		return fmt.Errorf("demo history spans %d months; the books need three", len(b.months))
	}
	if err := b.bill(ctx); err != nil {
		return err
	}
	if err := b.periods(ctx); err != nil {
		return err
	}
	return b.budgets(ctx)
}

// start is the first moment of month in the organisation's time zone.
func (b *books) start(month string) time.Time {
	t, _ := time.ParseInLocation("2006-01", month, b.loc)
	return t
}

// inCurrent places a step a fraction f of the way into the current month's
// first days (at most ten), so it is always in the past.
func (b *books) inCurrent(f float64) time.Time {
	start := b.start(b.months[len(b.months)-1])
	window := min(b.now.Sub(start), 10*24*time.Hour)
	return start.Add(time.Duration(f * float64(window))).UTC().Truncate(time.Second)
}

// bill runs the billing run of every past month, as `tiski billing run`
// does, just after the month ended.
func (b *books) bill(ctx context.Context) error {
	past := b.months[:len(b.months)-1]
	for i, m := range past {
		at := b.start(b.months[i+1]).Add(3 * time.Hour).UTC()
		if i == len(past)-1 {
			at = b.inCurrent(0.01)
		}
		if _, err := billing.BillingRun(ctx, b.d, m, b.loc, at); err != nil {
			return fmt.Errorf("demo billing run %s: %w", m, err)
		}
	}
	return nil
}

// periods closes the months before last, oldest first, each reviewed on
// the third and closed on the tenth of the month after, and puts last month
// in review with its disputes. The current month stays open.
func (b *books) periods(ctx context.Context) error {
	n := len(b.months)
	for i, m := range b.months[:n-2] {
		next := b.start(b.months[i+1])
		if err := b.move(ctx, m, "review", next.AddDate(0, 0, 2).Add(9*time.Hour)); err != nil {
			return err
		}
		if err := b.move(ctx, m, "close", next.AddDate(0, 0, 9).Add(14*time.Hour)); err != nil {
			return err
		}
	}
	last := b.months[n-2]
	if err := b.move(ctx, last, "review", b.inCurrent(0.1)); err != nil {
		return err
	}
	if err := b.disputes(ctx, last); err != nil {
		return err
	}
	return b.adjustment(ctx, last)
}

// move takes month to review or closed at the given time unless it is
// there already. A close refused for open disputes is left for finance.
func (b *books) move(ctx context.Context, month, action string, at time.Time) error {
	err := b.d.InTx(ctx, func(tx bun.Tx) error {
		p, err := billing.GetPeriod(ctx, tx, month)
		if err != nil {
			return err
		}
		if p.Status == billing.PeriodClosed || (action == "review" && p.Status == billing.PeriodReview) {
			return nil
		}
		_, err = billing.MovePeriod(ctx, tx, billing.Operator(b.finance), month, action, b.loc, at.UTC())
		return err
	})
	if fe, ok := fault.As(err); ok && fe.Code == "open_disputes" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo period %s %s: %w", month, action, err)
	}
	return nil
}
