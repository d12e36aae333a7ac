package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

type subscriptionJSON struct {
	ID               string      `json:"id"`
	RequestID        string      `json:"request_id"`
	RequestNumber    string      `json:"request_number"`
	ServiceID        string      `json:"service_id"`
	ServiceCode      string      `json:"service_code"`
	ServiceName      string      `json:"service_name"`
	ConsumerUnitID   string      `json:"consumer_unit_id"`
	ConsumerUnitCode string      `json:"consumer_unit_code"`
	ProviderUnitID   string      `json:"provider_unit_id"`
	ProviderUnitCode string      `json:"provider_unit_code"`
	MonthlyPrice     money.Money `json:"monthly_price"`
	Since            string      `json:"since"`
	EndDate          *string     `json:"end_date"`
	Status           string      `json:"status"`
	NextCharge       *nextCharge `json:"next_charge"`
}

// nextCharge is the month the billing run charges next and its amount; null
// once the subscription has ended before it.
type nextCharge struct {
	Month  string      `json:"month"`
	Amount money.Money `json:"amount"`
}

func toSubscriptionJSON(s *billing.SubscriptionView) subscriptionJSON {
	j := subscriptionJSON{ID: httpx.FormatID(s.ID), RequestID: httpx.FormatID(s.RequestID), RequestNumber: s.RequestNumber(),
		ServiceID: httpx.FormatID(s.ServiceID), ServiceCode: s.ServiceCode, ServiceName: s.ServiceName,
		ConsumerUnitID: httpx.FormatID(s.ConsumerUnitID), ConsumerUnitCode: s.ConsumerUnitCode,
		ProviderUnitID: httpx.FormatID(s.ProviderUnitID), ProviderUnitCode: s.ProviderUnitCode,
		MonthlyPrice: money.Money{Minor: s.MonthlyPriceMinor, Currency: s.Currency}, Since: s.StartDate, EndDate: s.EndDate, Status: "active"}
	if s.Ended() {
		j.Status = "ended"
	}
	if s.NextMonth != "" {
		j.NextCharge = &nextCharge{Month: s.NextMonth, Amount: money.Money{Minor: s.NextAmountMinor, Currency: s.Currency}}
	}
	return j
}

// listSubscriptions handles GET /units/{id}/subscriptions: what the unit
// subscribes to and what it provides by subscription.
func (s *Handlers) listSubscriptions(c echo.Context) error {
	unitID, err := httpx.PathID(c, "id", "unit")
	if err != nil {
		return err
	}
	list, err := billing.ListSubscriptions(c.Request().Context(), s.DB, s.BillingViewer(c), unitID)
	if err != nil {
		return err
	}
	items := make([]subscriptionJSON, len(list))
	for i := range list {
		items[i] = toSubscriptionJSON(&list[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": ""})
}

// getSubscription handles GET /subscriptions/{id}.
func (s *Handlers) getSubscription(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "subscription")
	if err != nil {
		return err
	}
	sub, err := billing.GetSubscription(c.Request().Context(), s.DB, s.BillingViewer(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSubscriptionJSON(sub))
}

type endSubscriptionBody struct {
	EndDate string `json:"end_date"`
}

// endSubscription handles POST /subscriptions/{id}/end.
func (s *Handlers) endSubscription(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "subscription")
	if err != nil {
		return err
	}
	var b endSubscriptionBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var sub *billing.SubscriptionView
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		sub, err = billing.EndSubscription(ctx, tx, s.BillingViewer(c), id, b.EndDate, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSubscriptionJSON(sub))
}
