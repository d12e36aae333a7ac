package billing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/export"
)

// checkTrialBalance checks a month's trial balance against the ledger read
// independently: in each currency the totals' opening and closing balances
// are zero and debits equal credits, for the books and showback apart;
// each unit's opening is its previous closing, its closing the sum of its
// postings up to the month, and its books' movement its GL journal
// movement.
func checkTrialBalance(t *testing.T, d *db.DB, month, previous string) *billing.TrialBalance {
	t.Helper()
	ctx := context.Background()
	tb, err := billing.GetTrialBalance(ctx, d, month)
	if err != nil {
		t.Fatal(err)
	}
	for _, total := range tb.Totals {
		for name, b := range map[string]billing.Balance{"books": total.Books, "showback": total.Showback} {
			if b.OpeningMinor != 0 || b.ClosingMinor() != 0 || b.DebitMinor != b.CreditMinor {
				t.Errorf("%s %s totals in %s do not balance: %+v", month, name, total.Currency, b)
			}
		}
	}
	var sum billing.TrialBalanceRow
	closingBefore := map[int64]int64{}
	if previous != "" {
		before, err := billing.GetTrialBalance(ctx, d, previous)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range before.Rows {
			closingBefore[r.UnitID] = r.Books.ClosingMinor() + r.Showback.ClosingMinor()
		}
	}
	gl := map[string]int64{}
	for l, err := range billing.JournalLines(ctx, d, month) {
		if err != nil {
			t.Fatal(err)
		}
		gl[l.CostCenter] += l.DebitMinor - l.CreditMinor
	}
	for _, r := range tb.Rows {
		var ledger int64
		if err := d.NewRaw(`SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM postings p
			JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id
			WHERE a.unit_id = ? AND e.period <= ?`, r.UnitID, month).Scan(ctx, &ledger); err != nil {
			t.Fatal(err)
		}
		if got := r.Books.ClosingMinor() + r.Showback.ClosingMinor(); got != ledger {
			t.Errorf("%s %s closes at %d, its postings sum to %d", month, r.UnitCode, got, ledger)
		}
		if previous != "" && r.Books.OpeningMinor+r.Showback.OpeningMinor != closingBefore[r.UnitID] {
			t.Errorf("%s %s opens at %d, %s closed at %d", month, r.UnitCode, r.Books.OpeningMinor+r.Showback.OpeningMinor,
				previous, closingBefore[r.UnitID])
		}
		if moved := r.Books.DebitMinor - r.Books.CreditMinor; moved != gl[r.UnitCode] {
			t.Errorf("%s %s moved %d in the books, %d in the GL journal", month, r.UnitCode, moved, gl[r.UnitCode])
		}
		sum.Books.OpeningMinor += r.Books.OpeningMinor
		sum.Showback.DebitMinor += r.Showback.DebitMinor
	}
	if len(tb.Totals) == 1 && (sum.Books.OpeningMinor != tb.Totals[0].Books.OpeningMinor || sum.Showback.DebitMinor != tb.Totals[0].Showback.DebitMinor) {
		t.Errorf("%s totals %+v are not the rows' sums %+v", month, tb.Totals[0], sum)
	}
	return tb
}

// checkTrialBalances checks every month with a posting, in order.
func (w *world) checkTrialBalances() {
	w.t.Helper()
	var months []string
	if err := w.d.NewRaw("SELECT DISTINCT period FROM journal_entries ORDER BY period").Scan(w.ctx, &months); err != nil {
		w.t.Fatal(err)
	}
	previous := ""
	for _, month := range months {
		checkTrialBalance(w.t, w.d, month, previous)
		previous = month
	}
}

func TestTrialBalanceKeepsShowbackApartAndSumsToZero(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		newMonthBooks(t, d)
		checkTrialBalance(t, d, "2026-10", "")
		tb := checkTrialBalance(t, d, "2026-11", "2026-10")
		byCode := map[string]billing.TrialBalanceRow{}
		for _, r := range tb.Rows {
			byCode[r.UnitCode] = r
		}
		// MKT: October's laptop opens; November charges 3 + 2 + 1 licences,
		// one credited back. LEGAL is on showback: two licences, 100.00 back.
		mkt, legal, it := byCode["MKT"], byCode["LEGAL"], byCode["IT"]
		if mkt.Books != (billing.Balance{OpeningMinor: 33333, DebitMinor: 6 * 33333, CreditMinor: 33333}) || mkt.Showback != (billing.Balance{}) {
			t.Errorf("MKT = %+v", mkt)
		}
		if legal.Books != (billing.Balance{}) || legal.Showback != (billing.Balance{DebitMinor: 2 * 33333, CreditMinor: 10000}) {
			t.Errorf("LEGAL = %+v", legal)
		}
		if it.Books != (billing.Balance{OpeningMinor: -33333, DebitMinor: 33333, CreditMinor: 6 * 33333}) ||
			it.Showback != (billing.Balance{DebitMinor: 10000, CreditMinor: 2 * 33333}) {
			t.Errorf("IT = %+v", it)
		}

		var buf bytes.Buffer
		w := export.NewCSV(&buf)
		if err := billing.WriteTrialBalance(w, tb); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(records) != len(tb.Rows)+2 {
			t.Fatalf("trial balance CSV: %v %q", err, records)
		}
		col := columnIndex(billing.TrialBalanceColumns)
		last := records[len(records)-1]
		if last[col["unit_code"]] != "total" || last[col["opening"]] != "0.00" || last[col["closing"]] != "0.00" ||
			last[col["debit"]] != last[col["credit"]] || last[col["showback_closing"]] != "0.00" {
			t.Errorf("total row %q", last)
		}
	})
}

func TestTrialBalanceRefusesABadMonth(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	if _, err := billing.GetTrialBalance(context.Background(), d, "2026-13"); err == nil {
		t.Fatal("month 13 has a trial balance")
	}
}
