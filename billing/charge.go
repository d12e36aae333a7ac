package billing

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/govalues/decimal"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
)

// Charge statuses.
const (
	ChargePosted   = "posted"
	ChargeDisputed = "disputed"
	ChargeCredited = "credited"
)

// Charge is what a consumer unit pays a provider unit for one fulfilment,
// with the pricing it was computed from.
type Charge struct {
	bun.BaseModel `bun:"table:charges,alias:c"`

	ID             int64     `bun:"id,pk,autoincrement"`
	SourceKey      string    `bun:"source_key"`
	RequestID      *int64    `bun:"request_id"`
	ConsumerUnitID int64     `bun:"consumer_unit_id"`
	ProviderUnitID int64     `bun:"provider_unit_id"`
	ServiceID      int64     `bun:"service_id"`
	RateID         *int64    `bun:"rate_id"`
	Period         string    `bun:"period"`
	LateFrom       *string   `bun:"late_from"`
	Quantity       string    `bun:"quantity"`
	UnitPriceMinor int64     `bun:"unit_price_minor"`
	AmountMinor    int64     `bun:"amount_minor"`
	Currency       string    `bun:"currency"`
	Status         string    `bun:"status"`
	Showback       bool      `bun:"showback"`
	EntryID        *int64    `bun:"entry_id"`
	Description    string    `bun:"description"`
	CreatedAt      time.Time `bun:"created_at"`
}

// Fulfilment is a resolved request as billing needs it: the quote taken at
// submission, not today's price.
type Fulfilment struct {
	RequestID      int64
	Number         string
	Title          string
	ConsumerUnitID int64
	ProviderUnitID int64
	ServiceID      int64
	RateID         int64
	PricingModel   string
	Quantity       string
	UnitPriceMinor int64
	Currency       string
	ResolvedAt     time.Time
	ActorID        int64
}

// ChargeFulfilment posts the charges of a resolved request inside the
// resolving transaction: fixed and per-unit services at the quote, hourly
// ones from billable time at the rate in force on each entry's date (one
// charge per rate). A monthly service starts a subscription, which the
// billing run charges month by month.
// Posting is idempotent per request and rate. loc is the organisation's
// time zone, which places the charge in its month.
func ChargeFulfilment(ctx context.Context, tx bun.Tx, f Fulfilment, loc *time.Location) ([]Charge, error) {
	consumer, err := units.GetUnit(ctx, tx, f.ConsumerUnitID)
	if err != nil {
		return nil, err
	}
	var lines []chargeLine
	switch f.PricingModel {
	case "fixed", "per_unit":
		q, err := decimal.Parse(f.Quantity)
		if err != nil {
			return nil, fmt.Errorf("request %d quantity %q: %w", f.RequestID, f.Quantity, err)
		}
		amount, err := money.Money{Minor: f.UnitPriceMinor, Currency: f.Currency}.MulQuantity(q)
		if err != nil {
			return nil, err
		}
		lines = []chargeLine{{rateID: f.RateID, quantity: q.String(), unitPrice: f.UnitPriceMinor, amount: amount.Minor}}
	case "hourly":
		if lines, err = hourlyLines(ctx, tx, f); err != nil {
			return nil, err
		}
	case "monthly":
		return nil, startSubscription(ctx, tx, f, loc)
	default:
		return nil, fmt.Errorf("request %d: unknown pricing model %q", f.RequestID, f.PricingModel)
	}
	month := MonthOf(f.ResolvedAt, loc)
	date := f.ResolvedAt.In(loc).Format(catalog.DateLayout)
	var charges []Charge
	for _, l := range lines {
		if l.amount == 0 {
			continue
		}
		key := fmt.Sprintf("request:%d:rate:%d", f.RequestID, l.rateID)
		memo := fmt.Sprintf("%s %s", f.Number, f.Title)
		entry, created, err := Post(ctx, tx, Entry{Key: key, Month: month, Date: date, Kind: "charge", Memo: memo,
			Currency: f.Currency, CreatedBy: f.ActorID,
			Lines: []Line{{UnitID: f.ConsumerUnitID, AmountMinor: l.amount}, {UnitID: f.ProviderUnitID, AmountMinor: -l.amount}}}, f.ResolvedAt)
		if err != nil {
			return nil, err
		}
		if !created {
			continue // posted before: a retry, not a second charge
		}
		rateID, requestID, entryID := l.rateID, f.RequestID, entry.ID
		c := Charge{SourceKey: key, RequestID: &requestID, ConsumerUnitID: f.ConsumerUnitID, ProviderUnitID: f.ProviderUnitID,
			ServiceID: f.ServiceID, RateID: &rateID, Period: entry.Period, LateFrom: entry.LateFrom, Quantity: l.quantity,
			UnitPriceMinor: l.unitPrice, AmountMinor: l.amount, Currency: f.Currency, Status: ChargePosted,
			Showback: consumer.ChargebackMode == units.ModeShowback, EntryID: &entryID, Description: memo, CreatedAt: f.ResolvedAt}
		if _, err := tx.NewInsert().Model(&c).Returning("id").Exec(ctx); err != nil {
			return nil, fmt.Errorf("record charge %s: %w", key, err)
		}
		charges = append(charges, c)
	}
	return charges, nil
}

type chargeLine struct {
	rateID    int64
	quantity  string
	unitPrice int64
	amount    int64
}

// hourlyLines groups billable minutes by the rate in force on each entry's
// date and prices each group once: minutes × hourly price / 60, rounded
// half-to-even. Quantity is the hours, to four decimals, for the statement.
func hourlyLines(ctx context.Context, tx bun.IDB, f Fulfilment) ([]chargeLine, error) {
	var entries []struct {
		Minutes  int64  `bun:"minutes"`
		WorkDate string `bun:"work_date"`
	}
	if err := tx.NewSelect().Table("time_entries").Column("minutes", "work_date").
		Where("request_id = ? AND billable = ?", f.RequestID, true).OrderExpr("id").Scan(ctx, &entries); err != nil {
		return nil, fmt.Errorf("billable time of request %d: %w", f.RequestID, err)
	}
	minutesByRate := map[int64]int64{}
	priceByRate := map[int64]int64{}
	for _, e := range entries {
		rate, err := catalog.RateOn(ctx, tx, f.ServiceID, e.WorkDate)
		if fe, ok := fault.As(err); ok && fe.Code == "no_rate" {
			// Time logged for a day before the service's first price (the
			// agent may log past days) bills at the quote rather than
			// making the request impossible to resolve.
			rate, err = &catalog.Rate{ID: f.RateID, PriceMinor: f.UnitPriceMinor}, nil
		}
		if err != nil {
			return nil, err
		}
		minutesByRate[rate.ID] += e.Minutes
		priceByRate[rate.ID] = rate.PriceMinor
	}
	var lines []chargeLine
	for rateID, minutes := range minutesByRate {
		amount, err := money.Money{Minor: priceByRate[rateID], Currency: f.Currency}.MulRatio(minutes, 60)
		if err != nil {
			return nil, err
		}
		hours, err := decimal.New(minutes, 0)
		if err != nil {
			return nil, err
		}
		if hours, err = hours.Quo(decimal.MustNew(60, 0)); err != nil {
			return nil, err
		}
		lines = append(lines, chargeLine{rateID: rateID, quantity: hours.Round(4).Trim(0).String(), unitPrice: priceByRate[rateID], amount: amount.Minor})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].rateID < lines[j].rateID })
	return lines, nil
}
