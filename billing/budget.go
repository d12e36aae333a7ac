package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
)

// DefaultWarnPct is the share of a budget at which its unit is warned.
const DefaultWarnPct = 80

// Budget is what a unit may spend in one month. A hard budget refuses an
// order that would exceed it; a soft one sends the order to approval.
type Budget struct {
	bun.BaseModel `bun:"table:budgets,alias:b"`

	UnitID      int64      `bun:"unit_id,pk"`
	Month       string     `bun:"month,pk"`
	AmountMinor int64      `bun:"amount_minor"`
	Currency    string     `bun:"currency"`
	WarnPct     int        `bun:"warn_pct"`
	Hard        bool       `bun:"hard"`
	WarnedAt    *time.Time `bun:"warned_at"`
	UpdatedBy   *int64     `bun:"updated_by"`
	UpdatedAt   time.Time  `bun:"updated_at"`
}

// ObjectID names the budget in the audit trail: "<unit id>/<month>".
func (b *Budget) ObjectID() string { return fmt.Sprintf("%d/%s", b.UnitID, b.Month) }

// Use is what a unit has spent or promised of a month's budget so far.
type Use struct {
	// Posted is the unit's net posted movement in the month's period: its
	// charges, less the credits of accepted disputes on them, plus the
	// adjustments it pays, less those it receives.
	Posted int64
	// Committed is the estimates of the unit's requests created in the month
	// that are not fulfilled yet: waiting for approval (an order waiting is
	// already a claim on the budget), approved, or needing no approval.
	Committed int64
	// Pending is the part of Committed that waits for approval.
	Pending int64
}

// Used is Posted plus Committed.
func (u Use) Used() int64 { return u.Posted + u.Committed }

// Remaining is what the budget has left after use (negative when overspent).
func (b *Budget) Remaining(u Use) int64 { return b.AmountMinor - u.Used() }

// Warning reports whether use has reached the warning line: warn_pct of the
// amount, with nothing used never counting.
func (b *Budget) Warning(used int64) bool {
	if used <= 0 {
		return false
	}
	lhs := new(big.Int).Mul(big.NewInt(used), big.NewInt(100))
	rhs := new(big.Int).Mul(big.NewInt(b.AmountMinor), big.NewInt(int64(b.WarnPct)))
	return lhs.Cmp(rhs) >= 0
}

// GetBudget returns the unit's budget for month, or a not-found fault.
func GetBudget(ctx context.Context, idb bun.IDB, unitID int64, month string) (*Budget, error) {
	b := new(Budget)
	err := idb.NewSelect().Model(b).Where("b.unit_id = ? AND b.month = ?", unitID, month).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.NotFound("budget")
	}
	if err != nil {
		return nil, fmt.Errorf("get budget of unit %d for %s: %w", unitID, month, err)
	}
	return b, nil
}

// SetBudget creates or replaces a unit's budget for a month from what b
// asks (UnitID, Month, AmountMinor, Currency, WarnPct, Hard). A changed
// amount or warning line re-arms the warning. Only finance sets budgets
// (Viewer.MaySetBudget).
func SetBudget(ctx context.Context, tx bun.Tx, v Viewer, set Budget, loc *time.Location, now time.Time) (*Budget, error) {
	if err := v.MaySetBudget(set.UnitID); err != nil {
		return nil, audit.Refuse(v.UserID, "budget", set.ObjectID(), "set", set, err)
	}
	actorID, unitID, month, amountMinor, currency, warnPct, hard := v.UserID, set.UnitID, set.Month, set.AmountMinor, set.Currency, set.WarnPct, set.Hard
	months, err := LoadMonths(ctx, tx, loc, now)
	if err != nil {
		return nil, err
	}
	if err := months.ForBudget("month", month); err != nil {
		return nil, err
	}
	if amountMinor < 0 {
		return nil, fault.Invalid("amount", "amount cannot be negative")
	}
	if err := (money.Money{Minor: amountMinor, Currency: currency}).Validate(); err != nil {
		return nil, err
	}
	if warnPct < 1 || warnPct > 100 {
		return nil, fault.Invalid("warn_pct", "warn_pct must be a whole percentage from 1 to 100")
	}
	u, err := units.GetUnit(ctx, tx, unitID)
	if err != nil {
		return nil, err
	}
	if u.Archived {
		return nil, fault.Conflict("unit_archived", "unit %s is archived", u.Code)
	}
	before, err := lockBudget(ctx, tx, unitID, month)
	if err != nil {
		return nil, err
	}
	b := Budget{UnitID: unitID, Month: month, AmountMinor: amountMinor, Currency: currency, WarnPct: warnPct, Hard: hard,
		UpdatedBy: &actorID, UpdatedAt: now}
	action := "create"
	if before != nil {
		action = "update"
		if before.AmountMinor == amountMinor && before.WarnPct == warnPct {
			b.WarnedAt = before.WarnedAt
		}
	}
	_, err = tx.NewInsert().Model(&b).
		On("CONFLICT (unit_id, month) DO UPDATE").
		Set("amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency, warn_pct = EXCLUDED.warn_pct").
		Set("hard = EXCLUDED.hard, warned_at = EXCLUDED.warned_at, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("set budget of unit %d for %s: %w", unitID, month, err)
	}
	change := audit.Change{ActorID: actorID, ObjectType: "budget", ObjectID: b.ObjectID(), Action: action, After: b}
	if before != nil {
		change.Before = before
	}
	if err := audit.Record(ctx, tx, change); err != nil {
		return nil, err
	}
	return &b, nil
}

// lockBudget returns the budget, or nil if there is none, and on PostgreSQL
// holds its row until the transaction ends, so orders against one budget
// take turns (SQLite's write transaction already excludes other writers).
func lockBudget(ctx context.Context, tx bun.Tx, unitID int64, month string) (*Budget, error) {
	if _, err := tx.NewUpdate().Model((*Budget)(nil)).Set("unit_id = unit_id").
		Where("unit_id = ? AND month = ?", unitID, month).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock budget of unit %d for %s: %w", unitID, month, err)
	}
	b, err := GetBudget(ctx, tx, unitID, month)
	if fault.Is(err, fault.KindNotFound) {
		return nil, nil
	}
	return b, err
}

// BudgetUse is what the unit has used of month, in loc (the
// organisation's time zone): its charges posted in the month's period less
// accepted dispute credits on them, plus the adjustments posted into the
// period that debit it less those that credit it; plus the estimates of its
// requests created in the month that wait for approval or are open, in
// progress or waiting on the customer without a charge yet (Committed, of
// which Pending waits for approval). Rejected and cancelled requests commit nothing; fulfilled
// ones count through their charges. Showback charges count like any other.
func BudgetUse(ctx context.Context, idb bun.IDB, unitID int64, month string, loc *time.Location) (Use, error) {
	var use Use
	if err := CheckMonth(month); err != nil {
		return use, err
	}
	err := idb.NewRaw(`SELECT COALESCE(SUM(c.amount_minor), 0) -
			COALESCE((SELECT SUM(d.credit_minor) FROM disputes d JOIN charges dc ON dc.id = d.charge_id
				WHERE d.status = 'accepted' AND dc.consumer_unit_id = ? AND dc.period = ?), 0) +
			COALESCE((SELECT SUM(p.amount_minor) FROM postings p
				JOIN journal_entries je ON je.id = p.entry_id JOIN accounts ac ON ac.id = p.account_id
				WHERE ac.unit_id = ? AND je.period = ? AND je.kind = 'adjustment'), 0)
		FROM charges c WHERE c.consumer_unit_id = ? AND c.period = ?`,
		unitID, month, unitID, month, unitID, month).Scan(ctx, &use.Posted)
	if err != nil {
		return use, fmt.Errorf("posted movement of unit %d in %s: %w", unitID, month, err)
	}
	first, _ := time.ParseInLocation("2006-01", month, loc)
	next := first.AddDate(0, 1, 0)
	err = idb.NewRaw(`SELECT
			COALESCE(SUM(r.estimate_minor), 0),
			COALESCE(SUM(CASE WHEN r.status = 'pending_approval' THEN r.estimate_minor ELSE 0 END), 0)
		FROM requests r
		WHERE r.consumer_unit_id = ? AND r.status IN ('pending_approval', 'open', 'in_progress', 'waiting_on_customer')
		AND r.created_at >= ? AND r.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.request_id = r.id)`,
		unitID, first.UTC(), next.UTC()).Scan(ctx, &use.Committed, &use.Pending)
	if err != nil {
		return use, fmt.Errorf("committed requests of unit %d in %s: %w", unitID, month, err)
	}
	return use, nil
}

// OrderCheck is the verdict of a unit's budget on one more order.
type OrderCheck struct {
	Budget *Budget // nil when the unit has no budget for the month
	Use    Use     // before the order
	// Exceeds is true when the order would take a soft budget over its
	// amount: the order then needs approval.
	Exceeds bool
}

// Note explains an exceeded budget for the request's route event.
func (c OrderCheck) Note(estimate int64) string {
	b := c.Budget
	return fmt.Sprintf("the estimate %s would exceed the unit's budget for %s: %s of %s remaining", c.money(estimate), b.Month,
		c.money(b.Remaining(c.Use)), c.money(b.AmountMinor))
}

func (c OrderCheck) money(minor int64) money.Money {
	return money.Money{Minor: minor, Currency: c.Budget.Currency}
}

// CheckOrder weighs an order of estimateMinor by unitID at now against the
// unit's budget for the month (in loc, the organisation's time zone). A hard budget the order would
// exceed refuses it with budget_exceeded. The first order of the month that
// takes use to the warning line records one "warning" audit event on the
// budget. Call it inside the order's transaction: it holds the budget so
// concurrent orders are weighed one after the other.
func CheckOrder(ctx context.Context, tx bun.Tx, actorID, unitID, estimateMinor int64, loc *time.Location, now time.Time) (OrderCheck, error) {
	month := MonthOf(now, loc)
	// Most units order without a budget: look before taking the lock.
	if _, err := GetBudget(ctx, tx, unitID, month); fault.Is(err, fault.KindNotFound) {
		return OrderCheck{}, nil
	} else if err != nil {
		return OrderCheck{}, err
	}
	b, err := lockBudget(ctx, tx, unitID, month)
	if err != nil || b == nil {
		return OrderCheck{}, err
	}
	use, err := BudgetUse(ctx, tx, unitID, month, loc)
	if err != nil {
		return OrderCheck{}, err
	}
	check := OrderCheck{Budget: b, Use: use}
	after, err := money.Money{Minor: use.Used(), Currency: b.Currency}.Add(money.Money{Minor: estimateMinor, Currency: b.Currency})
	overflowed := err != nil
	// A free order takes nothing from the budget, so it is never refused.
	if estimateMinor > 0 && (overflowed || after.Minor > b.AmountMinor) {
		if b.Hard {
			return check, fault.Conflict("budget_exceeded", "%s; finance must raise the budget first", check.Note(estimateMinor)).
				With("budget", map[string]any{"month": month, "amount": check.money(b.AmountMinor),
					"remaining": check.money(b.Remaining(use)), "hard": true})
		}
		check.Exceeds = true
	}
	if b.WarnedAt == nil && (overflowed || b.Warning(after.Minor)) {
		if err := warnBudget(ctx, tx, actorID, b, use, estimateMinor, now); err != nil {
			return check, err
		}
	}
	return check, nil
}

// warnBudget marks the budget warned and records the warning, once.
func warnBudget(ctx context.Context, tx bun.Tx, actorID int64, b *Budget, use Use, estimateMinor int64, now time.Time) error {
	res, err := tx.NewUpdate().Model((*Budget)(nil)).Set("warned_at = ?", now).
		Where("unit_id = ? AND month = ? AND warned_at IS NULL", b.UnitID, b.Month).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark budget %s warned: %w", b.ObjectID(), err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := tellWarnedBudget(ctx, tx, b, use, estimateMinor, actorID, now); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "budget", ObjectID: b.ObjectID(), Action: "warning",
		After: map[string]any{"amount_minor": b.AmountMinor, "currency": b.Currency, "warn_pct": b.WarnPct,
			"posted_minor": use.Posted, "committed_minor": use.Committed, "order_estimate_minor": estimateMinor}})
}
