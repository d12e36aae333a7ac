package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/units"
)

// UnitTotals is one unit's part of a roll-up.
type UnitTotals struct {
	UnitID   int64
	UnitCode string
	UnitName string
	ParentID *int64
	Totals   StatementTotals
}

// RollUp sums one side of the statements of a unit and every unit below it
// for month: the unit's own totals first, then a subtotal per descendant,
// parents before their children, and the sum of them all. Archived units
// are included: their past months still count.
func RollUp(ctx context.Context, idb bun.IDB, side Side, unitID int64, month, currency string) ([]UnitTotals, StatementTotals, error) {
	var all []units.Unit
	if err := idb.NewSelect().Model(&all).OrderExpr("id").Scan(ctx); err != nil {
		return nil, StatementTotals{}, fmt.Errorf("units below %d: %w", unitID, err)
	}
	children := map[int64][]units.Unit{}
	var root *units.Unit
	for i := range all {
		u := all[i]
		if u.ID == unitID {
			root = &all[i]
		}
		if u.ParentID != nil {
			children[*u.ParentID] = append(children[*u.ParentID], u)
		}
	}
	if root == nil {
		return nil, StatementTotals{}, fmt.Errorf("roll-up: no unit %d", unitID)
	}
	order := []units.Unit{*root}
	for i := 0; i < len(order); i++ {
		order = append(order, children[order[i].ID]...)
	}
	out := make([]UnitTotals, 0, len(order))
	total := StatementTotals{Currency: currency}
	for _, u := range order {
		t, err := SumStatement(ctx, idb, side, u.ID, month, currency)
		if err != nil {
			return nil, StatementTotals{}, err
		}
		if t.Currency != total.Currency && (t.Lines != 0 || t.NetMinor != 0 || t.CreditedMinor != 0) {
			return nil, StatementTotals{}, fmt.Errorf("roll-up of unit %d for %s: unit %s in %s, not %s", unitID, month, u.Code, t.Currency, total.Currency)
		}
		out = append(out, UnitTotals{UnitID: u.ID, UnitCode: u.Code, UnitName: u.Name, ParentID: u.ParentID, Totals: t})
		total = total.add(t)
	}
	return out, total, nil
}

// Reconciliation sets a unit's statement and recovery view for a month
// beside what the month moved on its cost center.
type Reconciliation struct {
	Statement StatementTotals
	Recovery  StatementTotals
	// LedgerMinor is the sum of the unit's postings booked in the month,
	// showback included.
	LedgerMinor int64
	// GLMinor is the unit's net in the month's GL journal (JournalLines):
	// debits less credits, showback left out.
	GLMinor int64
}

// Agrees reports whether the statement and the recovery view explain the
// books: statement net less recovery net is the ledger movement, and the
// same without showback is the GL movement.
func (r Reconciliation) Agrees() bool {
	return r.Statement.NetMinor-r.Recovery.NetMinor == r.LedgerMinor &&
		r.Statement.RecoveredMinor()-r.Recovery.RecoveredMinor() == r.GLMinor
}

// Reconcile computes a unit's Reconciliation for month.
func Reconcile(ctx context.Context, idb bun.IDB, unitID int64, month, currency string) (Reconciliation, error) {
	var r Reconciliation
	var err error
	if r.Statement, err = SumStatement(ctx, idb, ConsumerSide, unitID, month, currency); err != nil {
		return r, err
	}
	if r.Recovery, err = SumStatement(ctx, idb, ProviderSide, unitID, month, currency); err != nil {
		return r, err
	}
	if err := idb.NewRaw(`SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM postings p
		JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id
		WHERE a.unit_id = ? AND e.period = ?`, unitID, month).Scan(ctx, &r.LedgerMinor); err != nil {
		return r, fmt.Errorf("ledger movement of unit %d in %s: %w", unitID, month, err)
	}
	u, err := units.GetUnit(ctx, idb, unitID)
	if err != nil {
		return r, err
	}
	for l, err := range JournalLines(ctx, idb, month) {
		if err != nil {
			return r, err
		}
		if l.CostCenter == u.Code {
			r.GLMinor += l.DebitMinor - l.CreditMinor
		}
	}
	return r, nil
}
