package billing

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
)

// StatementColumns are the columns of a statement or recovery file.
var StatementColumns = []string{"charge_id", "period", "late_from", "request_number", "title", "service_code", "service_name",
	"consumer_unit", "provider_unit", "quantity", "minutes", "unit_price", "amount", "currency", "status", "showback",
	"dispute_status", "credit", "net"}

// JournalColumns are the columns of the GL journal file.
// Each row traces its posting to its entry, the entry's source and the
// request, and books it to a cost center (the unit's code) and a GL account.
var JournalColumns = []string{"date", "entry_id", "period", "late_from", "source_kind", "source_id", "charge_id",
	"request_number", "service_code", "reverses_entry_id", "credits_entry_id", "cost_center", "gl_account",
	"debit", "credit", "currency", "memo"}

// Row is the line as a row of StatementColumns.
func (l *StatementLine) Row() []export.Cell {
	m := func(minor int64) export.Cell {
		return export.AmountCell(money.Money{Minor: minor, Currency: l.Currency})
	}
	disputeStatus := ""
	if l.DisputeStatus != nil {
		disputeStatus = *l.DisputeStatus
	}
	return []export.Cell{export.IntCell(l.ChargeID), export.TextCell(l.Period), export.TextCell(orEmpty(l.LateFrom)),
		export.TextCell(l.RequestNumber()), export.TextCell(l.Title), export.TextCell(l.ServiceCode), export.TextCell(l.ServiceName),
		export.TextCell(l.ConsumerUnitCode), export.TextCell(l.ProviderUnitCode), export.NumberCell(l.Quantity), idCell(l.Minutes),
		m(l.UnitPriceMinor), m(l.AmountMinor), export.TextCell(l.Currency), export.TextCell(l.Status),
		export.TextCell(strconv.FormatBool(l.Showback)), export.TextCell(disputeStatus), m(l.CreditMinor), m(l.NetMinor())}
}

// WriteStatement writes a statement file: a header, one row per charge as
// it is read from the database (its dispute credit in the credit column),
// one row "adjustment" per adjustment booked in the month (its reason as
// the title, its signed amount as amount and net), and a last row "total"
// with the charged, credited and net totals in the amount, credit and net
// columns, so the rows' nets add up to the total's. It does not close w.
func WriteStatement(ctx context.Context, idb bun.IDB, w export.Writer, side Side, unitID int64, month, currency string) (StatementTotals, error) {
	if err := w.Write(export.Header(StatementColumns...)); err != nil {
		return StatementTotals{}, err
	}
	for line, err := range StatementLines(ctx, idb, side, unitID, month) {
		if err != nil {
			return StatementTotals{}, err
		}
		if err := w.Write(line.Row()); err != nil {
			return StatementTotals{}, err
		}
	}
	movements, err := StatementMovements(ctx, idb, side, unitID, month)
	if err != nil {
		return StatementTotals{}, err
	}
	for _, mv := range movements {
		if mv.Kind != MovementAdjustment {
			continue // a credit is on its charge's row
		}
		amount := export.AmountCell(money.Money{Minor: mv.AmountMinor, Currency: mv.Currency})
		if err := w.Write(statementRow(map[string]export.Cell{"charge_id": export.TextCell("adjustment"),
			"period": export.TextCell(mv.Period), "late_from": export.TextCell(orEmpty(mv.LateFrom)),
			"title": export.TextCell(mv.Reason), "amount": amount, "currency": export.TextCell(mv.Currency), "net": amount})); err != nil {
			return StatementTotals{}, err
		}
	}
	totals, err := SumStatement(ctx, idb, side, unitID, month, currency)
	if err != nil {
		return StatementTotals{}, err
	}
	m := func(minor int64) export.Cell {
		return export.AmountCell(money.Money{Minor: minor, Currency: totals.Currency})
	}
	return totals, w.Write(statementRow(map[string]export.Cell{"charge_id": export.TextCell("total"), "period": export.TextCell(month),
		"amount": m(totals.ChargedMinor), "currency": export.TextCell(totals.Currency), "credit": m(totals.CreditedMinor),
		"net": m(totals.NetMinor)}))
}

// statementRow lays named cells out as a row of StatementColumns; a column
// not named is empty.
func statementRow(cells map[string]export.Cell) []export.Cell {
	row := make([]export.Cell, len(StatementColumns))
	for i, name := range StatementColumns {
		row[i] = cells[name] // the zero Cell is empty text
	}
	return row
}

// WriteJournal writes the GL journal of month: a header and one row per
// posting, as read from the database. It does not close w.
func WriteJournal(ctx context.Context, idb bun.IDB, w export.Writer, month string) error {
	if err := w.Write(export.Header(JournalColumns...)); err != nil {
		return err
	}
	for l, err := range JournalLines(ctx, idb, month) {
		if err != nil {
			return err
		}
		if err := w.Write(l.Row()); err != nil {
			return err
		}
	}
	return nil
}

// Row is the line as a row of JournalColumns.
func (l *JournalLine) Row() []export.Cell {
	debit, credit := export.TextCell(""), export.TextCell("")
	if l.DebitMinor != 0 {
		debit = export.AmountCell(money.Money{Minor: l.DebitMinor, Currency: l.Currency})
	} else {
		credit = export.AmountCell(money.Money{Minor: l.CreditMinor, Currency: l.Currency})
	}
	return []export.Cell{export.TextCell(l.Date), export.IntCell(l.EntryID), export.TextCell(l.Period),
		export.TextCell(orEmpty(l.LateFrom)), export.TextCell(l.SourceKind), idCell(l.SourceID), idCell(l.ChargeID),
		export.TextCell(l.RequestNumber()), export.TextCell(l.ServiceCode), idCell(l.ReversesEntryID), idCell(l.CreditsEntryID),
		export.TextCell(l.CostCenter), export.TextCell(l.GLAccount), debit, credit, export.TextCell(l.Currency), export.TextCell(l.Memo)}
}

// idCell is an id's number cell, or an empty cell.
func idCell(id *int64) export.Cell {
	if id == nil {
		return export.TextCell("")
	}
	return export.IntCell(*id)
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
