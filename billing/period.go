// Package billing keeps the books: a double-entry, append-only ledger with
// an account per unit, accounting periods, and the charges that turn
// fulfilled requests into money moved between cost centers.
package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// Period statuses.
const (
	PeriodOpen   = "open"
	PeriodReview = "review"
	PeriodClosed = "closed"
)

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// Period is a calendar month of the books. A month without a row is open.
type Period struct {
	bun.BaseModel `bun:"table:periods"`

	Month     string     `bun:"month,pk"`
	Status    string     `bun:"status"`
	ChangedBy *int64     `bun:"changed_by"`
	ChangedAt time.Time  `bun:"changed_at"`
	ClosedAt  *time.Time `bun:"closed_at"`
}

// CheckMonth validates a YYYY-MM month.
func CheckMonth(month string) error {
	if !monthPattern.MatchString(month) {
		return fault.Invalid("month", "month must look like 2026-11")
	}
	return nil
}

// MonthOf is the accounting month of an instant in the organisation's zone.
func MonthOf(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01") }

// NextMonth returns the month after month.
func NextMonth(month string) string {
	t, _ := time.Parse("2006-01", month)
	return t.AddDate(0, 1, 0).Format("2006-01")
}

// GetPeriod returns the period of month; a month never touched is open.
func GetPeriod(ctx context.Context, idb bun.IDB, month string) (*Period, error) {
	p := new(Period)
	err := idb.NewSelect().Model(p).Where("month = ?", month).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return &Period{Month: month, Status: PeriodOpen}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get period %s: %w", month, err)
	}
	return p, nil
}

// ListPeriods returns every period that has left the open state or has
// postings, newest first.
func ListPeriods(ctx context.Context, idb bun.IDB) ([]Period, error) {
	var months []string
	err := idb.NewRaw(`SELECT month FROM periods UNION SELECT DISTINCT period FROM journal_entries ORDER BY 1 DESC`).Scan(ctx, &months)
	if err != nil {
		return nil, fmt.Errorf("list periods: %w", err)
	}
	out := make([]Period, 0, len(months))
	for _, m := range months {
		p, err := GetPeriod(ctx, idb, m)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// PostingPeriod returns the period an item dated in month posts into: month
// itself while it is open or in review, else the earliest later month that
// is not closed. lateFrom is month when the item posts late, else "".
func PostingPeriod(ctx context.Context, idb bun.IDB, month string) (period, lateFrom string, err error) {
	for candidate, i := month, 0; i < 1200; candidate, i = NextMonth(candidate), i+1 {
		p, err := GetPeriod(ctx, idb, candidate)
		if err != nil {
			return "", "", err
		}
		if p.Status != PeriodClosed {
			if candidate != month {
				lateFrom = month
			}
			return candidate, lateFrom, nil
		}
	}
	return "", "", fmt.Errorf("no open period after %s", month)
}

// MovePeriod takes a period from open to review or from open/review to
// closed. Closing is refused while charges of the month are disputed. Only
// finance moves periods (Viewer.MayMovePeriod).
func MovePeriod(ctx context.Context, tx bun.Tx, v Viewer, month, action string, now time.Time) (*Period, error) {
	if err := v.MayMovePeriod(); err != nil {
		return nil, err
	}
	actorID := v.UserID
	if err := CheckMonth(month); err != nil {
		return nil, err
	}
	// Serialise period changes with postings: on PostgreSQL lock the row.
	before, err := lockPeriod(ctx, tx, month, now)
	if err != nil {
		return nil, err
	}
	after := *before
	switch {
	case action == "review" && before.Status == PeriodOpen:
		after.Status = PeriodReview
	case action == "close" && before.Status != PeriodClosed:
		open, err := openDisputes(ctx, tx, month)
		if err != nil {
			return nil, err
		}
		if len(open) > 0 {
			return nil, fault.Conflict("open_disputes", "period %s has %d open disputes; settle them before closing", month, len(open)).
				With("dispute_ids", open)
		}
		after.Status, after.ClosedAt = PeriodClosed, &now
	case action != "review" && action != "close":
		return nil, fault.Invalid("action", "action must be review or close")
	default:
		return nil, fault.Conflict("invalid_transition", "period %s is %s; cannot %s it", month, fault.Term{Group: "period.status", Name: string(before.Status)}, fault.Term{Group: "periods", Name: action})
	}
	after.ChangedBy, after.ChangedAt = nil, now
	if actorID != 0 { // 0 is the command line, acting for the operator
		after.ChangedBy = &actorID
	}
	if _, err := tx.NewUpdate().Model(&after).WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("update period %s: %w", month, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "period", ObjectID: month,
		Action: action, Before: before, After: after}); err != nil {
		return nil, err
	}
	return &after, nil
}

// lockPeriod makes sure the period row exists and, on PostgreSQL, holds its
// lock until the transaction ends (SQLite's write transaction already
// excludes every other writer).
func lockPeriod(ctx context.Context, tx bun.Tx, month string, now time.Time) (*Period, error) {
	p := &Period{Month: month, Status: PeriodOpen, ChangedAt: now}
	if _, err := tx.NewInsert().Model(p).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("create period %s: %w", month, err)
	}
	if _, err := tx.NewUpdate().Model((*Period)(nil)).Set("month = month").Where("month = ?", month).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock period %s: %w", month, err)
	}
	return GetPeriod(ctx, tx, month)
}

// openDisputes lists the ids of open disputes on charges posted in month.
func openDisputes(ctx context.Context, idb bun.IDB, month string) ([]int64, error) {
	var ids []int64
	err := idb.NewSelect().TableExpr("disputes AS d").Join("JOIN charges AS c ON c.id = d.charge_id").
		Column("d.id").Where("d.status = 'open' AND c.period = ?", month).OrderExpr("d.id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("open disputes of %s: %w", month, err)
	}
	return ids, nil
}
