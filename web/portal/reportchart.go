package portal

import "github.com/tiski/tiski/money"

// reportMonth is one month's net spend, for the chart and its table.
type reportMonth struct {
	Month string // YYYY-MM
	Label string // the locale's short name
	Net   money.Money
}

// reportChart is the geometry of a small bar chart of spend by month, drawn
// by reports.html as an SVG with a title and a description; the same
// figures are in a table beside it, so nothing is only in the picture.
type reportChart struct {
	Width, Height int
	Baseline      int // y of the axis
	Bars          []reportBar
	Title, Desc   string
}

type reportBar struct {
	X, Y, W, H     int
	LabelX, LabelY int
	Label, Value   string
}

const (
	rcHeight = 220
	rcTop    = 24 // room for the value above the tallest bar
	rcBottom = 28 // room for the month below the axis
	rcSlot   = 72
	rcGap    = 16
)

// reportSpendChart lays out one bar per month, scaled to the largest month;
// negative months (credits above charges) draw no bar but keep their value.
func reportSpendChart(tr translator, months []reportMonth) reportChart {
	ch := reportChart{Width: max(len(months), 1) * rcSlot, Height: rcHeight, Baseline: rcHeight - rcBottom,
		Title: tr.T("reports.chart.title"), Desc: tr.T("reports.chart.desc")}
	var top int64
	for _, m := range months {
		top = max(top, m.Net.Minor)
	}
	room := ch.Baseline - rcTop
	for i, m := range months {
		h := 0
		if top > 0 && m.Net.Minor > 0 {
			h = int(m.Net.Minor * int64(room) / top)
			h = max(h, 1)
		}
		x := i*rcSlot + rcGap/2
		w := rcSlot - rcGap
		ch.Bars = append(ch.Bars, reportBar{X: x, Y: ch.Baseline - h, W: w, H: h, LabelX: x + w/2, LabelY: ch.Baseline - h - 6,
			Label: m.Label, Value: tr.Money(m.Net)})
	}
	return ch
}
