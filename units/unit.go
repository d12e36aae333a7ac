// Package units holds the organisation's structure: units (cost centers in a
// tree), users, and the roles users hold in units and in the organisation.
package units

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// Budget and chargeback modes of a unit.
const (
	BudgetSoft       = "soft"
	BudgetHard       = "hard"
	ModeChargeback   = "chargeback"
	ModeShowback     = "showback"
	maxUnitNameRunes = 200
)

var unitCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{0,31}$`)

// Unit is a cost center: it orders services, may provide them, and is billed.
type Unit struct {
	bun.BaseModel `bun:"table:units"`

	ID                     int64     `bun:"id,pk,autoincrement"`
	Code                   string    `bun:"code"`
	Name                   string    `bun:"name"`
	ParentID               *int64    `bun:"parent_id"`
	ApprovalThresholdMinor int64     `bun:"approval_threshold_minor"`
	BudgetMode             string    `bun:"budget_mode"`
	ChargebackMode         string    `bun:"chargeback_mode"`
	Archived               bool      `bun:"archived"`
	CreatedAt              time.Time `bun:"created_at"`
	UpdatedAt              time.Time `bun:"updated_at"`
}

// UnitChange holds the fields to set on a unit; nil fields stay as they are.
// SetParent distinguishes "move to the top" (ParentID nil) from "keep".
type UnitChange struct {
	Code                   *string
	Name                   *string
	SetParent              bool
	ParentID               *int64
	ApprovalThresholdMinor *int64
	BudgetMode             *string
	ChargebackMode         *string
	Archived               *bool
}

// CreateUnit validates and stores a new unit.
func CreateUnit(ctx context.Context, tx bun.Tx, actorID int64, u Unit) (*Unit, error) {
	if u.BudgetMode == "" {
		u.BudgetMode = BudgetSoft
	}
	if u.ChargebackMode == "" {
		u.ChargebackMode = ModeChargeback
	}
	u.Code = strings.ToUpper(strings.TrimSpace(u.Code))
	if err := validateUnit(&u); err != nil {
		return nil, err
	}
	if u.ParentID != nil {
		parent, err := GetUnit(ctx, tx, *u.ParentID)
		if err != nil {
			return nil, invalidParent(err)
		}
		if parent.Archived {
			return nil, fault.Invalid("parent_id", "parent unit %s is archived", parent.Code)
		}
	}
	now := time.Now().UTC()
	u.ID, u.Archived, u.CreatedAt, u.UpdatedAt = 0, false, now, now
	if _, err := tx.NewInsert().Model(&u).Returning("id").Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, duplicateCode(u.Code)
		}
		return nil, fmt.Errorf("create unit %s: %w", u.Code, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "unit",
		ObjectID: strconv.FormatInt(u.ID, 10), Action: "create", After: u}); err != nil {
		return nil, err
	}
	// The tree changed, so inherited manager rights must be recomputed.
	return &u, bumpPolicyVersion(ctx, tx)
}

// UpdateUnit applies change to the unit id, refusing a parent that would make
// the unit its own ancestor.
func UpdateUnit(ctx context.Context, d *db.DB, tx bun.Tx, actorID, id int64, change UnitChange) (*Unit, error) {
	if change.SetParent && d.Engine == db.Postgres {
		// Two concurrent moves could each pass the cycle check and together
		// form a loop; moves are rare, so they take turns.
		if _, err := tx.ExecContext(ctx, "LOCK TABLE units IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return nil, fmt.Errorf("lock units: %w", err)
		}
	}
	before, err := GetUnit(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	u := *before
	applyUnitChange(&u, change)
	if err := validateUnit(&u); err != nil {
		return nil, err
	}
	if change.SetParent && u.ParentID != nil {
		if err := checkNewParent(ctx, tx, u.ID, *u.ParentID); err != nil {
			return nil, err
		}
	}
	if u.Archived && !before.Archived {
		var children int
		if err := tx.NewSelect().Table("units").ColumnExpr("COUNT(*)").
			Where("parent_id = ? AND archived = ?", id, false).Scan(ctx, &children); err != nil {
			return nil, fmt.Errorf("count child units: %w", err)
		}
		if children > 0 {
			return nil, fault.Conflict("unit_has_children", "unit %s still has %d active child units; archive or move them first", u.Code, children)
		}
	}
	u.UpdatedAt = time.Now().UTC()
	if _, err := tx.NewUpdate().Model(&u).WherePK().Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, duplicateCode(u.Code)
		}
		return nil, fmt.Errorf("update unit %d: %w", id, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "unit",
		ObjectID: strconv.FormatInt(id, 10), Action: "update", Before: before, After: u}); err != nil {
		return nil, err
	}
	if change.SetParent || u.Archived != before.Archived {
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

func applyUnitChange(u *Unit, c UnitChange) {
	if c.Code != nil {
		u.Code = strings.ToUpper(strings.TrimSpace(*c.Code))
	}
	if c.Name != nil {
		u.Name = *c.Name
	}
	if c.SetParent {
		u.ParentID = c.ParentID
	}
	if c.ApprovalThresholdMinor != nil {
		u.ApprovalThresholdMinor = *c.ApprovalThresholdMinor
	}
	if c.BudgetMode != nil {
		u.BudgetMode = *c.BudgetMode
	}
	if c.ChargebackMode != nil {
		u.ChargebackMode = *c.ChargebackMode
	}
	if c.Archived != nil {
		u.Archived = *c.Archived
	}
}

// checkNewParent refuses a parent that is the unit itself, one of its
// descendants, archived, or missing.
func checkNewParent(ctx context.Context, tx bun.Tx, id, parentID int64) error {
	if parentID == id {
		return fault.Invalid("parent_id", "a unit cannot be its own parent")
	}
	parent, err := GetUnit(ctx, tx, parentID)
	if err != nil {
		return invalidParent(err)
	}
	if parent.Archived {
		return fault.Invalid("parent_id", "parent unit %s is archived", parent.Code)
	}
	ancestors, err := Ancestors(ctx, tx, parentID)
	if err != nil {
		return err
	}
	for _, a := range ancestors {
		if a == id {
			return fault.Invalid("parent_id", "unit %s is below this unit; a unit cannot become its own ancestor", parent.Code)
		}
	}
	return nil
}

// Ancestors returns the parent chain of unit id, nearest first.
func Ancestors(ctx context.Context, idb bun.IDB, id int64) ([]int64, error) {
	var chain []int64
	current := id
	for depth := 0; ; depth++ {
		if depth > 1000 {
			return nil, fmt.Errorf("unit %d: parent chain longer than 1000, the tree is corrupt", id)
		}
		var parent sql.NullInt64
		err := idb.NewSelect().Table("units").Column("parent_id").Where("id = ?", current).Scan(ctx, &parent)
		if err != nil {
			return nil, fmt.Errorf("read parent of unit %d: %w", current, err)
		}
		if !parent.Valid {
			return chain, nil
		}
		chain = append(chain, parent.Int64)
		current = parent.Int64
	}
}

// GetUnit returns one unit or a not-found fault.
func GetUnit(ctx context.Context, idb bun.IDB, id int64) (*Unit, error) {
	u := new(Unit)
	if err := idb.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("unit")
		}
		return nil, fmt.Errorf("get unit %d: %w", id, err)
	}
	return u, nil
}

// UnitFilter selects units for ListUnits.
type UnitFilter struct {
	IncludeArchived bool
	AfterID         int64
	Limit           int
}

// ListUnits returns units ordered by id, after the cursor.
func ListUnits(ctx context.Context, idb bun.IDB, f UnitFilter) ([]Unit, error) {
	var list []Unit
	q := idb.NewSelect().Model(&list).Where("id > ?", f.AfterID).OrderExpr("id ASC").Limit(int64(f.Limit))
	if !f.IncludeArchived {
		q = q.Where("archived = ?", false)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return list, nil
}

// GetUnitByCode returns the unit with the given cost-center code.
func GetUnitByCode(ctx context.Context, idb bun.IDB, code string) (*Unit, error) {
	u := new(Unit)
	if err := idb.NewSelect().Model(u).Where("code = ?", strings.ToUpper(code)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("unit")
		}
		return nil, fmt.Errorf("get unit %s: %w", code, err)
	}
	return u, nil
}

func validateUnit(u *Unit) error {
	if !unitCode.MatchString(u.Code) {
		return fault.Invalid("code", "code must be 1–32 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := fault.Text("name", u.Name, 1, maxUnitNameRunes, false); err != nil {
		return err
	}
	if strings.TrimSpace(u.Name) == "" {
		return fault.Invalid("name", "name is required")
	}
	if u.ApprovalThresholdMinor < 0 {
		return fault.Invalid("approval_threshold", "approval threshold cannot be negative")
	}
	if u.BudgetMode != BudgetSoft && u.BudgetMode != BudgetHard {
		return fault.Invalid("budget_mode", "budget_mode must be soft or hard")
	}
	if u.ChargebackMode != ModeChargeback && u.ChargebackMode != ModeShowback {
		return fault.Invalid("chargeback_mode", "chargeback_mode must be chargeback or showback")
	}
	return nil
}

func duplicateCode(code string) error {
	return fault.Conflict("duplicate_code", "a unit with code %s already exists", code).With("field", "code")
}

func invalidParent(err error) error {
	if fault.Is(err, fault.KindNotFound) {
		return fault.Invalid("parent_id", "parent unit does not exist")
	}
	return err
}
