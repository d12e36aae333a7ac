package requests

import (
	"time"

	"github.com/tiski/tiski/billing"
)

// Fulfilment is the request as billing charges it when it is resolved at
// by actorID: the quote taken at submission, not today's price. Every
// resolution (the API, the portal, the demo) builds it here.
func (r Request) Fulfilment(at time.Time, actorID int64) billing.Fulfilment {
	return billing.Fulfilment{RequestID: r.ID, Number: r.Number(), Title: r.Title,
		ConsumerUnitID: r.ConsumerUnitID, ProviderUnitID: r.ProviderUnitID, ServiceID: r.ServiceID, RateID: r.RateID,
		PricingModel: r.PricingModel, Quantity: r.Quantity, UnitPriceMinor: r.UnitPriceMinor, Currency: r.Currency,
		ResolvedAt: at, ActorID: actorID}
}
