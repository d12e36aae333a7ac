package billing

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

// Balance is one unit's cost center over a month: what it held before the
// month (every posting booked in an earlier period), what the month
// debited and credited, and what it holds after. Amounts are minor units,
// debit positive: a unit that paid more than it earned has a positive
// balance.
type Balance struct {
	OpeningMinor int64
	DebitMinor   int64
	CreditMinor  int64
}

// ClosingMinor is the opening balance moved by the month.
func (b Balance) ClosingMinor() int64 { return b.OpeningMinor + b.DebitMinor - b.CreditMinor }

func (b *Balance) add(o Balance) {
	b.OpeningMinor += o.OpeningMinor
	b.DebitMinor += o.DebitMinor
	b.CreditMinor += o.CreditMinor
}

// TrialBalanceRow is a unit's balances in one currency: the chargeback
// books (what the GL journal carries) and, kept apart, showback (charges
// of a showback unit and their credits, shown but never billed).
type TrialBalanceRow struct {
	UnitID   int64
	UnitCode string
	UnitName string
	Currency string
	Books    Balance
	Showback Balance
}

// TrialBalance is the month's balances per unit, in unit code order, and
// their totals per currency. Every entry balances, so in each currency the
// totals' opening and closing balances are zero and the month's debits
// equal its credits, for the books and for showback alike.
type TrialBalance struct {
	Month  string
	Rows   []TrialBalanceRow
	Totals []TrialBalanceRow // one per currency, UnitID 0
}

// MayReadTrialBalance decides whether the viewer may read the trial
// balance: the finance desk (finance, auditors), who read the periods. To
// anyone else it is not there.
func (v Viewer) MayReadTrialBalance() error {
	if !v.can(0, "period", "read") {
		return fault.NotFound("trial balance")
	}
	return nil
}

// GetTrialBalance computes month's trial balance from the postings of
// every period up to it. A unit appears once it has a posting in or before
// the month.
func GetTrialBalance(ctx context.Context, idb bun.IDB, month string) (*TrialBalance, error) {
	if err := CheckMonth(month); err != nil {
		return nil, err
	}
	// An entry is showback when it is a showback charge's (by its source
	// key, as in the journal) or the credit of one.
	var sums []struct {
		UnitID   int64  `bun:"unit_id"`
		Code     string `bun:"code"`
		Name     string `bun:"name"`
		Currency string `bun:"currency"`
		Showback int64  `bun:"showback"`
		Opening  int64  `bun:"opening"`
		Debit    int64  `bun:"debit"`
		Credit   int64  `bun:"credit"`
	}
	if err := idb.NewRaw(`SELECT u.id AS unit_id, u.code, u.name, s.currency, s.showback,
		CAST(SUM(s.opening) AS BIGINT) AS opening, CAST(SUM(s.debit) AS BIGINT) AS debit, CAST(SUM(s.credit) AS BIGINT) AS credit
		FROM (SELECT a.unit_id, p.currency,
		        CASE WHEN COALESCE(c.showback, dc.showback, FALSE) THEN 1 ELSE 0 END AS showback,
		        CASE WHEN e.period < ? THEN p.amount_minor ELSE 0 END AS opening,
		        CASE WHEN e.period = ? AND p.amount_minor > 0 THEN p.amount_minor ELSE 0 END AS debit,
		        CASE WHEN e.period = ? AND p.amount_minor < 0 THEN -p.amount_minor ELSE 0 END AS credit
		      FROM postings p
		      JOIN accounts a ON a.id = p.account_id
		      JOIN journal_entries e ON e.id = p.entry_id
		      LEFT JOIN charges c ON c.source_key = e.idempotency_key
		      LEFT JOIN disputes d ON e.kind = 'dispute_credit' AND d.entry_id = e.id
		      LEFT JOIN charges dc ON dc.id = d.charge_id
		      WHERE e.period <= ?) s
		JOIN units u ON u.id = s.unit_id
		GROUP BY u.id, u.code, u.name, s.currency, s.showback`, month, month, month, month).Scan(ctx, &sums); err != nil {
		return nil, fmt.Errorf("trial balance of %s: %w", month, err)
	}
	type key struct {
		unit     int64
		currency string
	}
	rows := map[key]*TrialBalanceRow{}
	totals := map[string]*TrialBalanceRow{}
	for _, s := range sums {
		k := key{s.UnitID, s.Currency}
		r := rows[k]
		if r == nil {
			r = &TrialBalanceRow{UnitID: s.UnitID, UnitCode: s.Code, UnitName: s.Name, Currency: s.Currency}
			rows[k] = r
		}
		t := totals[s.Currency]
		if t == nil {
			t = &TrialBalanceRow{Currency: s.Currency}
			totals[s.Currency] = t
		}
		b := Balance{OpeningMinor: s.Opening, DebitMinor: s.Debit, CreditMinor: s.Credit}
		if s.Showback == 1 {
			r.Showback.add(b)
			t.Showback.add(b)
		} else {
			r.Books.add(b)
			t.Books.add(b)
		}
	}
	tb := &TrialBalance{Month: month}
	for _, r := range rows {
		tb.Rows = append(tb.Rows, *r)
	}
	slices.SortFunc(tb.Rows, func(a, b TrialBalanceRow) int {
		return cmp.Or(cmp.Compare(a.UnitCode, b.UnitCode), cmp.Compare(a.Currency, b.Currency))
	})
	for _, t := range totals {
		tb.Totals = append(tb.Totals, *t)
	}
	slices.SortFunc(tb.Totals, func(a, b TrialBalanceRow) int { return cmp.Compare(a.Currency, b.Currency) })
	return tb, nil
}

// TrialBalanceColumns are the columns of the trial balance file.
var TrialBalanceColumns = []string{"unit_code", "unit_name", "currency", "opening", "debit", "credit", "closing",
	"showback_opening", "showback_debit", "showback_credit", "showback_closing"}

// Row is the row as a row of TrialBalanceColumns; a total's unit code is
// "total".
func (r *TrialBalanceRow) Row() []export.Cell {
	m := func(minor int64) export.Cell {
		return export.AmountCell(money.Money{Minor: minor, Currency: r.Currency})
	}
	code := r.UnitCode
	if r.UnitID == 0 {
		code = "total"
	}
	return []export.Cell{export.TextCell(code), export.TextCell(r.UnitName), export.TextCell(r.Currency),
		m(r.Books.OpeningMinor), m(r.Books.DebitMinor), m(r.Books.CreditMinor), m(r.Books.ClosingMinor()),
		m(r.Showback.OpeningMinor), m(r.Showback.DebitMinor), m(r.Showback.CreditMinor), m(r.Showback.ClosingMinor())}
}

// WriteTrialBalance writes a header, a row per unit and a total row per
// currency. It does not close w.
func WriteTrialBalance(w export.Writer, tb *TrialBalance) error {
	if err := w.Write(export.Header(TrialBalanceColumns...)); err != nil {
		return err
	}
	for _, rows := range [][]TrialBalanceRow{tb.Rows, tb.Totals} {
		for i := range rows {
			if err := w.Write(rows[i].Row()); err != nil {
				return err
			}
		}
	}
	return nil
}
