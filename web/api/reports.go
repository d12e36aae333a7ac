package api

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/web/httpx"
)

type unitRefJSON struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type serviceRefJSON struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type timesJSON struct {
	Median *int `json:"median"`
	P90    *int `json:"p90"`
}

type qualityMetricsJSON struct {
	Received                     int64          `json:"received"`
	Resolved                     int64          `json:"resolved"`
	FirstResponses               int64          `json:"first_responses"`
	FirstResponseMet             int64          `json:"first_response_met"`
	FirstResponseAttainmentPct   *reports.Fixed `json:"first_response_attainment_pct"`
	FirstResponseBusinessMinutes timesJSON      `json:"first_response_business_minutes"`
	ResolutionMet                int64          `json:"resolution_met"`
	ResolutionAttainmentPct      *reports.Fixed `json:"resolution_attainment_pct"`
	ResolutionBusinessMinutes    timesJSON      `json:"resolution_business_minutes"`
	Ratings                      int64          `json:"ratings"`
	AverageRating                *reports.Fixed `json:"average_rating"`
	ResponseRatePct              *reports.Fixed `json:"response_rate_pct"`
	Recovered                    money.Money    `json:"recovered"`
	CostPerRequest               *money.Money   `json:"cost_per_request"`
}

type providerQualityJSON struct {
	Unit unitRefJSON `json:"provider_unit"`
	qualityMetricsJSON
}

type serviceQualityJSON struct {
	Service  serviceRefJSON `json:"service"`
	Provider unitRefJSON    `json:"provider_unit"`
	qualityMetricsJSON
}

type consumerQualityJSON struct {
	Unit            unitRefJSON    `json:"consumer_unit"`
	Received        int64          `json:"received"`
	Resolved        int64          `json:"resolved"`
	Ratings         int64          `json:"ratings"`
	AverageRating   *reports.Fixed `json:"average_rating"`
	ResponseRatePct *reports.Fixed `json:"response_rate_pct"`
	Spend           money.Money    `json:"spend"`
}

type qualityJSON struct {
	From      string                 `json:"from"`
	To        string                 `json:"to"`
	Providers []providerQualityJSON  `json:"providers"`
	Services  []serviceQualityJSON   `json:"services"`
	Consumers []consumerQualityJSON  `json:"consumers"`
	Knowledge []serviceKnowledgeJSON `json:"knowledge"`
}

type spendRowJSON struct {
	Month        string         `json:"month"`
	ConsumerUnit unitRefJSON    `json:"consumer_unit"`
	ProviderUnit unitRefJSON    `json:"provider_unit"`
	Service      serviceRefJSON `json:"service"`
	Charges      int64          `json:"charges"`
	Charged      money.Money    `json:"charged"`
	Credited     money.Money    `json:"credited"`
	Net          money.Money    `json:"net"`
	Showback     money.Money    `json:"showback"`
}

type spendJSON struct {
	From  string         `json:"from"`
	To    string         `json:"to"`
	Items []spendRowJSON `json:"items"`
}

func toUnitRefJSON(u reports.UnitRef) unitRefJSON {
	return unitRefJSON{ID: httpx.FormatID(u.ID), Code: u.Code, Name: u.Name}
}

func toServiceRefJSON(s reports.ServiceRef) serviceRefJSON {
	return serviceRefJSON{ID: httpx.FormatID(s.ID), Code: s.Code, Name: s.Name}
}

func toQualityMetricsJSON(m *reports.Metrics, currency string) (qualityMetricsJSON, error) {
	cost, err := m.CostPerRequest(currency)
	if err != nil {
		return qualityMetricsJSON{}, err
	}
	return qualityMetricsJSON{Received: m.Received, Resolved: m.Resolved, FirstResponses: m.FirstResponses,
		FirstResponseMet: m.FirstResponseMet, FirstResponseAttainmentPct: m.FirstResponseAttainment(),
		FirstResponseBusinessMinutes: timesJSON(m.FirstResponseTimes), ResolutionMet: m.ResolutionMet,
		ResolutionAttainmentPct: m.ResolutionAttainment(), ResolutionBusinessMinutes: timesJSON(m.ResolutionTimes),
		Ratings: m.Ratings, AverageRating: m.AverageRating(), ResponseRatePct: m.ResponseRate(),
		Recovered: money.Money{Minor: m.RecoveredMinor, Currency: currency}, CostPerRequest: cost}, nil
}

func toQualityJSON(q *reports.Quality) (qualityJSON, error) {
	j := qualityJSON{From: q.Range.From, To: q.Range.To, Providers: []providerQualityJSON{}, Services: []serviceQualityJSON{},
		Consumers: []consumerQualityJSON{}}
	for _, p := range q.Providers {
		m, err := toQualityMetricsJSON(&p.Metrics, q.Currency)
		if err != nil {
			return j, err
		}
		j.Providers = append(j.Providers, providerQualityJSON{Unit: toUnitRefJSON(p.Unit), qualityMetricsJSON: m})
	}
	for _, s := range q.Services {
		m, err := toQualityMetricsJSON(&s.Metrics, q.Currency)
		if err != nil {
			return j, err
		}
		j.Services = append(j.Services, serviceQualityJSON{Service: toServiceRefJSON(s.Service), Provider: toUnitRefJSON(s.Provider),
			qualityMetricsJSON: m})
	}
	for _, c := range q.Consumers {
		j.Consumers = append(j.Consumers, consumerQualityJSON{Unit: toUnitRefJSON(c.Unit), Received: c.Received,
			Resolved: c.Resolved, Ratings: c.Ratings, AverageRating: c.AverageRating(), ResponseRatePct: c.ResponseRate(),
			Spend: money.Money{Minor: c.SpendMinor, Currency: q.Currency}})
	}
	return j, nil
}

func toSpendJSON(s *reports.Spend) spendJSON {
	j := spendJSON{From: s.Range.From, To: s.Range.To, Items: []spendRowJSON{}}
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: s.Currency} }
	for _, r := range s.Rows {
		j.Items = append(j.Items, spendRowJSON{Month: r.Month, ConsumerUnit: toUnitRefJSON(r.Consumer),
			ProviderUnit: toUnitRefJSON(r.Provider), Service: toServiceRefJSON(r.Service), Charges: r.Charges,
			Charged: m(r.ChargedMinor), Credited: m(r.CreditedMinor), Net: m(r.NetMinor), Showback: m(r.ShowbackMinor)})
	}
	return j
}

// reportQuery reads who may see what (report:read: managers in the units
// they manage, inherited; finance and auditors everywhere) and the range and
// filters of the query string. A caller with report:read nowhere gets 403.
func (s *Handlers) reportQuery(c echo.Context) (reports.Scope, reports.Range, error) {
	unitIDs, orgWide := s.Authz.UnitsWhere(httpx.CurrentPrincipal(c).ID(), "report", "read")
	if !orgWide && len(unitIDs) == 0 {
		return reports.Scope{}, reports.Range{}, fault.Forbidden("reports are for unit managers, finance and auditors")
	}
	return httpx.ReportQuery(c.QueryParams()).Narrow(reports.Scope{OrgWide: orgWide, UnitIDs: unitIDs}, s.Org.Location, time.Now())
}

// getQualityReport handles GET /reports/quality and /reports/quality.csv.
func (s *Handlers) getQualityReport(c echo.Context) error {
	scope, rng, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	q, err := reports.QualityReport(ctx, s.DB, scope, rng, s.Org.Currency)
	if err != nil {
		return err
	}
	if c.Path() == "/api/v1/reports/quality.csv" {
		dialect, err := httpx.CSVDialect(c)
		if err != nil {
			return err
		}
		return s.download(c, csvContentType, "quality-"+rng.From+"-"+rng.To+".csv", func(w io.Writer) error {
			cw := export.NewCSVIn(w, dialect)
			if err := reports.WriteQuality(cw, q); err != nil {
				return err
			}
			return cw.Close()
		})
	}
	j, err := toQualityJSON(q)
	if err != nil {
		return err
	}
	kn, err := reports.KnowledgeFigures(ctx, s.DB, scope, rng, time.Now())
	if err != nil {
		return err
	}
	j.Knowledge = toKnowledgeJSON(kn)
	return c.JSON(http.StatusOK, j)
}

// getSpendReport handles GET /reports/spend and /reports/spend.csv.
func (s *Handlers) getSpendReport(c echo.Context) error {
	scope, rng, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	sp, err := reports.SpendReport(c.Request().Context(), s.DB, scope, rng, s.Org.Currency)
	if err != nil {
		return err
	}
	if c.Path() == "/api/v1/reports/spend.csv" {
		dialect, err := httpx.CSVDialect(c)
		if err != nil {
			return err
		}
		return s.download(c, csvContentType, "spend-"+rng.From+"-"+rng.To+".csv", func(w io.Writer) error {
			cw := export.NewCSVIn(w, dialect)
			if err := reports.WriteSpend(cw, sp); err != nil {
				return err
			}
			return cw.Close()
		})
	}
	return c.JSON(http.StatusOK, toSpendJSON(sp))
}
