package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/webtest"
)

// lateDisputedCharge closes November on the statement desk, then charges a
// laptop resolved in November (late, into December), disputes it and
// returns the charge.
func (k *statementDesk) lateDisputedCharge(t *testing.T, d *db.DB) billing.Charge {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	for _, action := range []string{"review", "close"} {
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := billing.MovePeriod(ctx, tx, billing.Operator(k.Users["finance"]), "2026-11", action, helsinki, now)
			return err
		}); err != nil {
			t.Fatalf("%s November: %v", action, err)
		}
	}
	first := k.charges[0]
	resolved := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	r := &requests.Request{ServiceID: first.ServiceID, ConsumerUnitID: first.ConsumerUnitID, ProviderUnitID: first.ProviderUnitID,
		RequesterID: k.Users["mktmember"], CreatedBy: k.Users["mktmember"], Title: "Laptop for the late starter", Quantity: "1",
		FieldsJSON: "{}", Channel: "portal", Status: requests.Resolved, Version: 1, RateID: *first.RateID, PricingModel: "per_unit",
		UnitPriceMinor: 120000, Currency: "EUR", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: resolved, UpdatedAt: resolved}
	if _, err := d.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var late billing.Charge
	if err := d.InTx(ctx, func(tx bun.Tx) error {
		charges, err := billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: r.ID, Number: requests.Number(r.ID),
			Title: r.Title, ConsumerUnitID: r.ConsumerUnitID, ProviderUnitID: r.ProviderUnitID, ServiceID: r.ServiceID, RateID: r.RateID,
			PricingModel: "per_unit", Quantity: "1", UnitPriceMinor: 120000, Currency: "EUR", ResolvedAt: resolved,
			ActorID: k.Users["itagent"]}, helsinki)
		if err == nil && len(charges) != 1 {
			err = fmt.Errorf("%d charges", len(charges))
		}
		if err == nil {
			late = charges[0]
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if late.Period != "2026-12" || late.LateFrom == nil || *late.LateFrom != "2026-11" {
		t.Fatalf("the charge is not late: %+v", late)
	}
	return late
}

func (k *statementDesk) settlePart(t *testing.T, d *db.DB, chargeID, creditMinor int64) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	if err := d.InTx(ctx, func(tx bun.Tx) error {
		dispute, err := billing.RaiseDispute(ctx, tx, billing.Operator(k.Users["manager"]), chargeID, "the dock was missing", at)
		if err != nil {
			return err
		}
		_, err = billing.SettleDispute(ctx, tx, billing.Operator(k.Users["finance"]),
			billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: creditMinor, Note: "dock credited"}, helsinki, at)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// amountOf is a money object's minor units.
func amountOf(v any) int64 {
	m, _ := v.(map[string]any)
	f, _ := m["amount_minor"].(float64)
	return int64(f)
}

// journalRows returns the month's journal (JSON) rows of one entry.
func journalRows(t *testing.T, c *webtest.Client, month, entryID string) []map[string]any {
	t.Helper()
	res := c.Call("GET", "/api/v1/exports/journal/"+month, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("journal %s: %d %s", month, res.Status, res.Body)
	}
	raw, _ := res.JSON["lines"].([]any)
	var rows []map[string]any
	for _, r := range raw {
		row, _ := r.(map[string]any)
		if row["entry_id"] == entryID {
			rows = append(rows, row)
		}
	}
	return rows
}

// A controller follows ids alone from a statement line of a disputed,
// partly credited, late charge to its request and quote, its entry and the
// journal rows of the charge and of the credit, and finds them booked to
// the GL accounts mapped when the charge posted, not to the ones mapped
// after.
func TestJournalTracesALateDisputedPartlyCreditedCharge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		service := webtest.ID(k.charges[0].ServiceID)
		if res := k.as["finance"].Call("PUT", "/api/v1/gl-mappings/"+service,
			map[string]string{"expense_account": "6801", "recovery_account": "3801-10"}); res.Status != http.StatusOK {
			t.Fatalf("finance maps the laptop: %d %s", res.Status, res.Body)
		}
		late := k.lateDisputedCharge(t, d)
		// A later change of mapping applies to later postings only: the
		// credit still books to the accounts the charge moved.
		if res := k.as["finance"].Call("PUT", "/api/v1/gl-mappings/"+service,
			map[string]string{"expense_account": "6900", "recovery_account": "3900"}); res.Status != http.StatusOK {
			t.Fatalf("finance remaps the laptop: %d %s", res.Status, res.Body)
		}
		k.settlePart(t, d, late.ID, 50000)
		auditor := k.as["auditor"]

		// 1. The statement line.
		st := auditor.Call("GET", "/api/v1/units/"+webtest.ID(k.Units["MKT"])+"/statements/2026-12", nil)
		if st.Status != http.StatusOK {
			t.Fatalf("statement: %d %s", st.Status, st.Body)
		}
		lines, _ := st.JSON["lines"].([]any)
		if len(lines) != 1 {
			t.Fatalf("December lines = %v", lines)
		}
		line := lines[0].(map[string]any)
		dispute, _ := line["dispute"].(map[string]any)
		if line["late_from"] != "2026-11" || dispute == nil || amountOf(dispute["credit"]) != 50000 {
			t.Fatalf("line = %v", line)
		}
		chargeID, entryID, requestID := line["charge_id"].(string), line["entry_id"].(string), line["request_id"].(string)
		creditEntryID := dispute["entry_id"].(string)

		// 2. The charge and its request's quote.
		charge := auditor.Call("GET", "/api/v1/charges/"+chargeID, nil)
		if charge.Status != http.StatusOK || charge.Str("entry_id") != entryID || charge.Str("request_id") != requestID {
			t.Fatalf("charge %s: %d %s", chargeID, charge.Status, charge.Body)
		}
		req := auditor.Call("GET", "/api/v1/requests/"+requestID, nil)
		if req.Status != http.StatusOK || req.Str("number") != line["request_number"] || amountOf(req.JSON["unit_price"]) != amountOf(line["unit_price"]) ||
			req.Str("rate_id") != charge.Str("rate_id") {
			t.Fatalf("request %s: %d %s", requestID, req.Status, req.Body)
		}

		// 3. The charge's journal rows.
		rows := journalRows(t, auditor, "2026-12", entryID)
		if len(rows) != 2 {
			t.Fatalf("journal rows of entry %s = %v", entryID, rows)
		}
		type row struct {
			costCenter, gl string
			debit, credit  int64
		}
		want := []row{{"MKT", "6801", 120000, 0}, {"IT", "3801-10", 0, 120000}}
		for i, r := range rows {
			if r["cost_center"] != want[i].costCenter || r["gl_account"] != want[i].gl || amountOf(r["debit"]) != want[i].debit ||
				amountOf(r["credit"]) != want[i].credit || r["source_kind"] != billing.SourceCharge || r["source_id"] != chargeID ||
				r["charge_id"] != chargeID || r["request_id"] != requestID || r["request_number"] != line["request_number"] ||
				r["service_code"] != "LAPTOPS" || r["period"] != "2026-12" || r["late_from"] != "2026-11" || r["date"] != "2026-12-01" {
				t.Errorf("charge row %d = %v", i, r)
			}
		}

		// 4. The credit's journal rows name the dispute and the entry they credit.
		rows = journalRows(t, auditor, "2026-12", creditEntryID)
		if len(rows) != 2 {
			t.Fatalf("journal rows of credit entry %s = %v", creditEntryID, rows)
		}
		want = []row{{"MKT", "6801", 0, 50000}, {"IT", "3801-10", 50000, 0}}
		for i, r := range rows {
			if r["cost_center"] != want[i].costCenter || r["gl_account"] != want[i].gl || amountOf(r["debit"]) != want[i].debit ||
				amountOf(r["credit"]) != want[i].credit || r["source_kind"] != billing.SourceCredit || r["source_id"] != dispute["id"] ||
				r["charge_id"] != chargeID || r["credits_entry_id"] != entryID || r["reverses_entry_id"] != nil ||
				r["request_id"] != requestID {
				t.Errorf("credit row %d = %v", i, r)
			}
		}

		// The same rows in the files, with their GL accounts.
		csvRes := auditor.Call("GET", "/api/v1/exports/journal/2026-12.csv", nil)
		records, err := csv.NewReader(bytes.NewReader(csvRes.Body)).ReadAll()
		if csvRes.Status != http.StatusOK || err != nil || len(records) != 5 {
			t.Fatalf("journal CSV: %d %v %q", csvRes.Status, err, csvRes.Body)
		}
		col := columnIndex(records[0])
		if records[1][col["entry_id"]] != entryID || records[1][col["gl_account"]] != "6801" || records[1][col["source_id"]] != chargeID ||
			records[3][col["credits_entry_id"]] != entryID || records[3][col["source_kind"]] != "credit" {
			t.Errorf("journal CSV rows %q", records)
		}
		xlsxRes := auditor.Call("GET", "/api/v1/exports/journal/2026-12.xlsx", nil)
		f, err := excelize.OpenReader(bytes.NewReader(xlsxRes.Body))
		if xlsxRes.Status != http.StatusOK || err != nil {
			t.Fatalf("journal XLSX: %d %v", xlsxRes.Status, err)
		}
		sheet, err := f.GetRows("Journal")
		if err != nil || len(sheet) != 5 || strings.Join(sheet[0], ",") != strings.Join(billing.JournalColumns, ",") ||
			sheet[2][col["gl_account"]] != "3801-10" {
			t.Errorf("journal XLSX rows %q (%v)", sheet, err)
		}
	})
}

func columnIndex(header []string) map[string]int {
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	return col
}

// Finance maps GL accounts; auditors read them; everyone else is refused,
// and bad input changes nothing.
func TestGLMappingsAccessAndBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		service := webtest.ID(k.charges[0].ServiceID)
		good := map[string]string{"expense_account": "6801", "recovery_account": "3801"}
		for _, p := range statementPersonaNames() {
			list := k.get(p, "/api/v1/gl-mappings")
			put := k.as[p].Call("PUT", "/api/v1/gl-mappings/"+service, good)
			wantList, wantPut := http.StatusNotFound, http.StatusNotFound
			switch p {
			case "finance", "finance2":
				wantList, wantPut = http.StatusOK, http.StatusOK
			case "auditor":
				wantList, wantPut = http.StatusOK, http.StatusForbidden
			}
			if list.Status != wantList || put.Status != wantPut {
				t.Errorf("%s: list %d (want %d), put %d (want %d) %s", p, list.Status, wantList, put.Status, wantPut, put.Body)
			}
		}
		events := k.Count("audit_events")
		finance := k.as["finance"]
		for name, tc := range map[string]struct {
			path string
			body map[string]string
			want int
		}{
			"letters":         {"/api/v1/gl-mappings/default", map[string]string{"expense_account": "EXP", "recovery_account": "3800"}, 422},
			"too short":       {"/api/v1/gl-mappings/" + service, map[string]string{"expense_account": "6800", "recovery_account": "38"}, 422},
			"formula":         {"/api/v1/gl-mappings/" + service, map[string]string{"expense_account": "=6800", "recovery_account": "3800"}, 422},
			"missing":         {"/api/v1/gl-mappings/" + service, map[string]string{"expense_account": "6800"}, 422},
			"unknown service": {"/api/v1/gl-mappings/999999", good, 422},
			"bad service id":  {"/api/v1/gl-mappings/laptop", good, 422},
		} {
			if res := finance.Call("PUT", tc.path, tc.body); res.Status != tc.want {
				t.Errorf("%s: %d %s, want %d", name, res.Status, res.Body, tc.want)
			}
		}
		if got := k.Count("audit_events"); got != events {
			t.Errorf("refused mappings wrote %d audit events", got-events)
		}
		list := finance.Call("GET", "/api/v1/gl-mappings", nil).Items()
		if len(list) != 2 || list[0]["service_id"] != nil || list[0]["expense_account"] != "6800" ||
			list[1]["service_id"] != service || list[1]["expense_account"] != "6801" || list[1]["recovery_account"] != "3801" {
			t.Errorf("mappings = %v", list)
		}
		var trail int
		if err := d.NewSelect().Table("audit_events").ColumnExpr("COUNT(*)").
			Where("object_type = ? AND object_id = ?", "gl_mapping", service).Scan(context.Background(), &trail); err != nil || trail != 2 { // finance's and finance2's
			t.Errorf("the mapping's trail has %d events (%v)", trail, err)
		}
	})
}

// The trial balance is the finance desk's: JSON, CSV and XLSX agree, the
// totals sum to zero, and nobody else sees it.
func TestTrialBalanceAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		for _, p := range statementPersonaNames() {
			want := http.StatusNotFound
			if p == "finance" || p == "finance2" || p == "auditor" {
				want = http.StatusOK
			}
			for _, path := range []string{"/api/v1/trial-balance/2026-11", "/api/v1/trial-balance/2026-11.csv", "/api/v1/trial-balance/2026-11.xlsx"} {
				if res := k.get(p, path); res.Status != want {
					t.Errorf("%s GET %s = %d, want %d", p, path, res.Status, want)
				}
			}
		}
		for path, want := range map[string]int{"/api/v1/trial-balance/2026-13": 422, "/api/v1/trial-balance/2026-11.pdf": 404} {
			if res := k.get("finance", path); res.Status != want {
				t.Errorf("GET %s = %d, want %d", path, res.Status, want)
			}
		}
		res := k.get("auditor", "/api/v1/trial-balance/2026-11")
		rows, _ := res.JSON["rows"].([]any)
		totals, _ := res.JSON["totals"].([]any)
		if len(rows) != 2 || len(totals) != 1 {
			t.Fatalf("trial balance %s", res.Body)
		}
		byCode := map[string]map[string]any{}
		for _, r := range rows {
			row := r.(map[string]any)
			byCode[row["unit_code"].(string)] = row["books"].(map[string]any)
		}
		// MKT: two charges of 2400.00, 1200.00 credited back.
		if mkt := byCode["MKT"]; amountOf(mkt["opening"]) != 0 || amountOf(mkt["debit"]) != 480000 || amountOf(mkt["credit"]) != 120000 ||
			amountOf(mkt["closing"]) != 360000 {
			t.Errorf("MKT = %v", mkt)
		}
		if it := byCode["IT"]; amountOf(it["closing"]) != -360000 {
			t.Errorf("IT = %v", it)
		}
		total := totals[0].(map[string]any)["books"].(map[string]any)
		if amountOf(total["closing"]) != 0 || amountOf(total["debit"]) != amountOf(total["credit"]) || amountOf(total["debit"]) != 600000 {
			t.Errorf("total = %v", total)
		}
		csvRes := k.get("finance", "/api/v1/trial-balance/2026-11.csv")
		records, err := csv.NewReader(bytes.NewReader(csvRes.Body)).ReadAll()
		if err != nil || len(records) != 4 || records[3][0] != "total" || records[1][0] != "IT" || records[1][6] != "-3600.00" {
			t.Errorf("trial balance CSV %q (%v)", records, err)
		}
		xlsxRes := k.get("finance", "/api/v1/trial-balance/2026-11.xlsx")
		f, err := excelize.OpenReader(bytes.NewReader(xlsxRes.Body))
		if err != nil {
			t.Fatal(err)
		}
		if sheet, err := f.GetRows("Trial balance"); err != nil || len(sheet) != 4 || sheet[2][0] != "MKT" {
			t.Errorf("trial balance XLSX %q (%v)", sheet, err)
		}
	})
}
