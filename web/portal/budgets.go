package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

// historyMonths is how many months the spend chart shows.
const historyMonths = 6

// budgetRow is one unit's month: its budget (if any) against its use, and
// its spend over the last months.
type budgetRow struct {
	Unit                                       unitRef
	Budget                                     *billing.Budget
	Amount, Posted, Committed, Used, Remaining money.Money
	// Pending is what orders waiting for approval commit; Approved the
	// rest of Committed (approved or needing no approval, not fulfilled).
	Pending, Approved money.Money
	Warning, Over     bool
	Chart             barChart
	History           []monthSpend
	HistoryChart      barChart
	// Typed values for the finance form.
	FormAmount, FormWarn string
	FormHard             bool
}

type monthSpend struct {
	Month string
	Spend money.Money
}

type budgetsData struct {
	Month     string
	Rows      []budgetRow
	CanManage bool
	FormFor   int64
}

// lastMonths returns n months ending with month, oldest first.
func lastMonths(month string, n int) []string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return nil
	}
	out := make([]string, n)
	for i := range n {
		out[n-1-i] = t.AddDate(0, -i, 0).Format("2006-01")
	}
	return out
}

// budgetsPage shows, per unit the user may see, the month's budget against
// spend (posted plus committed) and spend by month.
func (s *Pages) budgetsPage(c echo.Context) error {
	return s.showBudgets(c, http.StatusOK, nil, nil, 0)
}

func (s *Pages) showBudgets(c echo.Context, status int, errs map[string]string, typed url.Values, formFor int64) error {
	list, err := s.unitsFor(c, "budget", "read")
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return notFoundPage()
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("budgets.title")
	month := c.QueryParam("month")
	if month == "" || billing.CheckMonth(month) != nil {
		if month != "" {
			v.Errors["month"] = v.T.T("money.err.month")
		}
		month = s.thisMonth()
	}
	if u := c.QueryParam("unit_id"); u != "" {
		for _, ref := range list {
			if httpx.FormatID(ref.ID) == u {
				list = []unitRef{ref}
				break
			}
		}
	}
	ctx, cur := c.Request().Context(), s.Org.Currency
	data := budgetsData{Month: month, CanManage: s.Allowed(c, httpx.OrgWide, "budget", "manage"), FormFor: formFor}
	for _, u := range list {
		use, err := billing.BudgetUse(ctx, s.DB, u.ID, month, s.Org.Location)
		if err != nil {
			return err
		}
		r := budgetRow{Unit: u, Posted: moneyOf(use.Posted, cur), Committed: moneyOf(use.Committed, cur), Used: moneyOf(use.Used(), cur),
			Pending: moneyOf(use.Pending, cur), Approved: moneyOf(use.Committed-use.Pending, cur),
			Amount: moneyOf(0, cur), Remaining: moneyOf(0, cur), FormWarn: strconv.Itoa(billing.DefaultWarnPct)}
		b, err := billing.GetBudget(ctx, s.DB, u.ID, month)
		switch {
		case err == nil:
			r.Budget, r.Amount, r.Remaining = b, moneyOf(b.AmountMinor, b.Currency), moneyOf(b.Remaining(use), b.Currency)
			r.Warning, r.Over = b.Warning(use.Used()), use.Used() > b.AmountMinor
			r.FormAmount, r.FormWarn, r.FormHard = formAmount(v.T.Format(), b.AmountMinor, b.Currency), strconv.Itoa(b.WarnPct), b.Hard
		case !fault.Is(err, fault.KindNotFound):
			return err
		}
		if formFor == u.ID && typed != nil {
			r.FormAmount, r.FormWarn, r.FormHard = typed.Get("amount"), typed.Get("warn_pct"), typed.Get("hard") == "on"
		}
		id := "budget-chart-" + httpx.FormatID(u.ID)
		usedClass := "used"
		if r.Over {
			usedClass = "over"
		}
		desc := v.T.T("budgets.chart.desc.none", v.T.Money(r.Posted), v.T.Money(r.Approved), v.T.Money(r.Pending))
		if r.Budget != nil {
			desc = v.T.T("budgets.chart.desc", v.T.Money(r.Amount), v.T.Money(r.Posted), v.T.Money(r.Approved), v.T.Money(r.Pending))
		}
		r.Chart = barChart{ID: id, Title: v.T.T("budgets.chart.title", u.Label(), month), Desc: desc,
			Bars: []chartBar{
				{Label: v.T.T("budgets.budget"), Value: r.Amount.Minor, Text: v.T.Money(r.Amount), Class: "budget"},
				{Label: v.T.T("budgets.posted"), Value: use.Posted, Text: v.T.Money(r.Posted), Class: "posted"},
				{Label: v.T.T("budgets.committed"), Value: r.Approved.Minor, Text: v.T.Money(r.Approved), Class: "committed"},
				{Label: v.T.T("budgets.pending"), Value: use.Pending, Text: v.T.Money(r.Pending), Class: "pending"},
				{Label: v.T.T("budgets.used.short"), Value: use.Used(), Text: v.T.Money(r.Used), Class: usedClass},
			}}
		var texts []string
		hist := barChart{ID: "spend-chart-" + httpx.FormatID(u.ID), Title: v.T.T("budgets.history.title", u.Label())}
		for _, m := range lastMonths(month, historyMonths) {
			mu, err := billing.BudgetUse(ctx, s.DB, u.ID, m, s.Org.Location)
			if err != nil {
				return err
			}
			spend := moneyOf(mu.Posted, cur)
			r.History = append(r.History, monthSpend{Month: m, Spend: spend})
			hist.Bars = append(hist.Bars, chartBar{Label: m, Value: mu.Posted, Text: v.T.Money(spend), Class: "month"})
			texts = append(texts, m+" "+v.T.Money(spend))
		}
		hist.Desc = strings.Join(texts, "; ")
		r.HistoryChart = hist
		data.Rows = append(data.Rows, r)
	}
	for k, msg := range errs {
		v.Errors[k] = msg
	}
	v.Form = c.QueryParams()
	v.Data = data
	if len(v.Errors) > 0 && status == http.StatusOK {
		status = http.StatusUnprocessableEntity
	}
	v.Path = "/budgets"
	return s.render(c, status, "budgets", v)
}

// budgetForm sets a unit's budget for a month (PUT semantics: amount, warn
// line and hardness replace what was there), for finance only.
func (s *Pages) budgetForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "unit")
	if err != nil {
		return err
	}
	if err := s.BillingViewer(c).MaySetBudget(id); err != nil {
		return s.refusal(c, err, "money.err.finance_only")
	}
	v := s.newView(c, "", nil)
	month := c.Param("month")
	if billing.CheckMonth(month) != nil {
		return fault.NotFound("budget")
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	// The page shows the month the form was for.
	c.QueryParams().Set("month", month)
	errs := map[string]string{}
	amount, ok := parseLocaleAmount(v.T.Format(), form.Get("amount"), s.Org.Currency)
	if !ok || amount.Minor < 0 {
		errs["amount"] = v.T.T("money.err.amount", v.T.Money(exampleAmount(s.Org.Currency)))
	}
	warn, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(form.Get("warn_pct")), "%")))
	if err != nil || warn < 1 || warn > 100 {
		errs["warn_pct"] = v.T.T("money.err.field.warn_pct")
	}
	if len(errs) > 0 {
		return s.showBudgets(c, http.StatusUnprocessableEntity, errs, form, id)
	}
	ctx := c.Request().Context()
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := billing.SetBudget(ctx, tx, s.BillingViewer(c), billing.Budget{UnitID: id, Month: month, AmountMinor: amount.Minor,
			Currency: amount.Currency, WarnPct: warn, Hard: form.Get("hard") == "on"}, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return err
		}
		status, errs := r.Status, r.at("budget")
		return s.showBudgets(c, status, errs, form, id)
	}
	setFlash(c, v.T.T("flash.budget", month))
	return c.Redirect(http.StatusSeeOther, "/budgets?month="+month+"#budget-"+httpx.FormatID(id))
}
