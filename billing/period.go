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
	"github.com/uptrace/bun/dialect"

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

// Budgets may be planned this many months ahead of the current month.
const budgetHorizon = 24

// A new organisation, before its first request, entry or period move, may
// name months this far back: it may start its books mid-year.
const newBooksLookback = 24

// Months is the organisation's calendar of the books: the months an
// operation may name. Every operation that takes a month from a person
// checks it here, so all of them agree on the range.
type Months struct {
	// First is the organisation's first month (see firstMonth); earlier
	// months count as closed. While the desk and the books are empty it is
	// newBooksLookback months back.
	First string
	Now   string // the current month in Loc
	Loc   *time.Location
	// begun is the first month the books and the desk hold, "" before
	// anything: new books may close any ended month in range first.
	begun string
}

// LoadMonths reads the calendar at now in loc, the organisation's time
// zone (units.Organisation.Location, resolved once by the caller).
func LoadMonths(ctx context.Context, idb bun.IDB, loc *time.Location, now time.Time) (Months, error) {
	first, err := firstMonth(ctx, idb, loc)
	if err != nil {
		return Months{}, err
	}
	m := Months{First: first, Now: MonthOf(now, loc), Loc: loc, begun: first}
	switch {
	case m.First == "":
		m.First = addMonths(m.Now, -newBooksLookback)
	case m.First > m.Now:
		m.First = m.Now
	}
	return m, nil
}

// ForPosting checks the month of an item that posts now (an adjustment):
// from the first month to the current one; nothing posts into the future.
func (m Months) ForPosting(field, month string) error {
	return m.check(field, month, m.First, m.Now)
}

// ForBudget checks a budget's month: from the first month to budgetHorizon
// months ahead, as budgets are planned in advance.
func (m Months) ForBudget(field, month string) error {
	return m.check(field, month, m.First, addMonths(m.Now, budgetHorizon))
}

// ForRun checks the month of a billing run: one that has begun.
func (m Months) ForRun(field, month string) error {
	if err := CheckMonth(month); err != nil {
		return err
	}
	if month > m.Now {
		return fault.Invalid(field, "%s has not begun", month).With("max", m.Now)
	}
	return nil
}

// ForPeriod checks the month of a period move: one that has ended, from
// the first month on (earlier ones count as closed).
func (m Months) ForPeriod(field, month string) error {
	if err := CheckMonth(month); err != nil {
		return err
	}
	last := addMonths(m.Now, -1)
	if month > last {
		return fault.Invalid(field, "%s has not ended", month).With("min", m.First).With("max", last)
	}
	if month < m.First {
		return fault.Invalid(field, "%s is before the first month of the books, %s; it counts as closed", month, m.First).
			With("min", m.First).With("max", last)
	}
	return nil
}

func (m Months) check(field, month, min, max string) error {
	if err := CheckMonth(month); err != nil {
		return err
	}
	if month < min || month > max {
		return fault.Invalid(field, "%s is outside the months allowed here, %s to %s", month, min, max).
			With("min", min).With("max", max)
	}
	return nil
}

func addMonths(month string, n int) string {
	t, _ := time.Parse("2006-01", month)
	return t.AddDate(0, n, 0).Format("2006-01")
}

// firstMonth is the organisation's first month: the earliest of the month
// (in loc) its first request was filed, its first journal entry's period
// and the first period finance moved; "" while there is none of these. It
// does not move later (none of them is ever deleted) and no operation moves
// it earlier: a request is filed now, every item dated in a month follows
// its request (a charge, a subscription's month), and what a person dates
// (an adjustment, a budget, a period move) is checked against it. Each
// lookup reads the first row of an index.
func firstMonth(ctx context.Context, idb bun.IDB, loc *time.Location) (string, error) {
	var filed []time.Time
	if err := idb.NewSelect().Table("requests").Column("created_at").OrderExpr("created_at").Limit(1).Scan(ctx, &filed); err != nil {
		return "", fmt.Errorf("first request: %w", err)
	}
	var months []string
	if err := idb.NewRaw(`SELECT MIN(period) FROM journal_entries HAVING MIN(period) IS NOT NULL
		UNION ALL SELECT MIN(month) FROM periods HAVING MIN(month) IS NOT NULL`).Scan(ctx, &months); err != nil {
		return "", fmt.Errorf("first month of the books: %w", err)
	}
	if len(filed) > 0 {
		months = append(months, MonthOf(filed[0], loc))
	}
	first := ""
	for _, m := range months {
		if first == "" || m < first {
			first = m
		}
	}
	return first, nil
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
	open, err := earliestOpen(ctx, idb, month)
	if err != nil || open == month {
		return open, "", err
	}
	return open, month, nil
}

// earliestOpen is the first month from from on that is not closed. A
// month is closed by its row, and a month without a row is closed when a
// later month is: periods close in order, so a month never touched before
// a closed one was closed with it. (Rows still open or in review before a
// closed month, left by the old out-of-order closes, keep their status.)
// Months before the organisation's first month count as closed as well,
// but nothing is dated there, the first month being the earliest of what
// the books and the desk hold, so posting need not look it up.
func earliestOpen(ctx context.Context, idb bun.IDB, from string) (string, error) {
	var last sql.NullString
	if err := idb.NewRaw("SELECT MAX(month) FROM periods WHERE status = ?", PeriodClosed).Scan(ctx, &last); err != nil {
		return "", fmt.Errorf("latest closed period: %w", err)
	}
	if !last.Valid || from > last.String {
		return from, nil
	}
	var open sql.NullString
	if err := idb.NewRaw("SELECT MIN(month) FROM periods WHERE month >= ? AND month <= ? AND status <> ?", from, last.String, PeriodClosed).
		Scan(ctx, &open); err != nil {
		return "", fmt.Errorf("earliest open period from %s: %w", from, err)
	}
	if open.Valid {
		return open.String, nil
	}
	return NextMonth(last.String), nil
}

// earlierMonthsClosed refuses a move of month while an earlier month of
// the books is still open or in review, naming it.
func earlierMonthsClosed(ctx context.Context, tx bun.Tx, months Months, month string) error {
	if months.begun == "" {
		return nil
	}
	open, err := earliestOpen(ctx, tx, months.begun)
	if err != nil || month <= open {
		return err
	}
	earlier, err := GetPeriod(ctx, tx, open)
	if err != nil {
		return err
	}
	if earlier.Status == PeriodReview {
		return fault.Conflict("earlier_period_open", "%s is still in review; close it first", open).With("period", open)
	}
	return fault.Conflict("earlier_period_open", "%s is still open; close it first", open).With("period", open)
}

// MovePeriod takes a period from open to review or from open/review to
// closed. A month moves only once it has ended in the organisation's time
// zone, and only after every earlier month is closed: review is the step
// before closing, so months are reviewed in the order they close.
// Closing is refused while charges of the month are disputed. Only finance
// moves periods (Viewer.MayMovePeriod). loc is the organisation's zone.
func MovePeriod(ctx context.Context, tx bun.Tx, v Viewer, month, action string, loc *time.Location, now time.Time) (*Period, error) {
	if err := v.MayMovePeriod(); err != nil {
		return nil, audit.Refuse(v.UserID, "period", month, action, nil, err)
	}
	actorID := v.UserID
	months, err := LoadMonths(ctx, tx, loc, now)
	if err != nil {
		return nil, err
	}
	if err := months.ForPeriod("month", month); err != nil {
		return nil, err
	}
	// Asked before lockPeriod gives the month a row of its own.
	open, err := earliestOpen(ctx, tx, month)
	if err != nil {
		return nil, err
	}
	// Closing waits for every posting that holds the month and keeps new
	// ones out until it commits.
	before, err := lockPeriod(ctx, tx, month, now, true)
	if err != nil {
		return nil, err
	}
	if open != month { // closed without a row of its own, as a later month is
		before.Status = PeriodClosed
	}
	after := *before
	switch {
	case action == "review" && before.Status == PeriodOpen:
		if err := earlierMonthsClosed(ctx, tx, months, month); err != nil {
			return nil, err
		}
		after.Status = PeriodReview
	case action == "close" && before.Status != PeriodClosed:
		if err := earlierMonthsClosed(ctx, tx, months, month); err != nil {
			return nil, err
		}
		disputed, err := openDisputes(ctx, tx, month)
		if err != nil {
			return nil, err
		}
		if len(disputed) > 0 {
			return nil, fault.Conflict("open_disputes", "period %s has %d open disputes; settle them before closing", month, len(disputed)).
				With("dispute_ids", disputed)
		}
		closedAt, err := closingTime(ctx, tx, month, now)
		if err != nil {
			return nil, err
		}
		after.Status, after.ClosedAt = PeriodClosed, &closedAt
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
	if err := tellReview(ctx, tx, &after, actorID, now); err != nil {
		return nil, err
	}
	return &after, nil
}

// lockPeriod makes sure the period row exists and holds a lock on it until
// the transaction ends: shared for a posting (postings run side by side),
// exclusive for a move (it waits for the postings and they for it). On
// PostgreSQL that is SELECT ... FOR SHARE / FOR UPDATE; SQLite's write
// transaction already excludes every other writer. A posting that finds
// the row missing creates it; a concurrent creator makes ON CONFLICT wait
// for its commit, so the lock is always taken on the committed row.
func lockPeriod(ctx context.Context, tx bun.Tx, month string, now time.Time, exclusive bool) (*Period, error) {
	p := &Period{Month: month, Status: PeriodOpen, ChangedAt: now}
	if _, err := tx.NewInsert().Model(p).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("create period %s: %w", month, err)
	}
	q := tx.NewSelect().Model(p).Where("month = ?", month)
	if tx.Dialect().Name() == dialect.PG {
		if exclusive {
			q = q.For("UPDATE")
		} else {
			q = q.For("SHARE")
		}
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("lock period %s: %w", month, err)
	}
	return p, nil
}

// closingTime stamps a close that holds the month's lock: now, or the
// latest entry of the month if that is later. A posting that held the month
// before the close committed into it; its clock was read before its
// transaction, as the close's was, so it may be later than now, and the
// close takes effect only after it.
func closingTime(ctx context.Context, tx bun.Tx, month string, now time.Time) (time.Time, error) {
	var latest []time.Time
	if err := tx.NewSelect().Table("journal_entries").Column("created_at").Where("period = ?", month).
		OrderExpr("created_at DESC").Limit(1).Scan(ctx, &latest); err != nil {
		return time.Time{}, fmt.Errorf("latest entry of %s: %w", month, err)
	}
	if len(latest) > 0 && latest[0].After(now) {
		return latest[0], nil
	}
	return now, nil
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
