package api_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func codesOf(rows []any, key string) []string {
	var codes []string
	for _, r := range rows {
		unit, _ := r.(map[string]any)[key].(map[string]any)
		codes = append(codes, unit["code"].(string))
	}
	return codes
}

func TestReportsFollowVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		// IT's service named like a formula, ordered by MKT and fulfilled.
		if res := k.As["itmgr"].Call("PATCH", "/api/v1/services/"+k.Svc["NEVER"], map[string]any{"name": "=SUM(A1:A9)"}); res.Status != http.StatusOK {
			t.Fatalf("rename: %d %s", res.Status, res.Body)
		}
		rid := k.Order("mktmember", "MKT", "NEVER", "Cables").Str("id")
		k.Fulfil(rid)
		query := "?" + webtest.ReportRange()

		quality := func(as string) webtest.Response {
			t.Helper()
			res := k.As[as].Call("GET", "/api/v1/reports/quality"+query, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("quality as %s: %d %s", as, res.Status, res.Body)
			}
			return res
		}
		// Finance sees IT as provider and MKT as consumer.
		res := quality("finance")
		providers, _ := res.JSON["providers"].([]any)
		consumers, _ := res.JSON["consumers"].([]any)
		if !slices.Equal(codesOf(providers, "provider_unit"), []string{"IT"}) || !slices.Equal(codesOf(consumers, "consumer_unit"), []string{"MKT"}) {
			t.Fatalf("finance sees %s", res.Body)
		}
		it := providers[0].(map[string]any)
		if it["resolved"] != 1.0 || it["received"] != 1.0 || it["cost_per_request"].(map[string]any)["amount_minor"] != 5000.0 ||
			it["first_response_attainment_pct"] == nil {
			t.Fatalf("IT row: %v", it)
		}
		// IT's manager sees IT's rows; MKT's manager only MKT's consumer row;
		// HR's manager nothing.
		for as, want := range map[string][2][]string{
			"itmgr":  {{"IT"}, nil},
			"mktmgr": {nil, {"MKT"}},
			"hrmgr":  {nil, nil},
		} {
			res := quality(as)
			providers, _ := res.JSON["providers"].([]any)
			services, _ := res.JSON["services"].([]any)
			consumers, _ := res.JSON["consumers"].([]any)
			if !slices.Equal(codesOf(providers, "provider_unit"), want[0]) || !slices.Equal(codesOf(services, "provider_unit"), want[0]) ||
				!slices.Equal(codesOf(consumers, "consumer_unit"), want[1]) {
				t.Errorf("%s sees %s", as, res.Body)
			}
			spend := k.As[as].Call("GET", "/api/v1/reports/spend"+query, nil)
			if n := len(spend.Items()); spend.Status != http.StatusOK || (n == 1) != (as != "hrmgr") {
				t.Errorf("%s spend: %d %s", as, spend.Status, spend.Body)
			}
		}
		// Members, agents and people without roles have no report:read.
		for _, as := range []string{"mktmember", "itagent", "nobody"} {
			for _, path := range []string{"/api/v1/reports/quality", "/api/v1/reports/spend.csv"} {
				if res := k.As[as].Call("GET", path+query, nil); res.Status != http.StatusForbidden {
					t.Errorf("%s %s = %d", as, path, res.Status)
				}
			}
		}
	})
}

func TestReportFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		if res := k.As["itmgr"].Call("PATCH", "/api/v1/services/"+k.Svc["NEVER"], map[string]any{"name": "=SUM(A1:A9)"}); res.Status != http.StatusOK {
			t.Fatalf("rename: %d %s", res.Status, res.Body)
		}
		k.Fulfil(k.Order("mktmember", "MKT", "NEVER", "Cables").Str("id"))
		query := "?" + webtest.ReportRange()
		read := func(path string) [][]string {
			t.Helper()
			res := k.As["finance"].Call("GET", path+query, nil)
			if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("%s: %d %v %s", path, res.Status, res.Header, res.Body)
			}
			rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
			if err != nil {
				t.Fatalf("%s does not parse: %v", path, err)
			}
			return rows
		}
		quality := read("/api/v1/reports/quality.csv")
		// Header, IT, the service, MKT.
		if len(quality) != 4 || quality[0][0] != "row" || quality[1][0] != "provider" || quality[2][0] != "service" || quality[3][0] != "consumer" {
			t.Fatalf("quality.csv: %q", quality)
		}
		col := slices.Index(quality[0], "service_name")
		if quality[2][col] != "'=SUM(A1:A9)" {
			t.Errorf("service_name cell %q is not defused", quality[2][col])
		}
		if c := slices.Index(quality[0], "cost_per_request"); quality[1][c] != "50.00" {
			t.Errorf("cost_per_request = %q", quality[1][c])
		}
		spend := read("/api/v1/reports/spend.csv")
		if len(spend) != 2 || spend[1][1] != "MKT" || spend[1][4] != "'=SUM(A1:A9)" || spend[1][8] != "50.00" {
			t.Fatalf("spend.csv: %q", spend)
		}
	})
}

func TestReportParameters(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	k := webtest.NewChargeDesk(t, d)
	for _, q := range []string{"month=2026-13", "month=11-2026", "from=2025-01&to=2027-01", "from=2026-12&to=2026-11",
		"from=2026-11", "month=2026-11&from=2026-11&to=2026-11", "month=2026-11&provider_unit_id=abc", "month=2026-11&consumer_unit_id=-1"} {
		for _, path := range []string{"/api/v1/reports/quality", "/api/v1/reports/spend.csv"} {
			if res := k.As["finance"].Call("GET", path+"?"+q, nil); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s?%s = %d %s", path, q, res.Status, res.Body)
			}
		}
	}
	res := k.As["finance"].Call("GET", "/api/v1/reports/quality?from=2025-01&to=2026-12", nil)
	if res.Status != http.StatusOK || res.Str("from") != "2025-01" || res.Str("to") != "2026-12" {
		t.Fatalf("24 months: %d %s", res.Status, res.Body)
	}
}
