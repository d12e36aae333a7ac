package httpx

import (
	"net/url"

	"github.com/tiski/tiski/billing"
)

// ChargeQuery reads a charge filter from a query string, for the API's list
// and the charges page alike.
func ChargeQuery(q url.Values) billing.ChargeQuery {
	return billing.ChargeQuery{Period: q.Get("period"), Status: q.Get("status"), ConsumerUnitID: q.Get("consumer_unit_id"),
		ProviderUnitID: q.Get("provider_unit_id"), ServiceID: q.Get("service_id")}
}
