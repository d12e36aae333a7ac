package portal

import (
	"fmt"
	"html/template"
	"strings"
)

// chartBar is one bar of a horizontal bar chart: its label, its value in
// minor units and the value as the page shows it.
type chartBar struct {
	Label string
	Value int64
	Text  string
	Class string // a CSS modifier: budget, posted, committed, over, month
}

// barChart is an accessible SVG bar chart, drawn on the server: role="img"
// with a <title> and <desc>, the figures also in a table beside it.
type barChart struct {
	ID, Title, Desc string
	Bars            []chartBar
}

const (
	barChartWidth  = 640
	barChartLabelW = 170
	barChartBarW   = 360
	barChartBarH   = 22
	barChartGap    = 10
)

// barLengths scales values to bars of at most full units, the largest value
// taking the full length; zero and negative values get no bar.
func barLengths(values []int64, full int) []int {
	var max int64
	for _, v := range values {
		if v > max {
			max = v
		}
	}
	out := make([]int, len(values))
	if max == 0 {
		return out
	}
	for i, v := range values {
		if v <= 0 {
			continue
		}
		// Round half up in integers; v*full fits for any realistic amount,
		// and the float fallback keeps huge ones from overflowing.
		if v < (1<<62)/int64(full+1) {
			out[i] = int((v*int64(full)*2 + max) / (2 * max))
		} else {
			out[i] = int(float64(v)/float64(max)*float64(full) + 0.5)
		}
	}
	return out
}

// SVG renders the chart. Every text is escaped; colours come from CSS
// classes, so the strict Content-Security-Policy needs no inline style.
func (ch barChart) SVG() template.HTML {
	values := make([]int64, len(ch.Bars))
	for i, b := range ch.Bars {
		values[i] = b.Value
	}
	lengths := barLengths(values, barChartBarW)
	height := len(ch.Bars)*(barChartBarH+barChartGap) + barChartGap
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-labelledby="%[1]s-title %[1]s-desc" viewBox="0 0 %[2]d %[3]d" width="%[2]d" height="%[3]d" id="%[1]s">`,
		esc(ch.ID), barChartWidth, height)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(ch.ID), esc(ch.Title), esc(ch.ID), esc(ch.Desc))
	for i, bar := range ch.Bars {
		y := barChartGap + i*(barChartBarH+barChartGap)
		fmt.Fprintf(&b, `<text class="chart-label" x="0" y="%d">%s</text>`, y+barChartBarH*3/4, esc(bar.Label))
		fmt.Fprintf(&b, `<rect class="bar bar-%s" x="%d" y="%d" width="%d" height="%d"></rect>`,
			esc(bar.Class), barChartLabelW, y, lengths[i], barChartBarH)
		fmt.Fprintf(&b, `<text class="chart-value" x="%d" y="%d">%s</text>`, barChartLabelW+lengths[i]+6, y+barChartBarH*3/4, esc(bar.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
