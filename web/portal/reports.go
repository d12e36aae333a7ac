package portal

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// reportQualityRow is one provider unit's or service's quality figures,
// formatted for the page in the user's locale.
type reportQualityRow struct {
	Total                                 bool // a provider unit's row (the sum of its services)
	Provider, Service                     string
	Received, Resolved, Ratings           int64
	FirstAttainment, ResolutionAttainment string
	FirstMedian, FirstP90                 string
	ResolutionMedian, ResolutionP90       string
	Rating, ResponseRate                  string
	CostPerRequest, Recovered             string
}

type reportConsumerRow struct {
	Unit                        string
	Received, Resolved, Ratings int64
	Rating, ResponseRate        string
	Spend                       money.Money
}

type reportSpendRow struct {
	Month, Consumer, Provider, Service string
	Charges                            int64
	Charged, Credited, Net, Showback   money.Money
}

type reportsData struct {
	From, To   string             // the range shown, YYYY-MM
	Shown      bool               // false when the range could not be read
	Quality    []reportQualityRow // each provider unit, then its services
	Consumers  []reportConsumerRow
	Spend      []reportSpendRow
	Months     []reportMonth
	Total      money.Money
	Chart      reportChart
	QualityCSV string
	SpendCSV   string
	Units      []units.Unit // units the filters offer
	// Knowledge is how each service's articles served readers.
	Knowledge []reports.ServiceKnowledge
}

// reportUnits lists the units the filters offer: every active unit, as
// GET /units shows them to anyone; a filter narrows the figures, it never
// widens what the reader sees.
func (s *Pages) reportUnits(c echo.Context) ([]units.Unit, error) {
	out, err := units.ListUnits(c.Request().Context(), s.DB, units.UnitFilter{Limit: 100000})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// reportsPage shows the quality and spend reports for a month or a range
// of months, with the visibility GET /reports/* applies: managers see their
// units' rows, finance and auditors everything; anyone else gets the 404
// page.
func (s *Pages) reportsPage(c echo.Context) error {
	uid := httpx.CurrentPrincipal(c).ID()
	unitIDs, orgWide := s.Authz.UnitsWhere(uid, "report", "read")
	if !orgWide && len(unitIDs) == 0 {
		return notFoundPage()
	}
	loc, now := s.Org.Location, time.Now()
	form := url.Values{}
	for _, k := range []string{"month", "from", "to", "provider_unit_id", "consumer_unit_id"} {
		if v := strings.TrimSpace(c.QueryParam(k)); v != "" {
			form.Set(k, v)
		}
	}
	if form.Get("month") == "" && form.Get("from") == "" && form.Get("to") == "" {
		form.Set("month", now.In(loc).Format("2006-01"))
	}
	asked := httpx.ReportQuery(form)
	scope, rng, err := asked.Narrow(reports.Scope{OrgWide: orgWide, UnitIDs: unitIDs}, loc, now)
	filterUnits, ferr := s.reportUnits(c)
	if ferr != nil {
		return ferr
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("reports.title")
	v.Form = form
	if err != nil {
		r, ok := formFault(v.T, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		for field := range errs {
			if strings.HasSuffix(field, "_unit_id") {
				errs[field] = v.T.T("reports.err.unit")
			} else {
				errs[field] = v.T.T("reports.err.month")
			}
		}
		v.Errors, v.Problem = errs, problem
		v.Data = reportsData{Units: filterUnits}
		return s.render(c, http.StatusUnprocessableEntity, "reports", v)
	}
	ctx := c.Request().Context()
	q, err := reports.QualityReport(ctx, s.DB, scope, rng, s.Org.Currency)
	if err != nil {
		return err
	}
	sp, err := reports.SpendReport(ctx, s.DB, scope, rng, s.Org.Currency)
	if err != nil {
		return err
	}
	data, err := reportView(v.T, q, sp)
	if err != nil {
		return err
	}
	query := url.Values{}
	if asked.Month != "" {
		query.Set("month", asked.Month)
	} else {
		query.Set("from", asked.From)
		query.Set("to", asked.To)
	}
	for _, k := range []string{"provider_unit_id", "consumer_unit_id"} {
		if form.Get(k) != "" {
			query.Set(k, form.Get(k))
		}
	}
	if data.Knowledge, err = reports.KnowledgeFigures(ctx, s.DB, scope, rng, time.Now()); err != nil {
		return err
	}
	data.Units = filterUnits
	data.QualityCSV = "/api/v1/reports/quality.csv?" + query.Encode()
	data.SpendCSV = "/api/v1/reports/spend.csv?" + query.Encode()
	data.Chart = reportSpendChart(v.T, data.Months)
	v.Data = data
	return s.render(c, http.StatusOK, "reports", v)
}

// reportView formats the reports' figures for the page.
func reportView(tr translator, q *reports.Quality, sp *reports.Spend) (reportsData, error) {
	d := reportsData{From: q.Range.From, To: q.Range.To, Shown: true}
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: q.Currency} }
	quality := func(provider, service string, x *reports.Metrics) (reportQualityRow, error) {
		cost, err := x.CostPerRequest(q.Currency)
		if err != nil {
			return reportQualityRow{}, err
		}
		row := reportQualityRow{Provider: provider, Service: service, Received: x.Received, Resolved: x.Resolved, Ratings: x.Ratings,
			FirstAttainment: reportPercent(tr, x.FirstResponseAttainment()), ResolutionAttainment: reportPercent(tr, x.ResolutionAttainment()),
			FirstMedian: reportMinutes(tr, x.FirstResponseTimes.Median), FirstP90: reportMinutes(tr, x.FirstResponseTimes.P90),
			ResolutionMedian: reportMinutes(tr, x.ResolutionTimes.Median), ResolutionP90: reportMinutes(tr, x.ResolutionTimes.P90),
			Rating: reportFixed(tr, x.AverageRating()), ResponseRate: reportPercent(tr, x.ResponseRate()),
			CostPerRequest: "–", Recovered: tr.Money(m(x.RecoveredMinor))}
		if cost != nil {
			row.CostPerRequest = tr.Money(*cost)
		}
		return row, nil
	}
	for _, p := range q.Providers {
		row, err := quality(p.Unit.Code+" "+p.Unit.Name, "", &p.Metrics)
		if err != nil {
			return d, err
		}
		row.Total = true
		d.Quality = append(d.Quality, row)
		for _, sv := range q.Services {
			if sv.Provider.ID != p.Unit.ID {
				continue
			}
			row, err := quality(sv.Provider.Code, sv.Service.Code+" "+sv.Service.Name, &sv.Metrics)
			if err != nil {
				return d, err
			}
			d.Quality = append(d.Quality, row)
		}
	}
	for _, c := range q.Consumers {
		d.Consumers = append(d.Consumers, reportConsumerRow{Unit: c.Unit.Code + " " + c.Unit.Name, Received: c.Received,
			Resolved: c.Resolved, Ratings: c.Ratings, Rating: reportFixed(tr, c.AverageRating()),
			ResponseRate: reportPercent(tr, c.ResponseRate()), Spend: m(c.SpendMinor)})
	}
	byMonth := map[string]int64{}
	var total int64
	for _, r := range sp.Rows {
		d.Spend = append(d.Spend, reportSpendRow{Month: r.Month, Consumer: r.Consumer.Code, Provider: r.Provider.Code,
			Service: r.Service.Code + " " + r.Service.Name, Charges: r.Charges, Charged: m(r.ChargedMinor),
			Credited: m(r.CreditedMinor), Net: m(r.NetMinor), Showback: m(r.ShowbackMinor)})
		byMonth[r.Month] += r.NetMinor
		total += r.NetMinor
	}
	d.Total = m(total)
	start, err := time.Parse("2006-01", q.Range.From)
	if err != nil {
		return d, err
	}
	for t := start; t.Format("2006-01") <= q.Range.To; t = t.AddDate(0, 1, 0) {
		key := t.Format("2006-01")
		d.Months = append(d.Months, reportMonth{Month: key, Label: reportMonthLabel(tr, t), Net: m(byMonth[key])})
	}
	return d, nil
}

// reportFixed writes a figure with the locale's decimal separator.
func reportFixed(tr translator, f *reports.Fixed) string {
	if f == nil {
		return "–"
	}
	return tr.cat.Number(tr.locale, f.String())
}

func reportPercent(tr translator, f *reports.Fixed) string {
	if f == nil {
		return "–"
	}
	return tr.cat.Percent(tr.locale, f.String())
}

func reportMinutes(tr translator, m *int) string {
	if m == nil {
		return "–"
	}
	return tr.Duration(*m)
}

// reportMonthLabel names a month briefly: "Nov 2026", "marras 2026".
func reportMonthLabel(tr translator, t time.Time) string { return tr.cat.MonthName(tr.locale, t) }
