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

type adjustmentJSON struct {
	ID           string      `json:"id"`
	DebitUnitID  string      `json:"debit_unit_id"`
	CreditUnitID string      `json:"credit_unit_id"`
	Amount       money.Money `json:"amount"`
	Month        string      `json:"month"`
	Reason       string      `json:"reason"`
	Status       string      `json:"status"`
	CreatedBy    string      `json:"created_by"`
	DecidedBy    *string     `json:"decided_by"`
	DecidedAt    *time.Time  `json:"decided_at"`
	EntryID      *string     `json:"entry_id"`
	CreatedAt    time.Time   `json:"created_at"`
}

func toAdjustmentJSON(a *billing.Adjustment) adjustmentJSON {
	return adjustmentJSON{ID: httpx.FormatID(a.ID), DebitUnitID: httpx.FormatID(a.DebitUnitID), CreditUnitID: httpx.FormatID(a.CreditUnitID),
		Amount: money.Money{Minor: a.AmountMinor, Currency: a.Currency}, Month: a.Month, Reason: a.Reason, Status: a.Status,
		CreatedBy: httpx.FormatID(a.CreatedBy), DecidedBy: optionalID(a.DecidedBy), DecidedAt: utcPtr(a.DecidedAt),
		EntryID: optionalID(a.EntryID), CreatedAt: a.CreatedAt.UTC()}
}

type adjustmentBody struct {
	DebitUnitID  string       `json:"debit_unit_id"`
	CreditUnitID string       `json:"credit_unit_id"`
	Amount       *money.Money `json:"amount"`
	Month        string       `json:"month"`
	Reason       string       `json:"reason"`
}

// createAdjustment handles POST /adjustments by finance: it posts at once up
// to the configured limit and waits for a second finance user above it.
func (s *Handlers) createAdjustment(c echo.Context) error {
	var b adjustmentBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	a := billing.Adjustment{Month: b.Month, Reason: b.Reason}
	var err error
	if a.DebitUnitID, err = httpx.ParseID("debit_unit_id", b.DebitUnitID); err != nil {
		return err
	}
	if a.CreditUnitID, err = httpx.ParseID("credit_unit_id", b.CreditUnitID); err != nil {
		return err
	}
	if err := s.checkMoney("amount", b.Amount); err != nil {
		return err
	}
	a.AmountMinor, a.Currency = b.Amount.Minor, b.Amount.Currency
	ctx := c.Request().Context()
	var created *billing.Adjustment
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		created, err = billing.CreateAdjustment(ctx, tx, s.BillingViewer(c), a, s.Cfg.AdjustmentApprovalLimitMinor, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAdjustmentJSON(created))
}

type adjustmentActionBody struct {
	Action string `json:"action"`
	Note   string `json:"note"`
}

// decideAdjustment handles POST /adjustments/{id}/actions by a finance user
// other than the adjustment's maker.
func (s *Handlers) decideAdjustment(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "adjustment")
	if err != nil {
		return err
	}
	var b adjustmentActionBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var a *billing.Adjustment
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		a, err = billing.DecideAdjustment(ctx, tx, s.BillingViewer(c), id, b.Action, b.Note, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdjustmentJSON(a))
}

func (s *Handlers) listAdjustments(c echo.Context) error {
	if err := s.BillingViewer(c).MayListAdjustments(); err != nil {
		return err
	}
	p, err := s.ReadPage(c, "adjustments")
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains([]string{billing.AdjustmentPending, billing.AdjustmentPosted, billing.AdjustmentRejected}, status) {
		return fault.Invalid("status", "status must be pending, posted or rejected")
	}
	rows, err := billing.ListAdjustments(c.Request().Context(), s.DB, status, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "adjustments", p, rows, func(a *billing.Adjustment) int64 { return a.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toAdjustmentJSON))
}
