package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/govalues/decimal"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
)

// Subscription is a monthly service running for a unit from the day its
// request was fulfilled, at the price quoted when it was ordered.
type Subscription struct {
	bun.BaseModel `bun:"table:subscriptions,alias:s"`

	ID                int64     `bun:"id,pk,autoincrement"`
	RequestID         int64     `bun:"request_id"`
	ConsumerUnitID    int64     `bun:"consumer_unit_id"`
	ProviderUnitID    int64     `bun:"provider_unit_id"`
	ServiceID         int64     `bun:"service_id"`
	RateID            int64     `bun:"rate_id"`
	MonthlyPriceMinor int64     `bun:"monthly_price_minor"`
	Currency          string    `bun:"currency"`
	StartDate         string    `bun:"start_date"`
	EndDate           *string   `bun:"end_date"`
	CreatedAt         time.Time `bun:"created_at"`
}

// startSubscription starts the subscription of a fulfilled monthly request,
// once per request.
func startSubscription(ctx context.Context, tx bun.Tx, f Fulfilment, loc *time.Location) error {
	s := &Subscription{RequestID: f.RequestID, ConsumerUnitID: f.ConsumerUnitID, ProviderUnitID: f.ProviderUnitID,
		ServiceID: f.ServiceID, RateID: f.RateID, MonthlyPriceMinor: f.UnitPriceMinor, Currency: f.Currency,
		StartDate: f.ResolvedAt.In(loc).Format("2006-01-02"), CreatedAt: f.ResolvedAt}
	if _, err := tx.NewInsert().Model(s).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("start subscription for request %d: %w", f.RequestID, err)
	}
	return nil
}

// RunResult counts what a billing run did.
type RunResult struct {
	Charged int // subscriptions charged by this run
	Skipped int // already charged for the month by an earlier run
}

// BillingRun charges every subscription active in month once: a full month
// at the quoted price, the first (and last) month prorated by days. Each
// subscription posts in its own transaction under a key derived from the
// subscription and the month, so a crash leaves whole charges behind and
// running again, even concurrently, finishes the job without posting twice.
func BillingRun(ctx context.Context, d *db.DB, month string, loc *time.Location, now time.Time) (RunResult, error) {
	var res RunResult
	months, err := LoadMonths(ctx, d, loc, now)
	if err != nil {
		return res, err
	}
	if err := months.ForRun("month", month); err != nil {
		return res, err
	}
	firstDay, lastDay, _ := monthBounds(month)
	var subs []Subscription
	err = d.NewSelect().Model(&subs).Where("s.start_date <= ? AND (s.end_date IS NULL OR s.end_date >= ?)", lastDay, firstDay).
		OrderExpr("s.id").Scan(ctx)
	if err != nil {
		return res, fmt.Errorf("billing run %s: %w", month, err)
	}
	for _, listed := range subs {
		created := false
		err = d.InTx(ctx, func(tx bun.Tx) error {
			// Read again under a lock: an end set since the list above
			// changes what the month owes (see EndSubscription).
			s, err := lockSubscription(ctx, tx, listed.ID)
			if err != nil {
				return err
			}
			if s.EndDate != nil && *s.EndDate < firstDay {
				return nil
			}
			active, days, amount, err := s.monthCharge(month, s.EndDate)
			if err != nil {
				return err
			}
			created, err = chargeSubscription(ctx, tx, *s, month, lastDay, active, days, amount, now)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("billing run %s, subscription %d: %w", month, listed.ID, err)
		}
		if created {
			res.Charged++
		} else {
			res.Skipped++
		}
	}
	return res, nil
}

func chargeSubscription(ctx context.Context, tx bun.Tx, s Subscription, month, date string, active, days, amount int64, now time.Time) (bool, error) {
	key := fmt.Sprintf("subscription:%d:%s", s.ID, month)
	if amount == 0 {
		return false, nil
	}
	// A month charged before stands as charged, even when the subscription
	// has since ended within it (finance corrects that by adjustment): the
	// run skips it rather than asking the ledger for a different amount
	// under the same key.
	if posted, err := entryByKey(ctx, tx, key); err != nil || posted != nil {
		return false, err
	}
	consumer, err := units.GetUnit(ctx, tx, s.ConsumerUnitID)
	if err != nil {
		return false, err
	}
	memo := fmt.Sprintf("subscription %d (REQ-%06d) %s, %d/%d days", s.ID, s.RequestID, month, active, days)
	expense, recovery, err := glAccounts(ctx, tx, s.ServiceID)
	if err != nil {
		return false, err
	}
	entry, created, err := Post(ctx, tx, Entry{Key: key, Month: month, Date: date, Kind: "subscription", Memo: memo, Currency: s.Currency,
		Lines: chargeLines(s.ConsumerUnitID, s.ProviderUnitID, amount, expense, recovery)}, now)
	if err != nil || !created {
		return false, err
	}
	quantity := "1"
	if active != days {
		share, err := decimal.MustNew(active, 0).Quo(decimal.MustNew(days, 0))
		if err != nil {
			return false, err
		}
		quantity = share.Round(4).Trim(0).String()
	}
	requestID, rateID, entryID := s.RequestID, s.RateID, entry.ID
	c := Charge{SourceKey: key, RequestID: &requestID, ConsumerUnitID: s.ConsumerUnitID, ProviderUnitID: s.ProviderUnitID,
		ServiceID: s.ServiceID, RateID: &rateID, Period: entry.Period, LateFrom: entry.LateFrom, Quantity: quantity,
		UnitPriceMinor: s.MonthlyPriceMinor, AmountMinor: amount, Currency: s.Currency, Status: ChargePosted,
		Showback: consumer.ChargebackMode == units.ModeShowback, EntryID: &entryID, Description: memo, CreatedAt: now}
	if _, err := tx.NewInsert().Model(&c).Exec(ctx); err != nil {
		return false, fmt.Errorf("record charge %s: %w", key, err)
	}
	return true, nil
}

// monthBounds returns the first and last day of month and its length.
func monthBounds(month string) (firstDay, lastDay string, days int64) {
	first, _ := time.Parse("2006-01", month)
	last := first.AddDate(0, 1, -1)
	return first.Format("2006-01-02"), last.Format("2006-01-02"), int64(last.Day())
}

// monthCharge prorates the subscription over the days of month it runs,
// from its start (or the 1st) to end (or the last day): what the billing run
// charges, and what verify recomputes.
func (s Subscription) monthCharge(month string, end *string) (active, days, amountMinor int64, err error) {
	firstDay, lastDay, days := monthBounds(month)
	from, to := maxString(s.StartDate, firstDay), lastDay
	if end != nil && *end < to {
		to = *end
	}
	fromT, _ := time.Parse("2006-01-02", from)
	toT, _ := time.Parse("2006-01-02", to)
	active = int64(toT.Sub(fromT).Hours()/24) + 1
	amount, err := money.Prorate(money.Money{Minor: s.MonthlyPriceMinor, Currency: s.Currency}, active, days)
	return active, days, amount.Minor, err
}

func maxString(a, b string) string {
	if a > b {
		return a
	}
	return b
}
