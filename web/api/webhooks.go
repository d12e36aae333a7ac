package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/web/httpx"
	"github.com/tiski/tiski/webhooks"
)

type webhookJSON struct {
	ID        string    `json:"id"`
	UnitID    *string   `json:"unit_id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Format    string    `json:"format"`
	Locale    string    `json:"locale"`
	Kinds     []string  `json:"kinds"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Secret is shown once, in the answer to the creation.
	Secret string `json:"secret,omitempty"`
}

func toWebhookJSON(sub *webhooks.Subscription) webhookJSON {
	kinds := sub.Kinds
	if kinds == nil {
		kinds = []string{}
	}
	return webhookJSON{ID: httpx.FormatID(sub.ID), UnitID: optionalID(sub.UnitID), Name: sub.Name, URL: sub.URL,
		Format: sub.Format, Locale: sub.Locale, Kinds: kinds, CreatedBy: httpx.FormatID(sub.CreatedBy), CreatedAt: sub.CreatedAt.UTC()}
}

type deliveryJSON struct {
	ID            string    `json:"id"`
	EventID       string    `json:"event_id"`
	Kind          string    `json:"kind"`
	Attempt       int       `json:"attempt"`
	Outcome       string    `json:"outcome"`
	MessageStatus string    `json:"message_status"`
	ResponseCode  int       `json:"response_code"`
	Error         string    `json:"error"`
	At            time.Time `json:"at"`
}

func toDeliveryJSON(d *webhooks.Delivery) deliveryJSON {
	return deliveryJSON{ID: httpx.FormatID(d.ID), EventID: httpx.FormatID(d.EventID), Kind: d.Kind, Attempt: d.Attempt,
		Outcome: d.Outcome, MessageStatus: d.MessageStatus, ResponseCode: d.ResponseCode, Error: d.Error, At: d.At.UTC()}
}

// webhookUnit reads ?unit_id= (absent: the organisation).
func webhookUnit(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	return httpx.ParseID("unit_id", raw)
}

// listWebhooks handles GET /webhooks: the subscriptions of ?unit_id=, or
// the organisation's without it, for their keepers.
func (s *Handlers) listWebhooks(c echo.Context) error {
	unitID, err := webhookUnit(c.QueryParam("unit_id"))
	if err != nil {
		return err
	}
	subs, err := webhooks.ListAs(c.Request().Context(), s.DB, s.WebhookKeeper(c), unitID)
	if err != nil {
		return err
	}
	out := httpx.List[webhookJSON]{Items: make([]webhookJSON, len(subs))}
	for i, sub := range subs {
		out.Items[i] = toWebhookJSON(sub)
	}
	return c.JSON(http.StatusOK, out)
}

type webhookBody struct {
	UnitID string   `json:"unit_id"`
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Format string   `json:"format"`
	Locale string   `json:"locale"`
	Kinds  []string `json:"kinds"`
}

// createWebhook handles POST /webhooks: 201 with the secret, this once.
func (s *Handlers) createWebhook(c echo.Context) error {
	var b webhookBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	unitID, err := webhookUnit(b.UnitID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in := webhooks.Input{UnitID: unitID, Name: b.Name, URL: b.URL, Format: b.Format, Locale: b.Locale, Kinds: b.Kinds}
	var sub *webhooks.Subscription
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		sub, err = s.WebhookStore(s.Texts.Locales()).CreateAs(ctx, tx, s.WebhookKeeper(c), in, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	out := toWebhookJSON(sub)
	out.Secret = sub.Secret
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store") // the answer carries the secret
	return c.JSON(http.StatusCreated, out)
}

// getWebhook handles GET /webhooks/{id}, without the secret.
func (s *Handlers) getWebhook(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "webhook subscription")
	if err != nil {
		return err
	}
	sub, err := webhooks.GetAs(c.Request().Context(), s.DB, s.WebhookKeeper(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(sub))
}

// listWebhookDeliveries handles GET /webhooks/{id}/deliveries: the
// delivery log, newest attempt first, paged by cursor.
func (s *Handlers) listWebhookDeliveries(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "webhook subscription")
	if err != nil {
		return err
	}
	kind := "webhook-deliveries:" + httpx.FormatID(id)
	p, err := s.ReadPage(c, kind)
	if err != nil {
		return err
	}
	_, rows, err := webhooks.DeliveriesAs(c.Request().Context(), s.DB, s.WebhookKeeper(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, kind, p, rows, func(d *webhooks.Delivery) int64 { return d.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toDeliveryJSON))
}

// deleteWebhook handles DELETE /webhooks/{id}: 204; its log stays.
func (s *Handlers) deleteWebhook(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "webhook subscription")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := webhooks.DeleteAs(ctx, tx, s.WebhookKeeper(c), id, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
