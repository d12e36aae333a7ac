package billing

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
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
// billing run charges month by month. loc is the organisation's time zone,
// which places the charge in its month.
//
// A request is resolved again after a reopen: a fixed or per-unit request
// was charged by its first resolution and posts nothing more, a monthly one
// keeps its one subscription, and an hourly one posts a supplementary charge
// for the billable time no charge covers yet (each charge records the time
// entries it covers, and an entry is covered once), so every billable
// minute is charged exactly once.
func ChargeFulfilment(ctx context.Context, tx bun.Tx, f Fulfilment, loc *time.Location) ([]Charge, error) {
	consumer, err := units.GetUnit(ctx, tx, f.ConsumerUnitID)
	if err != nil {
		return nil, err
	}
	var lines []chargeLine
	switch f.PricingModel {
	case "fixed", "per_unit":
		if charged, err := requestCharged(ctx, tx, f.RequestID); err != nil || charged {
			return nil, err
		}
		q, err := decimal.Parse(f.Quantity)
		if err != nil {
			return nil, fmt.Errorf("request %d quantity %q: %w", f.RequestID, f.Quantity, err)
		}
		amount, err := money.Money{Minor: f.UnitPriceMinor, Currency: f.Currency}.MulQuantity(q)
		if err != nil {
			return nil, err
		}
		lines = []chargeLine{{key: fmt.Sprintf("request:%d:rate:%d", f.RequestID, f.RateID), rateID: f.RateID,
			quantity: q.String(), unitPrice: f.UnitPriceMinor, amount: amount.Minor}}
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
	expense, recovery, err := glAccounts(ctx, tx, f.ServiceID)
	if err != nil {
		return nil, err
	}
	var charges []Charge
	for _, l := range lines {
		if l.amount == 0 {
			continue
		}
		memo := fmt.Sprintf("%s %s", f.Number, f.Title)
		if len(l.timeEntries) > 0 {
			memo += ", time entries " + joinIDs(l.timeEntries)
		}
		entry, created, err := Post(ctx, tx, Entry{Key: l.key, Month: month, Date: date, Kind: "charge", Memo: memo,
			Currency: f.Currency, CreatedBy: f.ActorID,
			Lines: chargeLines(f.ConsumerUnitID, f.ProviderUnitID, l.amount, expense, recovery)}, f.ResolvedAt)
		if err != nil {
			return nil, err
		}
		if !created {
			continue // posted before: a retry, not a second charge
		}
		rateID, requestID, entryID := l.rateID, f.RequestID, entry.ID
		c := Charge{SourceKey: l.key, RequestID: &requestID, ConsumerUnitID: f.ConsumerUnitID, ProviderUnitID: f.ProviderUnitID,
			ServiceID: f.ServiceID, RateID: &rateID, Period: entry.Period, LateFrom: entry.LateFrom, Quantity: l.quantity,
			UnitPriceMinor: l.unitPrice, AmountMinor: l.amount, Currency: f.Currency, Status: ChargePosted,
			Showback: consumer.ChargebackMode == units.ModeShowback, EntryID: &entryID, Description: memo, CreatedAt: f.ResolvedAt}
		if _, err := tx.NewInsert().Model(&c).Returning("id").Exec(ctx); err != nil {
			return nil, fmt.Errorf("record charge %s: %w", l.key, err)
		}
		if err := coverTime(ctx, tx, c.ID, l.timeEntries); err != nil {
			return nil, err
		}
		charges = append(charges, c)
	}
	if err := tellCharged(ctx, tx, charges, loc, f.ActorID, f.ResolvedAt); err != nil {
		return nil, err
	}
	return charges, nil
}

// requestCharged reports whether a request already has a charge.
func requestCharged(ctx context.Context, tx bun.Tx, requestID int64) (bool, error) {
	charged, err := tx.NewSelect().Model((*Charge)(nil)).Where("request_id = ?", requestID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("charges of request %d: %w", requestID, err)
	}
	return charged, nil
}

// coverTime records the time entries a charge covers, in the charge's
// transaction. The database refuses an entry that another charge covers,
// so two resolutions racing over the same minutes cannot both commit.
func coverTime(ctx context.Context, tx bun.Tx, chargeID int64, timeEntries []int64) error {
	for _, id := range timeEntries {
		if _, err := tx.NewRaw("INSERT INTO charge_time_entries (time_entry_id, charge_id) VALUES (?, ?)", id, chargeID).Exec(ctx); err != nil {
			return fmt.Errorf("charge %d covers time entry %d: %w", chargeID, id, err)
		}
	}
	return nil
}

// ChargedTime returns the ids of the time entries a charge covers, in order.
func ChargedTime(ctx context.Context, idb bun.IDB, chargeID int64) ([]int64, error) {
	var ids []int64
	if err := idb.NewSelect().Table("charge_time_entries").Column("time_entry_id").Where("charge_id = ?", chargeID).
		OrderExpr("time_entry_id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("time covered by charge %d: %w", chargeID, err)
	}
	return ids, nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "#" + strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}

type chargeLine struct {
	key         string // the idempotency key of its entry and charge
	timeEntries []int64
	rateID      int64
	quantity    string
	unitPrice   int64
	amount      int64
}

// hourlyLines groups the billable minutes no charge covers yet by the rate
// in force on each entry's date and prices each group once: minutes ×
// hourly price / 60, rounded half-to-even. Quantity is the hours, to four
// decimals, for the statement. A group's key names the request, the rate
// and the first and last entry it covers: entries are covered once, so no
// two charges of one request and rate share a first entry.
func hourlyLines(ctx context.Context, tx bun.IDB, f Fulfilment) ([]chargeLine, error) {
	var entries []struct {
		ID       int64  `bun:"id"`
		Minutes  int64  `bun:"minutes"`
		WorkDate string `bun:"work_date"`
	}
	if err := tx.NewSelect().TableExpr("time_entries AS t").Column("t.id", "t.minutes", "t.work_date").
		Where("t.request_id = ? AND t.billable = ?", f.RequestID, true).
		Where("NOT EXISTS (SELECT 1 FROM charge_time_entries AS l WHERE l.time_entry_id = t.id)").
		OrderExpr("t.id").Scan(ctx, &entries); err != nil {
		return nil, fmt.Errorf("billable time of request %d: %w", f.RequestID, err)
	}
	minutesByRate := map[int64]int64{}
	priceByRate := map[int64]int64{}
	entriesByRate := map[int64][]int64{}
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
		entriesByRate[rate.ID] = append(entriesByRate[rate.ID], e.ID)
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
		covered := entriesByRate[rateID]
		key := fmt.Sprintf("request:%d:rate:%d:time:%d-%d", f.RequestID, rateID, covered[0], covered[len(covered)-1])
		lines = append(lines, chargeLine{key: key, timeEntries: covered, rateID: rateID, quantity: hours.Round(4).Trim(0).String(), unitPrice: priceByRate[rateID], amount: amount.Minor})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].rateID < lines[j].rateID })
	return lines, nil
}
