package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

type chargeJSON struct {
	ID             string       `json:"id"`
	RequestID      *string      `json:"request_id"`
	ConsumerUnitID string       `json:"consumer_unit_id"`
	ProviderUnitID string       `json:"provider_unit_id"`
	ServiceID      string       `json:"service_id"`
	RateID         *string      `json:"rate_id"`
	Period         string       `json:"period"`
	LateFrom       *string      `json:"late_from"`
	Quantity       string       `json:"quantity"`
	Minutes        *int64       `json:"minutes"`
	Time           *string      `json:"time"`
	UnitPrice      money.Money  `json:"unit_price"`
	Amount         money.Money  `json:"amount"`
	Status         string       `json:"status"`
	Showback       bool         `json:"showback"`
	Description    string       `json:"description"`
	EntryID        *string      `json:"entry_id"`
	CreatedAt      time.Time    `json:"created_at"`
	Dispute        *disputeJSON `json:"dispute,omitempty"`
}

type disputeJSON struct {
	ID         string      `json:"id"`
	ChargeID   string      `json:"charge_id"`
	RaisedBy   string      `json:"raised_by"`
	Reason     string      `json:"reason"`
	Status     string      `json:"status"`
	Credit     money.Money `json:"credit"`
	Note       string      `json:"note"`
	EntryID    *string     `json:"entry_id"`
	ResolvedAt *time.Time  `json:"resolved_at"`
	CreatedAt  time.Time   `json:"created_at"`
}

type periodJSON struct {
	Month    string     `json:"month"`
	Status   string     `json:"status"`
	ClosedAt *time.Time `json:"closed_at"`
}

func optionalID(id *int64) *string {
	if id == nil {
		return nil
	}
	s := httpx.FormatID(*id)
	return &s
}

func toChargeJSON(c *billing.Charge) chargeJSON {
	var clock *string
	if t := c.Time(); t != "" {
		clock = &t
	}
	return chargeJSON{Minutes: c.BilledMinutes(), Time: clock, ID: httpx.FormatID(c.ID), RequestID: optionalID(c.RequestID), ConsumerUnitID: httpx.FormatID(c.ConsumerUnitID),
		ProviderUnitID: httpx.FormatID(c.ProviderUnitID), ServiceID: httpx.FormatID(c.ServiceID), RateID: optionalID(c.RateID),
		Period: c.Period, LateFrom: c.LateFrom, Quantity: c.Quantity,
		UnitPrice: money.Money{Minor: c.UnitPriceMinor, Currency: c.Currency},
		Amount:    money.Money{Minor: c.AmountMinor, Currency: c.Currency}, Status: c.Status, Showback: c.Showback,
		Description: c.Description, EntryID: optionalID(c.EntryID), CreatedAt: c.CreatedAt.UTC()}
}

func toDisputeJSON(d *billing.Dispute, currency string) *disputeJSON {
	return &disputeJSON{ID: httpx.FormatID(d.ID), ChargeID: httpx.FormatID(d.ChargeID), RaisedBy: httpx.FormatID(d.RaisedBy), Reason: d.Reason,
		Status: d.Status, Credit: money.Money{Minor: d.CreditMinor, Currency: currency}, Note: d.Note,
		EntryID: optionalID(d.EntryID), ResolvedAt: utcPtr(d.ResolvedAt), CreatedAt: d.CreatedAt.UTC()}
}

func (s *Handlers) listCharges(c echo.Context) error {
	p, err := s.ReadPage(c, "charges")
	if err != nil {
		return err
	}
	f, faults := httpx.ChargeQuery(c.QueryParams()).Filter()
	if len(faults) > 0 {
		return faults[0]
	}
	f.AfterID, f.Limit = p.AfterID, p.Limit+1
	rows, err := billing.ListCharges(c.Request().Context(), s.DB, s.BillingViewer(c), f)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "charges", p, rows, func(ch *billing.Charge) int64 { return ch.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toChargeJSON))
}

func (s *Handlers) getCharge(c echo.Context) error {
	ch, err := s.VisibleCharge(c)
	if err != nil {
		return err
	}
	j := toChargeJSON(ch)
	d, err := billing.DisputeOf(c.Request().Context(), s.DB, ch.ID)
	if err != nil {
		return err
	}
	if d != nil {
		j.Dispute = toDisputeJSON(d, ch.Currency)
	}
	return c.JSON(http.StatusOK, j)
}

type disputeBody struct {
	Reason string `json:"reason"`
}

// raiseDispute handles POST /charges/{id}/disputes by a manager of the
// charge's consumer unit.
func (s *Handlers) raiseDispute(c echo.Context) error {
	ch, err := s.VisibleCharge(c)
	if err != nil {
		return err
	}
	var b disputeBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var d *billing.Dispute
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		d, err = billing.RaiseDispute(ctx, tx, s.BillingViewer(c), ch.ID, b.Reason, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toDisputeJSON(d, ch.Currency))
}

type settleBody struct {
	Action      string `json:"action"`
	CreditMinor int64  `json:"credit_minor"`
	Note        string `json:"note"`
}

// settleDispute handles POST /disputes/{id}/actions by finance.
func (s *Handlers) settleDispute(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "dispute")
	if err != nil {
		return err
	}
	var b settleBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var d *billing.Dispute
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		d, err = billing.SettleDispute(ctx, tx, s.BillingViewer(c),
			billing.Settlement{DisputeID: id, Action: b.Action, CreditMinor: b.CreditMinor, Note: b.Note}, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDisputeJSON(d, s.Org.Currency))
}

func (s *Handlers) listDisputes(c echo.Context) error {
	if err := s.BillingViewer(c).MayListDisputes(); err != nil {
		return err
	}
	p, err := s.ReadPage(c, "disputes")
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains([]string{billing.DisputeOpen, billing.DisputeAccepted, billing.DisputeRejected}, status) {
		return fault.Invalid("status", "status must be open, accepted or rejected")
	}
	rows, err := billing.ListDisputes(c.Request().Context(), s.DB, status, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "disputes", p, rows, func(d *billing.Dispute) int64 { return d.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, func(d *billing.Dispute) *disputeJSON { return toDisputeJSON(d, s.Org.Currency) }))
}

func toPeriodJSON(p *billing.Period) periodJSON {
	return periodJSON{Month: p.Month, Status: p.Status, ClosedAt: utcPtr(p.ClosedAt)}
}

func (s *Handlers) listPeriods(c echo.Context) error {
	if err := s.BillingViewer(c).MayListPeriods(); err != nil {
		return err
	}
	rows, err := billing.ListPeriods(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpx.ListOf(rows, "", toPeriodJSON))
}

type periodActionBody struct {
	Action string `json:"action"`
}

func (s *Handlers) actOnPeriod(c echo.Context) error {
	var b periodActionBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var p *billing.Period
	err := audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		p, err = billing.MovePeriod(ctx, tx, s.BillingViewer(c), c.Param("month"), b.Action, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPeriodJSON(p))
}
