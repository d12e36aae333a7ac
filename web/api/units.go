package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type unitJSON struct {
	ID                string      `json:"id"`
	Code              string      `json:"code"`
	Name              string      `json:"name"`
	ParentID          *string     `json:"parent_id"`
	ApprovalThreshold money.Money `json:"approval_threshold"`
	BudgetMode        string      `json:"budget_mode"`
	ChargebackMode    string      `json:"chargeback_mode"`
	Archived          bool        `json:"archived"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
}

func (s *Handlers) toUnitJSON(u *units.Unit) unitJSON {
	j := unitJSON{ID: httpx.FormatID(u.ID), Code: u.Code, Name: u.Name,
		ApprovalThreshold: money.Money{Minor: u.ApprovalThresholdMinor, Currency: s.Org.Currency},
		BudgetMode:        u.BudgetMode, ChargebackMode: u.ChargebackMode, Archived: u.Archived,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
	if u.ParentID != nil {
		p := httpx.FormatID(*u.ParentID)
		j.ParentID = &p
	}
	return j
}

type unitBody struct {
	Code              *string                `json:"code"`
	Name              *string                `json:"name"`
	ParentID          httpx.Optional[string] `json:"parent_id"`
	ApprovalThreshold *money.Money           `json:"approval_threshold"`
	BudgetMode        *string                `json:"budget_mode"`
	ChargebackMode    *string                `json:"chargeback_mode"`
	Archived          *bool                  `json:"archived"`
}

// change turns a request body into a unit change, checking ids and money.
func (s *Handlers) unitChange(b unitBody) (units.UnitChange, error) {
	ch := units.UnitChange{Code: b.Code, Name: b.Name, BudgetMode: b.BudgetMode, ChargebackMode: b.ChargebackMode, Archived: b.Archived}
	if b.ParentID.Set {
		ch.SetParent = true
		if b.ParentID.Value != nil {
			id, err := httpx.ParseID("parent_id", *b.ParentID.Value)
			if err != nil {
				return ch, err
			}
			ch.ParentID = &id
		}
	}
	if b.ApprovalThreshold != nil {
		if b.ApprovalThreshold.Currency != s.Org.Currency {
			return ch, fault.Invalid("approval_threshold", "approval_threshold must be in %s", s.Org.Currency)
		}
		ch.ApprovalThresholdMinor = &b.ApprovalThreshold.Minor
	}
	return ch, nil
}

func (s *Handlers) listUnits(c echo.Context) error {
	p, err := s.ReadPage(c, "units")
	if err != nil {
		return err
	}
	rows, err := units.ListUnits(c.Request().Context(), s.DB, units.UnitFilter{
		IncludeArchived: s.SeesArchived(c), AfterID: p.AfterID, Limit: p.Limit + 1})
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "units", p, rows, func(u *units.Unit) int64 { return u.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, s.toUnitJSON))
}

func (s *Handlers) getUnit(c echo.Context) error {
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toUnitJSON(u))
}

func (s *Handlers) createUnit(c echo.Context) error {
	var body unitBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	if body.Archived != nil {
		return fault.Invalid("archived", "a new unit cannot be archived")
	}
	ch, err := s.unitChange(body)
	if err != nil {
		return err
	}
	u := units.Unit{ParentID: ch.ParentID}
	if ch.Code != nil {
		u.Code = *ch.Code
	}
	if ch.Name != nil {
		u.Name = *ch.Name
	}
	if ch.ApprovalThresholdMinor != nil {
		u.ApprovalThresholdMinor = *ch.ApprovalThresholdMinor
	}
	if ch.BudgetMode != nil {
		u.BudgetMode = *ch.BudgetMode
	}
	if ch.ChargebackMode != nil {
		u.ChargebackMode = *ch.ChargebackMode
	}
	var created *units.Unit
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		created, err = units.CreateUnit(ctx, tx, httpx.CurrentPrincipal(c).ID(), u)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.toUnitJSON(created))
}

func (s *Handlers) updateUnit(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "unit")
	if err != nil {
		return err
	}
	var body unitBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	ch, err := s.unitChange(body)
	if err != nil {
		return err
	}
	var updated *units.Unit
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		updated, err = units.UpdateUnit(ctx, s.DB, tx, httpx.CurrentPrincipal(c).ID(), id, ch)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toUnitJSON(updated))
}
