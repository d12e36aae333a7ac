package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/webtest"
)

var helsinki, _ = time.LoadLocation("Europe/Helsinki")

const statementFormulaTitle = `=HYPERLINK("http://evil.example","open me")`

// statementDesk is the harness organisation after a month of orders: MKT
// bought laptops from IT in November 2026, and one of the charges was
// credited in part. manager manages MKT.
type statementDesk struct {
	*webtest.Fixture
	as      map[string]*webtest.Client
	charges []billing.Charge
}

func newStatementDesk(t *testing.T, d *db.DB) *statementDesk {
	t.Helper()
	k := &statementDesk{Fixture: webtest.NewFixture(t, d), as: map[string]*webtest.Client{}}
	ctx := context.Background()
	var service, rate int64
	err := d.InTx(ctx, func(tx bun.Tx) error {
		svc, r, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: k.Units["IT"], Code: "LAPTOPS", Name: "Laptops",
			PricingModel: "per_unit", ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600},
			nil, catalog.Rate{PriceMinor: 120000, Currency: "EUR", EffectiveFrom: "2026-01-01"})
		service, rate = svc.ID, r.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
	for i, title := range []string{statementFormulaTitle, "Laptops for the new team"} {
		r := &requests.Request{ServiceID: service, ConsumerUnitID: k.Units["MKT"], ProviderUnitID: k.Units["IT"],
			RequesterID: k.Users["mktmember"], CreatedBy: k.Users["mktmember"], Title: title, Quantity: "2", FieldsJSON: "{}",
			Channel: "portal", Status: requests.Resolved, Version: 1, RateID: rate, PricingModel: "per_unit",
			UnitPriceMinor: 120000, Currency: "EUR", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: at, UpdatedAt: at}
		if _, err := d.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		err := d.InTx(ctx, func(tx bun.Tx) error {
			charges, err := billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: r.ID, Number: requests.Number(r.ID),
				Title: title, ConsumerUnitID: r.ConsumerUnitID, ProviderUnitID: r.ProviderUnitID, ServiceID: service, RateID: rate,
				PricingModel: "per_unit", Quantity: "2", UnitPriceMinor: 120000, Currency: "EUR",
				ResolvedAt: at.Add(time.Duration(i) * time.Hour), ActorID: k.Users["itagent"]}, helsinki)
			k.charges = append(k.charges, charges...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		dispute, err := billing.RaiseDispute(ctx, tx, billing.Operator(k.Users["manager"]), k.charges[1].ID, "one laptop came back", at)
		if err != nil {
			return err
		}
		_, err = billing.SettleDispute(ctx, tx, billing.Operator(k.Users["finance"]),
			billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: 120000, Note: "returned"}, helsinki, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range statementPersonaNames() {
		k.as[p] = k.Login(p)
	}
	return k
}

func statementPersonaNames() []string {
	var names []string
	for _, p := range webtest.Personas {
		names = append(names, p.Name)
	}
	return names
}

func (k *statementDesk) get(as, path string) webtest.Response {
	k.T.Helper()
	return k.as[as].Call("GET", path, nil)
}

func TestStatementAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		mkt, it := webtest.ID(k.Units["MKT"]), webtest.ID(k.Units["IT"])
		cases := []struct {
			path   string
			status map[string]int // persona → status; everyone else gets the default
			other  int
		}{
			{"/api/v1/units/" + mkt + "/statements/2026-11", map[string]int{"manager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/units/" + mkt + "/statements/2026-11.csv", map[string]int{"manager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/units/" + mkt + "/statements/2026-11.xlsx", map[string]int{"manager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/units/" + it + "/recovery/2026-11", map[string]int{"itmanager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/units/" + it + "/recovery/2026-11.csv", map[string]int{"itmanager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/units/" + it + "/statements/2026-11", map[string]int{"itmanager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/units/" + mkt + "/recovery/2026-11", map[string]int{"manager": 200, "groupmgr": 200, "finance": 200, "finance2": 200, "auditor": 200}, 404},
			{"/api/v1/exports/journal/2026-11.csv", map[string]int{"finance": 200, "finance2": 200, "auditor": 200}, 403},
			{"/api/v1/exports/journal/2026-11.xlsx", map[string]int{"finance": 200, "finance2": 200, "auditor": 200}, 403},
			{"/api/v1/exports/journal/2026-11", map[string]int{"finance": 200, "finance2": 200, "auditor": 200}, 403},
		}
		for _, tc := range cases {
			for as := range k.as {
				want, ok := tc.status[as]
				if !ok {
					want = tc.other
				}
				if res := k.get(as, tc.path); res.Status != want {
					t.Errorf("%s GET %s = %d, want %d: %s", as, tc.path, res.Status, want, res.Body)
				}
			}
		}
		if res := webtest.NewClient(t, k.Srv.URL).Call("GET", "/api/v1/units/"+mkt+"/statements/2026-11.csv", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("anonymous statement = %d", res.Status)
		}
		for path, want := range map[string]int{
			"/api/v1/units/" + mkt + "/statements/2026-13":     422,
			"/api/v1/units/" + mkt + "/statements/2026-11.pdf": 404,
			"/api/v1/units/" + mkt + "/statements/2026-11.":    404,
			"/api/v1/units/999999/statements/2026-11":          404,
			"/api/v1/units/abc/statements/2026-11":             404,
			"/api/v1/exports/journal/2026-11.pdf":              404,
			"/api/v1/exports/journal/2026-13":                  422,
			"/api/v1/exports/journal/2026-13.csv":              422,
		} {
			res := k.get("finance", path)
			if res.Status != want || res.ErrorCode() == "" || res.Header.Get("Content-Disposition") != "" {
				t.Errorf("finance GET %s = %d %q (disposition %q), want %d", path, res.Status, res.Body,
					res.Header.Get("Content-Disposition"), want)
			}
		}
	})
}

func TestStatementFormatsOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		mkt := webtest.ID(k.Units["MKT"])

		res := k.get("manager", "/api/v1/units/"+mkt+"/statements/2026-11")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			res.Str("unit_id") != mkt || res.Str("unit_code") != "MKT" || res.Str("month") != "2026-11" || res.Str("period_status") != "open" {
			t.Fatalf("JSON statement: %d %s", res.Status, res.Body)
		}
		lines, _ := res.JSON["lines"].([]any)
		if len(lines) != 2 {
			t.Fatalf("lines = %v", lines)
		}
		first, _ := lines[0].(map[string]any)
		second, _ := lines[1].(map[string]any)
		if first["title"] != statementFormulaTitle || first["charge_id"] != webtest.ID(k.charges[0].ID) || first["dispute"] != nil ||
			first["service_code"] != "LAPTOPS" || first["quantity"] != "2" || first["status"] != "posted" ||
			first["request_number"] != requests.Number(*k.charges[0].RequestID) || statementMinor(first["amount"]) != 240000 ||
			statementMinor(first["unit_price"]) != 120000 {
			t.Errorf("first line = %v", first)
		}
		dispute, _ := second["dispute"].(map[string]any)
		if second["status"] != "credited" || dispute["status"] != "accepted" || statementMinor(dispute["credit"]) != 120000 ||
			statementMinor(second["net"]) != 120000 {
			t.Errorf("second line = %v", second)
		}
		totals, _ := res.JSON["totals"].(map[string]any)
		if statementMinor(totals["charged"]) != 480000 || statementMinor(totals["credited"]) != 120000 || statementMinor(totals["net"]) != 360000 {
			t.Errorf("totals = %v", totals)
		}

		res = k.get("manager", "/api/v1/units/"+mkt+"/statements/2026-11.csv")
		if res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="statement-MKT-2026-11.csv"` {
			t.Fatalf("CSV headers: %v", res.Header)
		}
		records, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil || len(records) != 4 {
			t.Fatalf("CSV: %v %q", err, records)
		}
		col := map[string]int{}
		for i, c := range records[0] {
			col[c] = i
		}
		if records[1][col["title"]] != "'"+statementFormulaTitle || records[1][col["amount"]] != "2400.00" ||
			records[2][col["credit"]] != "1200.00" || records[3][col["charge_id"]] != "total" ||
			records[3][col["amount"]] != "4800.00" || records[3][col["net"]] != "3600.00" {
			t.Errorf("CSV records = %q", records)
		}

		res = k.get("finance", "/api/v1/units/"+mkt+"/statements/2026-11.xlsx")
		if res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="statement-MKT-2026-11.xlsx"` {
			t.Fatalf("XLSX headers: %v", res.Header)
		}
		f, err := excelize.OpenReader(bytes.NewReader(res.Body))
		if err != nil {
			t.Fatalf("XLSX does not open: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows("Statement", excelize.Options{RawCellValue: true})
		if err != nil || len(rows) != 4 || rows[1][col["title"]] != statementFormulaTitle || rows[3][col["amount"]] != "4800" {
			t.Errorf("XLSX rows = %q, %v", rows, err)
		}

		res = k.get("itmanager", "/api/v1/units/"+webtest.ID(k.Units["IT"])+"/recovery/2026-11.csv")
		if res.Status != 200 || res.Header.Get("Content-Disposition") != `attachment; filename="recovery-IT-2026-11.csv"` {
			t.Fatalf("recovery CSV: %d %v", res.Status, res.Header)
		}
		res = k.get("itmanager", "/api/v1/units/"+webtest.ID(k.Units["IT"])+"/recovery/2026-11")
		totals, _ = res.JSON["totals"].(map[string]any)
		if statementMinor(totals["recovered"]) != 360000 {
			t.Errorf("recovery totals = %v", totals)
		}

		res = k.get("auditor", "/api/v1/exports/journal/2026-11.csv")
		if res.Status != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="journal-2026-11.csv"` {
			t.Fatalf("journal: %d %v", res.Status, res.Header)
		}
		records, err = csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil || len(records) != 1+3*2 || strings.Join(records[0], ",") != strings.Join(billing.JournalColumns, ",") {
			t.Fatalf("journal CSV: %v %q", err, records)
		}
		var debits, credits int64
		jcol := columnIndex(records[0])
		for _, rec := range records[1:] {
			debits += statementDecimalMinor(t, rec[jcol["debit"]])
			credits += statementDecimalMinor(t, rec[jcol["credit"]])
		}
		if debits != credits || debits != 480000+120000 {
			t.Errorf("journal debits %d, credits %d", debits, credits)
		}
	})
}

func statementMinor(v any) int64 {
	m, _ := v.(map[string]any)
	n, _ := m["amount_minor"].(float64)
	return int64(n)
}

func statementDecimalMinor(t *testing.T, s string) int64 {
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

// TestStatementCarriesEntriesMovementsAndRollup is finding 12.2 and 12.4
// over HTTP: a statement line names its charge's entry and its dispute's
// credit entry, the month's credits are listed as movements with their
// reasons, and ?rollup=true adds a subtotal per unit below.
func TestStatementCarriesEntriesMovementsAndRollup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		mkt := webtest.ID(k.Units["MKT"])
		credited := k.charges[1]
		dispute, err := billing.DisputeOf(context.Background(), d, credited.ID)
		if err != nil || dispute == nil || dispute.EntryID == nil {
			t.Fatalf("dispute of charge %d: %+v, %v", credited.ID, dispute, err)
		}
		res := k.get("manager", "/api/v1/units/"+mkt+"/statements/2026-11")
		if res.Status != 200 {
			t.Fatalf("statement = %d %s", res.Status, res.Body)
		}
		lines := res.JSON["lines"].([]any)
		line := lines[1].(map[string]any)
		disp := line["dispute"].(map[string]any)
		if line["entry_id"] != webtest.ID(*credited.EntryID) || disp["id"] != webtest.ID(dispute.ID) || disp["entry_id"] != webtest.ID(*dispute.EntryID) {
			t.Fatalf("credited line = %v", line)
		}
		moves := res.JSON["movements"].([]any)
		if len(moves) != 1 {
			t.Fatalf("movements = %v", moves)
		}
		move := moves[0].(map[string]any)
		if move["kind"] != "credit" || move["entry_id"] != webtest.ID(*dispute.EntryID) || move["charge_id"] != webtest.ID(credited.ID) ||
			move["reason"] != "one laptop came back — returned" || move["amount"].(map[string]any)["amount_minor"] != float64(-120000) {
			t.Fatalf("movement = %v", move)
		}
		totals := res.JSON["totals"].(map[string]any)
		if totals["net"].(map[string]any)["amount_minor"] != float64(4*120000-120000) || totals["adjusted"].(map[string]any)["amount_minor"] != float64(0) {
			t.Fatalf("totals = %v", totals)
		}
		if _, ok := res.JSON["rollup"]; ok {
			t.Fatalf("a rollup without asking: %s", res.Body)
		}

		res = k.get("groupmgr", "/api/v1/units/"+webtest.ID(k.Units["HQ"])+"/statements/2026-11?rollup=true")
		if res.Status != 200 {
			t.Fatalf("group roll-up = %d %s", res.Status, res.Body)
		}
		rollup := res.JSON["rollup"].(map[string]any)
		var mktNet any
		for _, u := range rollup["units"].([]any) {
			if u := u.(map[string]any); u["unit_id"] == mkt {
				mktNet = u["totals"].(map[string]any)["net"].(map[string]any)["amount_minor"]
			}
		}
		if mktNet != float64(3*120000) || rollup["totals"].(map[string]any)["net"].(map[string]any)["amount_minor"] != float64(3*120000) {
			t.Fatalf("group roll-up = %v", rollup)
		}
		if res := k.get("manager", "/api/v1/units/"+mkt+"/statements/2026-11?rollup=maybe"); res.Status != 422 {
			t.Fatalf("rollup=maybe = %d %s", res.Status, res.Body)
		}
	})
}
