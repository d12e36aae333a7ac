package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type budgetJSON struct {
	UnitID    string      `json:"unit_id"`
	Month     string      `json:"month"`
	Amount    money.Money `json:"amount"`
	WarnPct   int         `json:"warn_pct"`
	Hard      bool        `json:"hard"`
	Used      money.Money `json:"used"`
	Committed money.Money `json:"committed"`
	// PendingApproval is the part of Committed that waits for approval.
	PendingApproval money.Money `json:"pending_approval"`
	Posted          money.Money `json:"posted"`
	Remaining       money.Money `json:"remaining"`
	Warning         bool        `json:"warning"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

func toBudgetJSON(b *billing.Budget, use billing.Use) budgetJSON {
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: b.Currency} }
	return budgetJSON{UnitID: httpx.FormatID(b.UnitID), Month: b.Month, Amount: m(b.AmountMinor), WarnPct: b.WarnPct, Hard: b.Hard,
		Used: m(use.Used()), Committed: m(use.Committed), PendingApproval: m(use.Pending), Posted: m(use.Posted), Remaining: m(b.Remaining(use)),
		Warning: b.Warning(use.Used()), UpdatedAt: b.UpdatedAt.UTC()}
}

// budgetUnit loads the unit of a budget route for a caller who may act on
// its budget: managers of the unit or above it, finance and auditors read;
// to anyone else the unit is not there.
func (s *Handlers) budgetUnit(c echo.Context) (*units.Unit, error) {
	id, err := httpx.PathID(c, "id", "unit")
	if err != nil {
		return nil, err
	}
	if err := s.BillingViewer(c).MayReadBudget(id); err != nil {
		return nil, err
	}
	if err := billing.CheckMonth(c.Param("month")); err != nil {
		return nil, err
	}
	return units.GetUnit(c.Request().Context(), s.DB, id)
}

// getBudget handles GET /units/{id}/budgets/{month}.
func (s *Handlers) getBudget(c echo.Context) error {
	u, err := s.budgetUnit(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	b, err := billing.GetBudget(ctx, s.DB, u.ID, c.Param("month"))
	if err != nil {
		return err
	}
	use, err := billing.BudgetUse(ctx, s.DB, u.ID, b.Month, s.Org.Location)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBudgetJSON(b, use))
}

type budgetBody struct {
	Amount  *money.Money `json:"amount"`
	WarnPct *int         `json:"warn_pct"`
	Hard    *bool        `json:"hard"`
}

// putBudget handles PUT /units/{id}/budgets/{month} by finance. warn_pct
// defaults to 80 and hard to the unit's budget mode.
func (s *Handlers) putBudget(c echo.Context) error {
	u, err := s.budgetUnit(c)
	if err != nil {
		return err
	}
	var b budgetBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if err := s.checkMoney("amount", b.Amount); err != nil {
		return err
	}
	warnPct, hard := billing.DefaultWarnPct, u.BudgetMode == units.BudgetHard
	if b.WarnPct != nil {
		warnPct = *b.WarnPct
	}
	if b.Hard != nil {
		hard = *b.Hard
	}
	ctx, month := c.Request().Context(), c.Param("month")
	var budget *billing.Budget
	var use billing.Use
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		budget, err = billing.SetBudget(ctx, tx, s.BillingViewer(c), billing.Budget{UnitID: u.ID, Month: month,
			AmountMinor: b.Amount.Minor, Currency: b.Amount.Currency, WarnPct: warnPct, Hard: hard}, s.Org.Location, time.Now().UTC())
		if err != nil {
			return err
		}
		use, err = billing.BudgetUse(ctx, tx, u.ID, month, s.Org.Location)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBudgetJSON(budget, use))
}
