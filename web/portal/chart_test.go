package portal

import (
	"slices"
	"strings"
	"testing"

	"github.com/tiski/tiski/i18n"
)

func TestChartBarLengths(t *testing.T) {
	for _, c := range []struct {
		values []int64
		want   []int
	}{
		{[]int64{200000, 123456, 0, -5}, []int{360, 222, 0, 0}},
		{[]int64{100, 50, 25, 1}, []int{360, 180, 90, 4}},
		{[]int64{0, 0}, []int{0, 0}},
		{[]int64{1 << 62, 1 << 61}, []int{360, 180}},
	} {
		if got := barLengths(c.values, barChartBarW); !slices.Equal(got, c.want) {
			t.Errorf("barLengths(%v) = %v, want %v", c.values, got, c.want)
		}
	}
}

func TestChartSVGIsAccessibleAndEscaped(t *testing.T) {
	svg := string(barChart{ID: "c1", Title: "Budget <b>MKT</b>", Desc: "Budget €2,000.00; spend €1,000.00",
		Bars: []chartBar{{Label: "Budget", Value: 200000, Text: "€2,000.00", Class: "budget"},
			{Label: `<script>x</script>`, Value: 100000, Text: "€1,000.00", Class: "posted"}}}.SVG())
	for _, want := range []string{`<svg class="chart" role="img" aria-labelledby="c1-title c1-desc"`, `<title id="c1-title">Budget &lt;b&gt;MKT&lt;/b&gt;</title>`,
		`<desc id="c1-desc">Budget €2,000.00; spend €1,000.00</desc>`, `class="bar bar-budget" x="170" y="10" width="360" height="22"`,
		`class="bar bar-posted" x="170" y="42" width="180"`, `&lt;script&gt;`, `viewBox="0 0 640 74"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %s:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<script>") || strings.Contains(svg, "style=") {
		t.Error("SVG carries a script or an inline style")
	}
}

func TestLocaleAmounts(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		locale, in string
		minor      int64
		ok         bool
	}{
		{"en", "1,234.56", 123456, true}, {"en", "1234.5", 123450, true}, {"en", "€12", 1200, true}, {"en", " 7.00 ", 700, true},
		{"en", "1.234,56", 0, false}, {"en", "12,5", 0, false}, {"en", "1 234.56", 0, false}, {"en", "1e3", 0, false},
		{"en", "5.001", 0, false}, {"en", "", 0, false}, {"en", "12.3.4", 0, false}, {"en", ",123", 0, false},
		{"en", "12,345", 0, false}, {"en", "12,345.00", 1234500, true},
		{"fi", "1 234,56", 123456, true}, {"fi", "1\u00a0234,56\u00a0€", 123456, true}, {"fi", "12,5", 1250, true}, {"fi", "1000", 100000, true},
		{"fi", "1.50", 0, false}, {"fi", "1 23,4", 0, false}, {"fi", "1,2,3", 0, false}, {"fi", "abc", 0, false},
	} {
		m, ok := parseLocaleAmount(cat.Format(c.locale), c.in, "EUR")
		if ok != c.ok || (ok && m.Minor != c.minor) {
			t.Errorf("parseLocaleAmount(%s, %q) = %d, %v; want %d, %v", c.locale, c.in, m.Minor, ok, c.minor, c.ok)
		}
	}
	if got := formAmount(cat.Format("fi"), 123456, "EUR"); got != "1234,56" {
		t.Errorf("formAmount fi = %q", got)
	}
	if got := formAmount(cat.Format("en"), -5, "EUR"); got != "-0.05" {
		t.Errorf("formAmount en = %q", got)
	}
}
