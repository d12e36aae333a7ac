package portal

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
)

// orderBudget is what an order would do to one unit's budget this month,
// shown on the order form before the person submits.
type orderBudget struct {
	Unit   units.Unit
	Month  string
	Budget *money.Money // nil: no budget set for the month
	Used   money.Money  // posted charges and commitments so far
	After  money.Money  // used plus this order's estimate at the shown quantity
	Over   bool         // the order would go past the budget
	Hard   bool         // and the budget is hard: the order will be refused
}

// orderBudgets reads this month's budget of each unit the person may order
// for. The estimate is the price at quantity one; the portal's script
// recomputes After as the quantity changes.
func (s *Pages) orderBudgets(c echo.Context, ordering []units.Unit, price *money.Money) ([]orderBudget, error) {
	if price == nil {
		return nil, nil
	}
	ctx, month := c.Request().Context(), s.thisMonth()
	var out []orderBudget
	for _, u := range ordering {
		use, err := billing.BudgetUse(ctx, s.DB, u.ID, month, s.Org.Location)
		if err != nil {
			return nil, err
		}
		ob := orderBudget{Unit: u, Month: month, Used: money.Money{Minor: use.Used(), Currency: price.Currency},
			After: money.Money{Minor: use.Used() + price.Minor, Currency: price.Currency}}
		b, err := billing.GetBudget(ctx, s.DB, u.ID, month)
		switch {
		case fault.Is(err, fault.KindNotFound):
		case err != nil:
			return nil, err
		default:
			ob.Budget = &money.Money{Minor: b.AmountMinor, Currency: b.Currency}
			ob.Over, ob.Hard = ob.After.Minor > b.AmountMinor, b.Hard
		}
		out = append(out, ob)
	}
	return out, nil
}
