package billing

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/uptrace/bun"
)

// Movement kinds: what a statement lists besides its charges.
const (
	MovementCredit     = "credit"     // an accepted dispute's credit
	MovementAdjustment = "adjustment" // finance's manual adjustment
)

// Movement is a journal entry booked in a statement's month that is not a
// charge: a dispute credit (on either side) or an adjustment (on the
// consumer side, which shows both what the unit was debited and what it
// was credited). AmountMinor is signed as the statement counts it: what
// the unit pays on its statement, what it recovers on its recovery view;
// a credit is negative on both sides.
type Movement struct {
	EntryID     int64
	Kind        string
	SourceID    int64  // the dispute's or the adjustment's id
	ChargeID    *int64 // the credited charge; nil for an adjustment
	Period      string // the month it is booked in: the statement's
	LateFrom    *string
	Date        string
	Reason      string // the dispute's reason and finance's note, or the adjustment's reason
	AmountMinor int64
	Currency    string
	Showback    bool // a credit of a showback charge: shown, never billed
}

// StatementMovements returns the credits and adjustments booked in month
// that move the unit on side, in entry order. A credit settled after its
// charge's month was closed is booked, late, in a later month: it is on
// that month's statement, where it moves the books.
func StatementMovements(ctx context.Context, idb bun.IDB, side Side, unitID int64, month string) ([]Movement, error) {
	var out []Movement
	rows, err := idb.QueryContext(ctx, `SELECT e.id, d.id, c.id, e.period, e.late_from, e.entry_date, d.reason, d.note,
		d.credit_minor, c.currency, c.showback
		FROM disputes d
		JOIN charges c ON c.id = d.charge_id
		JOIN journal_entries e ON e.id = d.entry_id
		WHERE e.period = ? AND `+side.column()+` = ?
		ORDER BY e.id`, month, unitID)
	if err != nil {
		return nil, fmt.Errorf("credits of unit %d in %s: %w", unitID, month, err)
	}
	for rows.Next() {
		m := Movement{Kind: MovementCredit}
		var chargeID int64
		var lateFrom sql.NullString
		var reason, note string
		if err := rows.Scan(&m.EntryID, &m.SourceID, &chargeID, &m.Period, &lateFrom, &m.Date, &reason, &note,
			&m.AmountMinor, &m.Currency, &m.Showback); err != nil {
			rows.Close()
			return nil, fmt.Errorf("credits of unit %d in %s: %w", unitID, month, err)
		}
		m.ChargeID, m.AmountMinor, m.Reason = &chargeID, -m.AmountMinor, reason
		if note != "" {
			m.Reason += " — " + note
		}
		if lateFrom.Valid {
			m.LateFrom = &lateFrom.String
		}
		out = append(out, m)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("credits of unit %d in %s: %w", unitID, month, err)
	}
	if side == ConsumerSide {
		adjustments, err := adjustmentMovements(ctx, idb, unitID, month)
		if err != nil {
			return nil, err
		}
		out = append(out, adjustments...)
		sort.SliceStable(out, func(i, j int) bool { return out[i].EntryID < out[j].EntryID })
	}
	return out, nil
}

func adjustmentMovements(ctx context.Context, idb bun.IDB, unitID int64, month string) ([]Movement, error) {
	var rows []struct {
		EntryID  int64          `bun:"entry_id"`
		ID       int64          `bun:"id"`
		Period   string         `bun:"period"`
		LateFrom sql.NullString `bun:"late_from"`
		Date     string         `bun:"entry_date"`
		Reason   string         `bun:"reason"`
		Amount   int64          `bun:"amount"`
		Currency string         `bun:"currency"`
	}
	if err := idb.NewRaw(`SELECT e.id AS entry_id, a.id, e.period, e.late_from, e.entry_date, a.reason,
		CASE WHEN a.debit_unit_id = ? THEN a.amount_minor ELSE -a.amount_minor END AS amount, a.currency
		FROM adjustments a JOIN journal_entries e ON e.id = a.entry_id
		WHERE e.period = ? AND (a.debit_unit_id = ? OR a.credit_unit_id = ?)
		ORDER BY e.id`, unitID, month, unitID, unitID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("adjustments of unit %d in %s: %w", unitID, month, err)
	}
	out := make([]Movement, 0, len(rows))
	for _, r := range rows {
		m := Movement{EntryID: r.EntryID, Kind: MovementAdjustment, SourceID: r.ID, Period: r.Period, Date: r.Date,
			Reason: r.Reason, AmountMinor: r.Amount, Currency: r.Currency}
		if r.LateFrom.Valid {
			m.LateFrom = &r.LateFrom.String
		}
		out = append(out, m)
	}
	return out, nil
}
