package reports

import (
	"strconv"

	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
)

// QualityColumns are the columns of the quality report file. A row is a
// provider unit, a service or a consumer unit (the "row" column says which);
// cells that do not apply to its kind are empty.
var QualityColumns = []string{"row", "from", "to", "provider_unit", "service_code", "service_name", "consumer_unit",
	"received", "resolved", "first_responses", "first_response_met", "first_response_attainment_pct",
	"first_response_median_minutes", "first_response_p90_minutes", "resolution_met", "resolution_attainment_pct",
	"resolution_median_minutes", "resolution_p90_minutes", "ratings", "average_rating", "response_rate_pct",
	"recovered", "cost_per_request", "spend", "currency"}

// SpendColumns are the columns of the spend report file.
var SpendColumns = []string{"month", "consumer_unit", "provider_unit", "service_code", "service_name", "charges",
	"charged", "credited", "net", "showback", "currency"}

// WriteQuality writes the quality report as a header and its provider,
// service and consumer rows in that order. It does not close w.
func WriteQuality(w export.Writer, q *Quality) error {
	if err := w.Write(export.Header(QualityColumns...)); err != nil {
		return err
	}
	amount := func(minor int64) export.Cell {
		return export.AmountCell(money.Money{Minor: minor, Currency: q.Currency})
	}
	write := func(cells map[string]export.Cell) error {
		cells["from"], cells["to"], cells["currency"] = export.TextCell(q.Range.From), export.TextCell(q.Range.To), export.TextCell(q.Currency)
		row := make([]export.Cell, len(QualityColumns))
		for i, name := range QualityColumns {
			row[i] = cells[name] // the zero Cell is empty text
		}
		return w.Write(row)
	}
	metrics := func(cells map[string]export.Cell, m *Metrics) (map[string]export.Cell, error) {
		cost, err := m.CostPerRequest(q.Currency)
		if err != nil {
			return nil, err
		}
		if cost != nil {
			cells["cost_per_request"] = export.AmountCell(*cost)
		}
		cells["received"], cells["resolved"] = export.IntCell(m.Received), export.IntCell(m.Resolved)
		cells["first_responses"], cells["first_response_met"] = export.IntCell(m.FirstResponses), export.IntCell(m.FirstResponseMet)
		cells["first_response_attainment_pct"] = fixedCell(m.FirstResponseAttainment())
		cells["first_response_median_minutes"] = minutesCell(m.FirstResponseTimes.Median)
		cells["first_response_p90_minutes"] = minutesCell(m.FirstResponseTimes.P90)
		cells["resolution_met"] = export.IntCell(m.ResolutionMet)
		cells["resolution_attainment_pct"] = fixedCell(m.ResolutionAttainment())
		cells["resolution_median_minutes"] = minutesCell(m.ResolutionTimes.Median)
		cells["resolution_p90_minutes"] = minutesCell(m.ResolutionTimes.P90)
		cells["ratings"], cells["average_rating"] = export.IntCell(m.Ratings), fixedCell(m.AverageRating())
		cells["response_rate_pct"], cells["recovered"] = fixedCell(m.ResponseRate()), amount(m.RecoveredMinor)
		return cells, nil
	}
	for _, p := range q.Providers {
		cells, err := metrics(map[string]export.Cell{"row": export.TextCell("provider"), "provider_unit": export.TextCell(p.Unit.Code)}, &p.Metrics)
		if err != nil {
			return err
		}
		if err := write(cells); err != nil {
			return err
		}
	}
	for _, s := range q.Services {
		cells, err := metrics(map[string]export.Cell{"row": export.TextCell("service"), "provider_unit": export.TextCell(s.Provider.Code),
			"service_code": export.TextCell(s.Service.Code), "service_name": export.TextCell(s.Service.Name)}, &s.Metrics)
		if err != nil {
			return err
		}
		if err := write(cells); err != nil {
			return err
		}
	}
	for _, c := range q.Consumers {
		if err := write(map[string]export.Cell{"row": export.TextCell("consumer"), "consumer_unit": export.TextCell(c.Unit.Code),
			"received": export.IntCell(c.Received), "resolved": export.IntCell(c.Resolved), "ratings": export.IntCell(c.Ratings),
			"average_rating": fixedCell(c.AverageRating()), "response_rate_pct": fixedCell(c.ResponseRate()),
			"spend": amount(c.SpendMinor)}); err != nil {
			return err
		}
	}
	return nil
}

// WriteSpend writes the spend report as a header and one row per consumer
// unit, service and month. It does not close w.
func WriteSpend(w export.Writer, s *Spend) error {
	if err := w.Write(export.Header(SpendColumns...)); err != nil {
		return err
	}
	amount := func(minor int64) export.Cell {
		return export.AmountCell(money.Money{Minor: minor, Currency: s.Currency})
	}
	for _, r := range s.Rows {
		if err := w.Write([]export.Cell{export.TextCell(r.Month), export.TextCell(r.Consumer.Code), export.TextCell(r.Provider.Code),
			export.TextCell(r.Service.Code), export.TextCell(r.Service.Name), export.IntCell(r.Charges), amount(r.ChargedMinor),
			amount(r.CreditedMinor), amount(r.NetMinor), amount(r.ShowbackMinor), export.TextCell(s.Currency)}); err != nil {
			return err
		}
	}
	return nil
}

// fixedCell is a figure, or an empty cell when there is none.
func fixedCell(f *Fixed) export.Cell {
	if f == nil {
		return export.Cell{}
	}
	return export.NumberCell(f.String())
}

func minutesCell(m *int) export.Cell {
	if m == nil {
		return export.Cell{}
	}
	return export.NumberCell(strconv.Itoa(*m))
}
