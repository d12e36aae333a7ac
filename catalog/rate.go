package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// DateLayout is how calendar dates travel: 2026-11-23.
const DateLayout = "2006-01-02"

// Rate is a service's price from a date on, until the next rate's date.
type Rate struct {
	bun.BaseModel `bun:"table:service_rates"`

	ID            int64     `bun:"id,pk,autoincrement"`
	ServiceID     int64     `bun:"service_id"`
	PriceMinor    int64     `bun:"price_minor"`
	Currency      string    `bun:"currency"`
	EffectiveFrom string    `bun:"effective_from"`
	CreatedBy     *int64    `bun:"created_by"`
	CreatedAt     time.Time `bun:"created_at"`
}

// AddRate adds a price effective from r.EffectiveFrom. notBefore, when set,
// is the earliest date allowed: a service's first rate may start on any
// date, later ones today or later (in the organisation's time zone), so work
// already done is never repriced. One date holds one rate, so the rate in
// force on any day is unambiguous.
func AddRate(ctx context.Context, tx bun.Tx, actorID int64, r Rate, notBefore string) (*Rate, error) {
	if _, err := time.Parse(DateLayout, r.EffectiveFrom); err != nil {
		return nil, fault.Invalid("effective_from", "effective_from must be a date such as 2026-12-01")
	}
	if notBefore != "" && r.EffectiveFrom < notBefore {
		return nil, fault.Invalid("effective_from", "a new rate cannot start before today (%s); past work keeps the price it had", notBefore)
	}
	if r.PriceMinor < 0 {
		return nil, fault.Invalid("price", "price cannot be negative")
	}
	r.ID, r.CreatedAt = 0, time.Now().UTC()
	if actorID != 0 {
		r.CreatedBy = &actorID
	}
	res, err := tx.NewInsert().Model(&r).On("CONFLICT DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("add rate to service %d: %w", r.ServiceID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fault.Conflict("duplicate_rate", "the service already has a rate effective from %s", r.EffectiveFrom).With("field", "effective_from")
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "service",
		ObjectID: strconv.FormatInt(r.ServiceID, 10), Action: "add_rate", After: r}); err != nil {
		return nil, err
	}
	return &r, nil
}

// RateOn returns the rate in force on date: the one with the latest
// effective_from not after it.
func RateOn(ctx context.Context, idb bun.IDB, serviceID int64, date string) (*Rate, error) {
	r := new(Rate)
	err := idb.NewSelect().Model(r).Where("service_id = ? AND effective_from <= ?", serviceID, date).
		OrderExpr("effective_from DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Conflict("no_rate", "the service has no price in force on %s", date)
	}
	if err != nil {
		return nil, fmt.Errorf("rate of service %d on %s: %w", serviceID, date, err)
	}
	return r, nil
}

// GetRate returns one rate by id.
func GetRate(ctx context.Context, idb bun.IDB, id int64) (*Rate, error) {
	r := new(Rate)
	if err := idb.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("rate")
		}
		return nil, fmt.Errorf("get rate %d: %w", id, err)
	}
	return r, nil
}

// Rates lists a service's rates, newest first.
func Rates(ctx context.Context, idb bun.IDB, serviceID int64) ([]Rate, error) {
	var rates []Rate
	if err := idb.NewSelect().Model(&rates).Where("service_id = ?", serviceID).
		OrderExpr("effective_from DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("rates of service %d: %w", serviceID, err)
	}
	return rates, nil
}

// Today is the calendar date now in loc, the organisation's time zone.
func Today(now time.Time, loc *time.Location) string { return now.In(loc).Format(DateLayout) }
