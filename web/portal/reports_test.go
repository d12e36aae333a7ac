package portal_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web/webtest"
)

// rptRow returns the cells of the table row whose header cell is label.
func rptRow(t *testing.T, body, table, label string) []string {
	t.Helper()
	start := strings.Index(body, `id="`+table+`"`)
	if start < 0 {
		t.Fatalf("no table %s", table)
	}
	body = body[start:]
	body = body[:strings.Index(body, "</table>")]
	at := strings.Index(body, `<th scope="row">`+label+`</th>`)
	if at < 0 {
		t.Fatalf("table %s has no row %q", table, label)
	}
	row := body[at:]
	row = row[:strings.Index(row, "</tr>")]
	var cells []string
	for _, m := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row, -1) {
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")
		cells = append(cells, html.UnescapeString(strings.TrimSpace(text)))
	}
	return cells
}

func rptPercent(f *reports.Fixed) string {
	if f == nil {
		return "–"
	}
	return f.String() + "%"
}

func TestPortalReports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		// Two fulfilled MKT orders of IT's NEVER service (50.00 each), one rated 4.
		first := k.Order("mktmember", "MKT", "NEVER", "Cables").Str("id")
		k.Fulfil(first)
		second := k.Order("mktmember", "MKT", "NEVER", "More cables", "quantity", "3").Str("id")
		k.Fulfil(second)
		if res := k.As["mktmember"].Call("POST", "/api/v1/requests/"+first+"/feedback", map[string]any{"rating": 4}); res.Status != http.StatusCreated {
			t.Fatalf("feedback: %d %s", res.Status, res.Body)
		}
		query := webtest.ReportRange()
		vals, _ := url.ParseQuery(query)
		loc, _ := time.LoadLocation("Europe/Helsinki")
		rng, err := reports.NewRange(vals.Get("from"), vals.Get("to"), loc)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		q, err := reports.QualityReport(ctx, d, reports.Scope{OrgWide: true}, rng, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		sp, err := reports.SpendReport(ctx, d, reports.Scope{OrgWide: true}, rng, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Providers) != 1 || q.Providers[0].Resolved != 2 || len(sp.Rows) != 1 {
			t.Fatalf("the data set is not what the test expects: %+v %+v", q.Providers, sp.Rows)
		}
		it := q.Providers[0].Metrics
		cost, _ := it.CostPerRequest("EUR")
		eur := func(minor int64) string { return money.FormatEN(money.Money{Minor: minor, Currency: "EUR"}) }

		finance := k.SignIn("finance")
		testkit.Step(t, "finance reads the numbers the reports compute", func(t *testing.T) {
			p := finance.Get("/reports?" + query)
			if p.Status != http.StatusOK {
				t.Fatalf("reports page = %d", p.Status)
			}
			cells := rptRow(t, p.Body, "quality", "IT IT")
			want := []string{"", "2", "2", rptPercent(it.FirstResponseAttainment()), rptPercent(it.ResolutionAttainment())}
			for i, w := range want[1:] {
				if cells[i+1] != w {
					t.Errorf("IT quality cell %d = %q, want %q (%v)", i+1, cells[i+1], w, cells)
				}
			}
			if cells[7] != it.AverageRating().String()+" (1)" || cells[8] != rptPercent(it.ResponseRate()) || cells[9] != money.FormatEN(*cost) ||
				cells[10] != eur(it.RecoveredMinor) {
				t.Errorf("IT rating, response rate, cost, recovered = %v; want %s, %s, %s, %s", cells[7:], it.AverageRating(), rptPercent(it.ResponseRate()),
					money.FormatEN(*cost), eur(it.RecoveredMinor))
			}
			if money.FormatEN(*cost) != "€100.00" || it.RecoveredMinor != 20000 {
				t.Errorf("cost per request %s, recovered %d: (50 + 150) / 2 expected", money.FormatEN(*cost), it.RecoveredMinor)
			}
			mkt := rptRow(t, p.Body, "consumers", "MKT Marketing")
			if mkt[0] != "2" || mkt[1] != "2" || mkt[4] != eur(q.Consumers[0].SpendMinor) {
				t.Errorf("MKT consumer row = %v", mkt)
			}
			// Spend: the month's net in the chart's table and the total; the
			// chart is an accessible SVG.
			month := rptRow(t, p.Body, "months", `<time datetime="`+sp.Rows[0].Month+`">`+time.Now().In(loc).Format("Jan 2006")+`</time>`)
			if month[0] != eur(sp.Rows[0].NetMinor) || sp.Rows[0].NetMinor != 20000 {
				t.Errorf("month row = %v, spend %+v", month, sp.Rows[0])
			}
			if !strings.Contains(p.Body, `<svg role="img"`) || !strings.Contains(p.Body, `<title id="spend-chart-title">Net spend by month</title>`) ||
				strings.Count(p.Body, "<rect ") != 3 {
				t.Error("the spend chart is missing, unlabelled, or has not one bar per month")
			}
			if !strings.Contains(p.Body, "NEVER NEVER service") || !strings.Contains(p.Body, `<td class="num">`+eur(20000)+`</td>`) {
				t.Error("the spend table lacks the service row")
			}
			// The CSV links work with the session cookie.
			link := regexp.MustCompile(`href="(/api/v1/reports/quality\.csv\?[^"]+)"`).FindStringSubmatch(p.Body)
			if link == nil {
				t.Fatal("no quality CSV link")
			}
			if csv := finance.Get(html.UnescapeString(link[1])); csv.Status != http.StatusOK || !strings.Contains(csv.Body, "IT") {
				t.Fatalf("quality CSV = %d", csv.Status)
			}
		})
		testkit.Step(t, "each reader sees what the API shows them", func(t *testing.T) {
			// Visibility as the API applies it.
			if p := k.SignIn("itmgr").Get("/reports?" + query); p.Status != http.StatusOK || !strings.Contains(p.Body, `<th scope="row">IT IT</th>`) ||
				strings.Contains(p.Body, `id="consumers"`) {
				t.Errorf("IT manager's reports = %d", p.Status)
			}
			if p := k.SignIn("mktmgr").Get("/reports?" + query); p.Status != http.StatusOK || strings.Contains(p.Body, `<th scope="row">IT IT</th>`) ||
				!strings.Contains(p.Body, `<th scope="row">MKT Marketing</th>`) {
				t.Errorf("MKT manager's reports = %d", p.Status)
			}
			if p := k.SignIn("hrmgr").Get("/reports?" + query); p.Status != http.StatusOK || strings.Contains(p.Body, "NEVER") || strings.Contains(p.Body, `<th scope="row">MKT Marketing</th>`) {
				t.Errorf("HR manager's reports = %d", p.Status)
			}
			for _, name := range []string{"mktmember", "itagent", "admin"} {
				if p := k.SignIn(name).Get("/reports?" + query); p.Status != http.StatusNotFound || strings.Contains(p.Body, "NEVER") {
					t.Errorf("%s reports = %d", name, p.Status)
				}
			}
		})
		testkit.Step(t, "a bad range is refused beside its field", func(t *testing.T) {
			// A bad range is refused beside its field, keeping what was typed.
			if p := finance.Get("/reports?from=2026-05&to=2026-01"); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="to-error"`) ||
				!strings.Contains(p.Body, `value="2026-05"`) || strings.Contains(p.Body, `id="quality"`) {
				t.Errorf("reversed range = %d", p.Status)
			}
			if p := finance.Get("/reports?month=2026-13"); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="month-error"`) {
				t.Errorf("month 13 = %d", p.Status)
			}
			if p := finance.Get("/reports?month=2026-11&from=2026-10"); p.Status != http.StatusUnprocessableEntity {
				t.Errorf("month with from = %d", p.Status)
			}
		})
		testkit.Step(t, "Finnish texts and formats", func(t *testing.T) {
			// Finnish texts and formats.
			admFinnish(t, finance)
			p := finance.Get("/reports?" + query)
			for _, w := range []string{"Palvelun laatu", "Nettokulut kuukausittain", "100,00\u00a0€", "200,00\u00a0€",
				">" + strings.Replace(it.AverageRating().String(), ".", ",", 1) + " <", "50,0\u00a0%"} {
				if !strings.Contains(p.Body, w) {
					t.Errorf("Finnish reports page lacks %q", w)
				}
			}
		})
	})
}

func TestPortalReportsFilters(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	k := webtest.NewChargeDesk(t, d)
	k.Fulfil(k.Order("mktmember", "MKT", "NEVER", "Cables").Str("id"))
	finance := k.SignIn("finance")
	query := webtest.ReportRange()
	// How IT served MKT shows the request; how it served HR shows nothing.
	p := finance.Get("/reports?" + query + "&consumer_unit_id=" + webtest.ID(k.Units["MKT"]))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<th scope="row">IT IT</th>`) ||
		!strings.Contains(p.Body, "consumer_unit_id="+webtest.ID(k.Units["MKT"])) {
		t.Fatalf("MKT filter = %d", p.Status)
	}
	p = finance.Get("/reports?" + query + "&consumer_unit_id=" + webtest.ID(k.Units["HR"]))
	if p.Status != http.StatusOK || strings.Contains(p.Body, `<th scope="row">IT IT</th>`) || strings.Contains(p.Body, "NEVER NEVER service") {
		t.Fatalf("HR filter = %d", p.Status)
	}
	if p := finance.Get("/reports?" + query + "&provider_unit_id=x"); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Choose a unit from the list") {
		t.Fatalf("bad provider filter = %d", p.Status)
	}
	// A filter never widens: HR's manager filtering on IT still sees nothing of IT's.
	if p := k.SignIn("hrmgr").Get("/reports?" + query + "&provider_unit_id=" + webtest.ID(k.Units["IT"])); p.Status != http.StatusOK || strings.Contains(p.Body, "NEVER NEVER service") {
		t.Fatalf("HR manager with the IT filter = %d", p.Status)
	}
}
