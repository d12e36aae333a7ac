package httpx

import (
	"net/url"
	"strings"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/reports"
)

// ReportQuery reads a report's months and unit filters from a query string,
// for the API's reports and the reports page alike; Narrow checks them.
func ReportQuery(q url.Values) reports.Query {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return reports.Query{Month: get("month"), From: get("from"), To: get("to"),
		ProviderUnitID: get("provider_unit_id"), ConsumerUnitID: get("consumer_unit_id")}
}

// ChargeQuery reads a charge filter from a query string, for the API's list
// and the charges page alike.
func ChargeQuery(q url.Values) billing.ChargeQuery {
	return billing.ChargeQuery{Period: q.Get("period"), Status: q.Get("status"), ConsumerUnitID: q.Get("consumer_unit_id"),
		ProviderUnitID: q.Get("provider_unit_id"), ServiceID: q.Get("service_id")}
}
