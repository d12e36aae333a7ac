package web_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// reportRange spans the month before to the month after today, so a request
// resolved now is inside it even across a month boundary.
func reportRange() string {
	loc, _ := time.LoadLocation("Europe/Helsinki")
	now := time.Now().In(loc)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	return "from=" + first.AddDate(0, -1, 0).Format("2006-01") + "&to=" + first.AddDate(0, 1, 0).Format("2006-01")
}

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
		k := newChargeDesk(t, d)
		// IT's service named like a formula, ordered by MKT and fulfilled.
		if res := k.as["itmgr"].call("PATCH", "/api/v1/services/"+k.svc["NEVER"], map[string]any{"name": "=SUM(A1:A9)"}); res.status != http.StatusOK {
			t.Fatalf("rename: %d %s", res.status, res.body)
		}
		rid := k.order("mktmember", "MKT", "NEVER", "Cables").str("id")
		k.fulfil(rid)
		query := "?" + reportRange()

		quality := func(as string) response {
			t.Helper()
			res := k.as[as].call("GET", "/api/v1/reports/quality"+query, nil)
			if res.status != http.StatusOK {
				t.Fatalf("quality as %s: %d %s", as, res.status, res.body)
			}
			return res
		}
		// Finance sees IT as provider and MKT as consumer.
		res := quality("finance")
		providers, _ := res.json["providers"].([]any)
		consumers, _ := res.json["consumers"].([]any)
		if !slices.Equal(codesOf(providers, "provider_unit"), []string{"IT"}) || !slices.Equal(codesOf(consumers, "consumer_unit"), []string{"MKT"}) {
			t.Fatalf("finance sees %s", res.body)
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
			providers, _ := res.json["providers"].([]any)
			services, _ := res.json["services"].([]any)
			consumers, _ := res.json["consumers"].([]any)
			if !slices.Equal(codesOf(providers, "provider_unit"), want[0]) || !slices.Equal(codesOf(services, "provider_unit"), want[0]) ||
				!slices.Equal(codesOf(consumers, "consumer_unit"), want[1]) {
				t.Errorf("%s sees %s", as, res.body)
			}
			spend := k.as[as].call("GET", "/api/v1/reports/spend"+query, nil)
			if n := len(spend.items()); spend.status != http.StatusOK || (n == 1) != (as != "hrmgr") {
				t.Errorf("%s spend: %d %s", as, spend.status, spend.body)
			}
		}
		// Members, agents and people without roles have no report:read.
		for _, as := range []string{"mktmember", "itagent", "nobody"} {
			for _, path := range []string{"/api/v1/reports/quality", "/api/v1/reports/spend.csv"} {
				if res := k.as[as].call("GET", path+query, nil); res.status != http.StatusForbidden {
					t.Errorf("%s %s = %d", as, path, res.status)
				}
			}
		}
	})
}

func TestReportFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		if res := k.as["itmgr"].call("PATCH", "/api/v1/services/"+k.svc["NEVER"], map[string]any{"name": "=SUM(A1:A9)"}); res.status != http.StatusOK {
			t.Fatalf("rename: %d %s", res.status, res.body)
		}
		k.fulfil(k.order("mktmember", "MKT", "NEVER", "Cables").str("id"))
		query := "?" + reportRange()
		read := func(path string) [][]string {
			t.Helper()
			res := k.as["finance"].call("GET", path+query, nil)
			if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("%s: %d %v %s", path, res.status, res.header, res.body)
			}
			rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
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
	k := newChargeDesk(t, d)
	for _, q := range []string{"month=2026-13", "month=11-2026", "from=2025-01&to=2027-01", "from=2026-12&to=2026-11",
		"from=2026-11", "month=2026-11&from=2026-11&to=2026-11", "month=2026-11&provider_unit_id=abc", "month=2026-11&consumer_unit_id=-1"} {
		for _, path := range []string{"/api/v1/reports/quality", "/api/v1/reports/spend.csv"} {
			if res := k.as["finance"].call("GET", path+"?"+q, nil); res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s?%s = %d %s", path, q, res.status, res.body)
			}
		}
	}
	res := k.as["finance"].call("GET", "/api/v1/reports/quality?from=2025-01&to=2026-12", nil)
	if res.status != http.StatusOK || res.str("from") != "2025-01" || res.str("to") != "2026-12" {
		t.Fatalf("24 months: %d %s", res.status, res.body)
	}
}
