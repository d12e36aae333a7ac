package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
)

// Adjustment statuses.
const (
	AdjustmentPending  = "pending"
	AdjustmentPosted   = "posted"
	AdjustmentRejected = "rejected"
)

// Adjustment is a manual movement of money by finance from one unit to
// another: the debit unit pays, the credit unit receives.
type Adjustment struct {
	bun.BaseModel `bun:"table:adjustments,alias:a"`

	ID           int64      `bun:"id,pk,autoincrement"`
	DebitUnitID  int64      `bun:"debit_unit_id"`
	CreditUnitID int64      `bun:"credit_unit_id"`
	AmountMinor  int64      `bun:"amount_minor"`
	Currency     string     `bun:"currency"`
	Month        string     `bun:"month"`
	Reason       string     `bun:"reason"`
	Status       string     `bun:"status"`
	CreatedBy    int64      `bun:"created_by"`
	DecidedBy    *int64     `bun:"decided_by"`
	DecidedAt    *time.Time `bun:"decided_at"`
	EntryID      *int64     `bun:"entry_id"`
	CreatedAt    time.Time  `bun:"created_at"`
}

// adjustmentDecision is what the audit trail keeps of an approval or a
// rejection: the adjustment after it and the checker's note.
type adjustmentDecision struct {
	Adjustment
	Note string
}

// GetAdjustment returns one adjustment.
func GetAdjustment(ctx context.Context, idb bun.IDB, id int64) (*Adjustment, error) {
	a := new(Adjustment)
	if err := idb.NewSelect().Model(a).Where("a.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("adjustment")
		}
		return nil, fmt.Errorf("get adjustment %d: %w", id, err)
	}
	return a, nil
}

// ListAdjustments returns adjustments, optionally only those with status,
// in id order after the cursor.
func ListAdjustments(ctx context.Context, idb bun.IDB, status string, afterID int64, limit int) ([]Adjustment, error) {
	var rows []Adjustment
	q := idb.NewSelect().Model(&rows).Where("a.id > ?", afterID).OrderExpr("a.id").Limit(int64(limit))
	if status != "" {
		q = q.Where("a.status = ?", status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list adjustments: %w", err)
	}
	return rows, nil
}

// CreateAdjustment records a manual adjustment. Up to approvalLimitMinor it
// posts at once; above it, it waits as pending for a second finance user
// (maker-checker). Only finance records one (Viewer.MayCreateAdjustment).
func CreateAdjustment(ctx context.Context, tx bun.Tx, v Viewer, a Adjustment, approvalLimitMinor int64, loc *time.Location, now time.Time) (*Adjustment, error) {
	if err := v.MayCreateAdjustment(); err != nil {
		return nil, audit.Refuse(v.UserID, "adjustment", "", "create", a, err)
	}
	actorID := v.UserID
	a.Reason = strings.TrimSpace(a.Reason)
	if err := checkAdjustment(ctx, tx, &a, loc, now); err != nil {
		return nil, err
	}
	a.ID, a.CreatedBy, a.CreatedAt = 0, actorID, now
	a.DecidedBy, a.DecidedAt, a.EntryID = nil, nil, nil
	a.Status = AdjustmentPending
	if a.AmountMinor <= approvalLimitMinor {
		a.Status = AdjustmentPosted
	}
	if _, err := tx.NewInsert().Model(&a).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("record adjustment: %w", err)
	}
	if a.Status == AdjustmentPosted {
		if err := postAdjustment(ctx, tx, actorID, &a, now); err != nil {
			return nil, err
		}
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "adjustment", ObjectID: strconv.FormatInt(a.ID, 10),
		Action: "create", After: a}); err != nil {
		return nil, err
	}
	if a.Status == AdjustmentPending {
		if err := tellAdjustment(ctx, tx, &a, now); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// DecideAdjustment approves (and posts) or rejects a pending adjustment.
// Nobody approves their own adjustment; its maker may still reject it,
// which withdraws it. The status condition on the update makes concurrent
// decisions race on one row, so fifty approvals post once. Only finance
// decides (Viewer.MayDecideAdjustment).
func DecideAdjustment(ctx context.Context, tx bun.Tx, v Viewer, id int64, action, note string, now time.Time) (*Adjustment, error) {
	if err := v.MayDecideAdjustment(); err != nil {
		return nil, audit.Refuse(v.UserID, "adjustment", strconv.FormatInt(id, 10), action, nil, err)
	}
	actorID := v.UserID
	note = strings.TrimSpace(note)
	if err := fault.Text("note", note, 0, 2000, true); err != nil {
		return nil, err
	}
	before, err := GetAdjustment(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	a := *before
	switch action {
	case "approve":
		a.Status = AdjustmentPosted
	case "reject":
		if note == "" {
			return nil, fault.Invalid("note", "say why the adjustment is rejected")
		}
		a.Status = AdjustmentRejected
	default:
		return nil, fault.Invalid("action", "action must be approve or reject")
	}
	if before.Status != AdjustmentPending {
		return nil, adjustmentDecided(before)
	}
	if action == "approve" {
		if before.CreatedBy == actorID {
			return nil, &fault.Error{Kind: fault.KindForbidden, Code: "self_approval",
				Message: "a second finance user must approve this adjustment; nobody approves their own"}
		}
		// A unit archived while the adjustment waited takes no new postings.
		for _, unitID := range []int64{a.DebitUnitID, a.CreditUnitID} {
			if u, err := units.GetUnit(ctx, tx, unitID); err != nil {
				return nil, err
			} else if u.Archived {
				return nil, fault.Conflict("unit_archived", "unit %s was archived; reject this adjustment instead", u.Code)
			}
		}
	}
	a.DecidedBy, a.DecidedAt = &actorID, &now
	res, err := tx.NewUpdate().Model(&a).Column("status", "decided_by", "decided_at").
		Where("a.id = ? AND a.status = ?", a.ID, AdjustmentPending).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("decide adjustment %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		current, err := GetAdjustment(ctx, tx, a.ID)
		if err != nil {
			return nil, err
		}
		return nil, adjustmentDecided(current)
	}
	if a.Status == AdjustmentPosted {
		if err := postAdjustment(ctx, tx, actorID, &a, now); err != nil {
			return nil, err
		}
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "adjustment", ObjectID: strconv.FormatInt(a.ID, 10),
		Action: action, Before: before, After: adjustmentDecision{Adjustment: a, Note: note}}); err != nil {
		return nil, err
	}
	return &a, nil
}

func adjustmentDecided(a *Adjustment) error {
	return fault.Conflict("adjustment_decided", "adjustment %d is already %s", a.ID, fault.Term{Group: "adjustment.status", Name: string(a.Status)}).With("status", a.Status)
}

// checkAdjustment validates what the maker asked for; loc is the
// organisation's zone, in which the months are counted.
func checkAdjustment(ctx context.Context, idb bun.IDB, a *Adjustment, loc *time.Location, now time.Time) error {
	if err := fault.Text("reason", a.Reason, 1, 2000, true); err != nil {
		return err
	}
	if a.AmountMinor <= 0 {
		return fault.Invalid("amount", "amount must be more than zero")
	}
	if err := (money.Money{Minor: a.AmountMinor, Currency: a.Currency}).Validate(); err != nil {
		return err
	}
	months, err := LoadMonths(ctx, idb, loc, now)
	if err != nil {
		return err
	}
	if err := months.ForPosting("month", a.Month); err != nil {
		return err
	}
	if a.DebitUnitID == a.CreditUnitID {
		return fault.Invalid("credit_unit_id", "the debit and the credit unit must differ")
	}
	for _, side := range []struct {
		field string
		id    int64
	}{{"debit_unit_id", a.DebitUnitID}, {"credit_unit_id", a.CreditUnitID}} {
		u, err := units.GetUnit(ctx, idb, side.id)
		if fault.Is(err, fault.KindNotFound) {
			return fault.Invalid(side.field, "no such unit")
		}
		if err != nil {
			return err
		}
		if u.Archived {
			return fault.Invalid(side.field, "unit %s is archived", u.Code)
		}
	}
	return nil
}

// postAdjustment writes the adjustment's entry, into its month or the
// earliest open one after it, and links it.
func postAdjustment(ctx context.Context, tx bun.Tx, actorID int64, a *Adjustment, now time.Time) error {
	// An adjustment names no service: the organisation's default accounts,
	// the debited unit's expense and the credited unit's recovery.
	expense, recovery, err := glAccounts(ctx, tx, DefaultGLService)
	if err != nil {
		return err
	}
	entry, _, err := Post(ctx, tx, Entry{Key: fmt.Sprintf("adjustment:%d", a.ID), Month: a.Month, Date: entryDate(a.Month, now),
		Kind: "adjustment", Memo: fmt.Sprintf("adjustment %d: %s", a.ID, a.Reason), Currency: a.Currency, CreatedBy: actorID,
		Lines: chargeLines(a.DebitUnitID, a.CreditUnitID, a.AmountMinor, expense, recovery)}, now)
	if err != nil {
		return err
	}
	a.EntryID = &entry.ID
	if _, err := tx.NewUpdate().Model(a).Column("entry_id").Where("a.id = ?", a.ID).Exec(ctx); err != nil {
		return fmt.Errorf("link adjustment %d to its entry: %w", a.ID, err)
	}
	return nil
}

// entryDate dates an entry of month: today when today (UTC) is in the
// month, else the month's nearest day to today.
func entryDate(month string, now time.Time) string {
	first, _ := time.Parse("2006-01", month)
	last := first.AddDate(0, 1, -1)
	today := now.UTC().Format("2006-01-02")
	switch {
	case today < first.Format("2006-01-02"):
		return first.Format("2006-01-02")
	case today > last.Format("2006-01-02"):
		return last.Format("2006-01-02")
	}
	return today
}
