package billing

import (
	"context"
	"database/sql"
	"fmt"
	"iter"

	"github.com/uptrace/bun"
)

// Side is whose charges a statement lists.
type Side int

const (
	// ConsumerSide is a consumer unit's statement: what it was charged.
	ConsumerSide Side = iota
	// ProviderSide is a provider unit's recovery view: what it charged.
	ProviderSide
)

func (s Side) column() string {
	if s == ProviderSide {
		return "c.provider_unit_id"
	}
	return "c.consumer_unit_id"
}

// StatementLine is one charge as a statement shows it: the pricing
// snapshot, the request and service it came from, and its dispute.
type StatementLine struct {
	ChargeID         int64
	EntryID          *int64 // the charge's journal entry
	RequestID        *int64
	Title            string // the request's title, else the charge's description
	ServiceID        int64
	ServiceCode      string
	ServiceName      string
	ConsumerUnitID   int64
	ConsumerUnitCode string
	ProviderUnitID   int64
	ProviderUnitCode string
	Period           string
	LateFrom         *string
	Quantity         string
	Minutes          *int64 // an hourly line's billed minutes (see billedMinutes); nil for another kind
	UnitPriceMinor   int64
	AmountMinor      int64
	Currency         string
	Status           string
	Showback         bool
	DisputeID        *int64  // nil when the charge was never disputed
	DisputeStatus    *string // nil when the charge was never disputed
	DisputeEntryID   *int64  // the credit's journal entry, when the dispute was accepted
	CreditMinor      int64   // credited by an accepted dispute
}

// RequestNumber is the request's human reference, or "" for a charge
// without a request.
func (l *StatementLine) RequestNumber() string {
	if l.RequestID == nil {
		return ""
	}
	return fmt.Sprintf("REQ-%06d", *l.RequestID) // requests.Number; billing cannot import requests
}

// NetMinor is what the line costs after its credit.
func (l *StatementLine) NetMinor() int64 { return l.AmountMinor - l.CreditMinor }

// acceptedCredit is a dispute's credit when it was accepted, else 0.
const acceptedCredit = `CASE WHEN d.status = 'accepted' THEN d.credit_minor ELSE 0 END`

// StatementLines streams the charges of a unit's statement for month (its
// consumer side or provider side) in charge order, row by row from the
// database. Stop ranging early and the rows are released; a failed query
// or scan is yielded as the last error.
func StatementLines(ctx context.Context, idb bun.IDB, side Side, unitID int64, month string) iter.Seq2[StatementLine, error] {
	query := `SELECT c.id, c.request_id, COALESCE(r.title, c.description), c.service_id, s.code, s.name,
		c.consumer_unit_id, cu.code, c.provider_unit_id, pu.code, c.period, c.late_from,
		c.quantity, c.unit_price_minor, c.amount_minor, c.currency, c.status, c.showback,
		d.status, ` + acceptedCredit + `, c.entry_id, d.id, d.entry_id, c.source_key
		FROM charges c
		JOIN services s ON s.id = c.service_id
		JOIN units cu ON cu.id = c.consumer_unit_id
		JOIN units pu ON pu.id = c.provider_unit_id
		LEFT JOIN requests r ON r.id = c.request_id
		LEFT JOIN disputes d ON d.charge_id = c.id
		WHERE c.period = ? AND ` + side.column() + ` = ?
		ORDER BY c.id`
	return func(yield func(StatementLine, error) bool) {
		rows, err := idb.QueryContext(ctx, query, month, unitID)
		if err != nil {
			yield(StatementLine{}, fmt.Errorf("statement of unit %d for %s: %w", unitID, month, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var l StatementLine
			var requestID sql.NullInt64
			var lateFrom, disputeStatus sql.NullString
			var entryID, disputeID, disputeEntryID sql.NullInt64
			var sourceKey string
			if err := rows.Scan(&l.ChargeID, &requestID, &l.Title, &l.ServiceID, &l.ServiceCode, &l.ServiceName,
				&l.ConsumerUnitID, &l.ConsumerUnitCode, &l.ProviderUnitID, &l.ProviderUnitCode, &l.Period, &lateFrom,
				&l.Quantity, &l.UnitPriceMinor, &l.AmountMinor, &l.Currency, &l.Status, &l.Showback,
				&disputeStatus, &l.CreditMinor, &entryID, &disputeID, &disputeEntryID, &sourceKey); err != nil {
				yield(StatementLine{}, fmt.Errorf("statement of unit %d for %s: %w", unitID, month, err))
				return
			}
			if requestID.Valid {
				l.RequestID = &requestID.Int64
			}
			if lateFrom.Valid {
				l.LateFrom = &lateFrom.String
			}
			if disputeStatus.Valid {
				l.DisputeStatus = &disputeStatus.String
			}
			l.EntryID, l.DisputeID, l.DisputeEntryID = nullID(entryID), nullID(disputeID), nullID(disputeEntryID)
			l.Minutes = billedMinutes(sourceKey, l.Quantity)
			if !yield(l, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(StatementLine{}, fmt.Errorf("statement of unit %d for %s: %w", unitID, month, err))
		}
	}
}

// StatementTotals sums a statement: the charges of the month, and the
// credits and adjustments booked in it (StatementMovements). Net is charged
// minus credited plus adjusted, which is what the month moves on the unit's
// cost center from this side: a unit's statement net less its recovery net
// is its ledger movement for the month (Reconcile). The showback part of
// it is shown to the unit but never billed, so a provider recovers
// Net - ShowbackNet.
type StatementTotals struct {
	Lines         int64
	ChargedMinor  int64
	CreditedMinor int64 // credits booked in the month, whatever month their charge was in
	AdjustedMinor int64 // adjustments booked in the month, debits less credits; consumer side only
	NetMinor      int64
	ShowbackNet   int64
	Currency      string
}

// RecoveredMinor is what the charges move between cost centers: the net of
// every line that is not showback.
func (t StatementTotals) RecoveredMinor() int64 { return t.NetMinor - t.ShowbackNet }

// add sums two totals of one currency.
func (t StatementTotals) add(o StatementTotals) StatementTotals {
	return StatementTotals{Lines: t.Lines + o.Lines, ChargedMinor: t.ChargedMinor + o.ChargedMinor,
		CreditedMinor: t.CreditedMinor + o.CreditedMinor, AdjustedMinor: t.AdjustedMinor + o.AdjustedMinor,
		NetMinor: t.NetMinor + o.NetMinor, ShowbackNet: t.ShowbackNet + o.ShowbackNet, Currency: t.Currency}
}

// SumStatement computes a statement's totals in the database. currency is
// the organisation's, used when the statement is empty.
func SumStatement(ctx context.Context, idb bun.IDB, side Side, unitID int64, month, currency string) (StatementTotals, error) {
	type part struct {
		Currency string `bun:"currency"`
		Lines    int64  `bun:"lines"`
		Amount   int64  `bun:"amount"`
		Showback int64  `bun:"showback"`
	}
	sum := func(what, query string, args ...any) ([]part, error) {
		var rows []part
		if err := idb.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("%s of unit %d for %s: %w", what, unitID, month, err)
		}
		return rows, nil
	}
	charged, err := sum("charges", `SELECT c.currency AS currency, COUNT(*) AS lines,
		CAST(SUM(c.amount_minor) AS BIGINT) AS amount,
		CAST(SUM(CASE WHEN c.showback THEN c.amount_minor ELSE 0 END) AS BIGINT) AS showback
		FROM charges c WHERE c.period = ? AND `+side.column()+` = ?
		GROUP BY c.currency`, month, unitID)
	if err != nil {
		return StatementTotals{}, err
	}
	credited, err := sum("credits", `SELECT c.currency AS currency, COUNT(*) AS lines,
		CAST(SUM(d.credit_minor) AS BIGINT) AS amount,
		CAST(SUM(CASE WHEN c.showback THEN d.credit_minor ELSE 0 END) AS BIGINT) AS showback
		FROM disputes d JOIN charges c ON c.id = d.charge_id JOIN journal_entries e ON e.id = d.entry_id
		WHERE e.period = ? AND `+side.column()+` = ?
		GROUP BY c.currency`, month, unitID)
	if err != nil {
		return StatementTotals{}, err
	}
	var adjusted []part
	if side == ConsumerSide {
		if adjusted, err = sum("adjustments", `SELECT a.currency AS currency, COUNT(*) AS lines,
			CAST(SUM(CASE WHEN a.debit_unit_id = ? THEN a.amount_minor ELSE -a.amount_minor END) AS BIGINT) AS amount,
			0 AS showback
			FROM adjustments a JOIN journal_entries e ON e.id = a.entry_id
			WHERE e.period = ? AND (a.debit_unit_id = ? OR a.credit_unit_id = ?)
			GROUP BY a.currency`, unitID, month, unitID, unitID); err != nil {
			return StatementTotals{}, err
		}
	}
	t := StatementTotals{Currency: currency}
	seen := map[string]bool{}
	for _, parts := range [][]part{charged, credited, adjusted} {
		for _, p := range parts {
			seen[p.Currency] = true
			t.Currency = p.Currency
		}
	}
	if len(seen) > 1 {
		return StatementTotals{}, fmt.Errorf("totals of unit %d for %s: movements in %d currencies", unitID, month, len(seen))
	}
	for _, p := range charged {
		t.Lines, t.ChargedMinor, t.ShowbackNet = p.Lines, p.Amount, p.Showback
	}
	for _, p := range credited {
		t.CreditedMinor, t.ShowbackNet = p.Amount, t.ShowbackNet-p.Showback
	}
	for _, p := range adjusted {
		t.AdjustedMinor = p.Amount
	}
	t.NetMinor = t.ChargedMinor - t.CreditedMinor + t.AdjustedMinor
	return t, nil
}

func nullID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}
