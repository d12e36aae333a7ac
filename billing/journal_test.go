package billing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/export"
)

func TestJournalIsBalancedWithoutShowbackAndNotesLateEntries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newMonthBooks(t, d)
		ctx := context.Background()
		now := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
		for _, action := range []string{"review", "close"} {
			if err := m.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(m.user), "2026-10", action, helsinki, now)
				return err
			}); err != nil {
				t.Fatalf("%s October: %v", action, err)
			}
		}
		late := m.chargeTitled(t, m.consumer, "Late laptop", "1", time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC))
		if late.Period != "2026-11" || late.LateFrom == nil {
			t.Fatalf("late charge = %+v", late)
		}
		var adjustment *billing.JournalEntry
		if err := m.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			adjustment, _, err = billing.Post(ctx, tx, billing.Entry{Key: "adjustment:1", Month: "2026-11", Date: "2026-11-12",
				Kind: "adjustment", Memo: hyperlink, Currency: "EUR",
				Lines: []billing.Line{{UnitID: m.provider, AmountMinor: 1250}, {UnitID: m.consumer, AmountMinor: -1250}}}, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}

		var buf bytes.Buffer
		w := export.NewCSV(&buf)
		if err := billing.WriteJournal(ctx, d, w, "2026-11"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("journal CSV does not parse: %v", err)
		}
		if strings.Join(records[0], ",") != "date,entry_id,period,late_from,source_kind,source_id,charge_id,request_number,"+
			"service_code,reverses_entry_id,credits_entry_id,cost_center,gl_account,debit,credit,currency,memo" {
			t.Fatalf("header = %q", records[0])
		}
		col := columnIndex(billing.JournalColumns)
		type side struct{ debit, credit int64 }
		byEntry := map[int64]*side{}
		rowsOf := map[int64][][]string{}
		var order []int64
		var debits, credits int64
		for _, rec := range records[1:] {
			id, err := strconv.ParseInt(rec[col["entry_id"]], 10, 64)
			if err != nil {
				t.Fatalf("entry id in %q: %v", rec, err)
			}
			if byEntry[id] == nil {
				byEntry[id] = &side{}
				order = append(order, id)
			}
			debit, credit := parseAmount(t, rec[col["debit"]]), parseAmount(t, rec[col["credit"]])
			if (debit == 0) == (credit == 0) || debit < 0 || credit < 0 {
				t.Errorf("row %q is not one positive debit or credit", rec)
			}
			if rec[col["cost_center"]] == "LEGAL" {
				t.Errorf("a showback unit is in the GL: %q", rec)
			}
			if rec[col["currency"]] != "EUR" || !strings.HasPrefix(rec[col["date"]], "2026-11-") {
				t.Errorf("row %q", rec)
			}
			byEntry[id].debit += debit
			byEntry[id].credit += credit
			debits += debit
			credits += credit
			rowsOf[id] = append(rowsOf[id], rec)
		}
		for id, s := range byEntry {
			if s.debit != s.credit || s.debit == 0 {
				t.Errorf("entry %d: debits %d, credits %d", id, s.debit, s.credit)
			}
		}
		if debits != credits {
			t.Errorf("journal debits %d, credits %d", debits, credits)
		}

		want := []int64{*m.injected.EntryID, *m.credited.EntryID, *m.plain.EntryID, *m.creditDispute.EntryID, *late.EntryID, adjustment.ID}
		if len(order) != len(want) {
			t.Fatalf("entries in the journal = %v, want %v", order, want)
		}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("entries in the journal = %v, want %v", order, want)
			}
		}
		for _, absent := range []int64{*m.showback.EntryID, *m.showbackDisp.EntryID, *m.october.EntryID} {
			if byEntry[absent] != nil {
				t.Errorf("entry %d should not be in November's GL", absent)
			}
		}

		for _, rec := range rowsOf[*late.EntryID] {
			if rec[col["date"]] != "2026-11-01" || !strings.HasSuffix(rec[col["memo"]], "Late laptop (late from 2026-10, dated 2026-10-20)") {
				t.Errorf("late entry row %q", rec)
			}
		}
		credit := rowsOf[*m.creditDispute.EntryID]
		if len(credit) != 2 || credit[0][col["cost_center"]] != "MKT" || credit[0][col["credit"]] != "333.33" ||
			credit[1][col["cost_center"]] != "IT" || credit[1][col["debit"]] != "333.33" ||
			credit[0][col["date"]] != "2026-11-30" || !strings.HasSuffix(credit[0][col["memo"]], "(dated 2026-12-03)") {
			t.Errorf("dispute credit rows %q", credit)
		}
		charge := rowsOf[*m.injected.EntryID]
		if charge[0][col["cost_center"]] != "MKT" || charge[0][col["debit"]] != "999.99" || charge[1][col["credit"]] != "999.99" ||
			!strings.Contains(charge[0][col["memo"]], hyperlink) || charge[0][col["date"]] != "2026-11-10" {
			t.Errorf("charge rows %q", charge)
		}
		for _, rec := range rowsOf[adjustment.ID] {
			if rec[col["memo"]] != "'"+hyperlink {
				t.Errorf("an adjustment memo starting with = is written as %q", rec[col["memo"]])
			}
		}
	})
}

func TestJournalRefusesABadMonth(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	for _, err := range billing.JournalLines(context.Background(), d, "2026-13") {
		if err == nil {
			t.Fatal("month 13 gave a line")
		}
		return
	}
	t.Fatal("month 13 gave nothing at all")
}
