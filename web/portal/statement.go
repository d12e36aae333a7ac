package portal

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type statementLineView struct {
	billing.StatementLine
	UnitPrice, Amount, Credit, Net money.Money
}

type statementMovementView struct {
	billing.Movement
	Amount money.Money
}

type statementData struct {
	Unit       unitRef
	Month      string
	Lines      []statementLineView
	Movements  []statementMovementView
	Charged    money.Money
	Credited   money.Money
	Adjusted   money.Money
	Net        money.Money
	CanJournal bool // the viewer reads the GL journal, where the entries are
}

// statementPage shows a unit's statement for a month: each charge with its
// request, charge and journal entry, the month's credits and adjustments
// with their reasons, and the totals. Managers of the unit (inherited),
// finance and auditors read it; to anyone else it is not there.
func (s *Pages) statementPage(c echo.Context) error {
	unitID, err := httpx.PathID(c, "id", "statement")
	if err != nil {
		return err
	}
	if !s.Allowed(c, unitID, "statement", "read") {
		return fault.NotFound("statement")
	}
	month := c.Param("month")
	if err := billing.CheckMonth(month); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := units.GetUnit(ctx, s.DB, unitID)
	if err != nil {
		return err
	}
	data := statementData{Unit: unitRef{ID: u.ID, Code: u.Code, Name: u.Name}, Month: month,
		CanJournal: s.Allowed(c, httpx.OrgWide, "export", "read")}
	for l, err := range billing.StatementLines(ctx, s.DB, billing.ConsumerSide, unitID, month) {
		if err != nil {
			return err
		}
		m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: l.Currency} }
		data.Lines = append(data.Lines, statementLineView{StatementLine: l, UnitPrice: m(l.UnitPriceMinor), Amount: m(l.AmountMinor),
			Credit: m(l.CreditMinor), Net: m(l.NetMinor())})
		if len(data.Lines) >= 1000 {
			break // the files hold every line
		}
	}
	moves, err := billing.StatementMovements(ctx, s.DB, billing.ConsumerSide, unitID, month)
	if err != nil {
		return err
	}
	for _, mv := range moves {
		data.Movements = append(data.Movements, statementMovementView{Movement: mv, Amount: money.Money{Minor: mv.AmountMinor, Currency: mv.Currency}})
	}
	t, err := billing.SumStatement(ctx, s.DB, billing.ConsumerSide, unitID, month, s.Org.Currency)
	if err != nil {
		return err
	}
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: t.Currency} }
	data.Charged, data.Credited, data.Adjusted, data.Net = m(t.ChargedMinor), m(t.CreditedMinor), m(t.AdjustedMinor), m(t.NetMinor)
	v := s.newView(c, "", data)
	v.Title = v.T.T("statement.title", data.Unit.Label(), month)
	return s.render(c, http.StatusOK, "statement", v)
}
