package portal

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

// balanceView is a cost center's month in money.
type balanceView struct {
	Opening, Debit, Credit, Closing money.Money
}

type trialBalanceRowView struct {
	Code, Name    string
	Total         bool
	Books, Showbk balanceView
}

type trialBalanceData struct {
	Month     string
	Rows      []trialBalanceRowView
	Totals    []trialBalanceRowView
	CanExport bool
}

func balanceOf(b billing.Balance, currency string) balanceView {
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: currency} }
	return balanceView{Opening: m(b.OpeningMinor), Debit: m(b.DebitMinor), Credit: m(b.CreditMinor), Closing: m(b.ClosingMinor())}
}

func trialBalanceRowOf(r billing.TrialBalanceRow) trialBalanceRowView {
	return trialBalanceRowView{Code: r.UnitCode, Name: r.UnitName, Total: r.UnitID == 0,
		Books: balanceOf(r.Books, r.Currency), Showbk: balanceOf(r.Showback, r.Currency)}
}

// trialBalancePage shows a month's trial balance (?month=, this month by
// default) to finance and auditors.
func (s *Pages) trialBalancePage(c echo.Context) error {
	if err := s.BillingViewer(c).MayReadTrialBalance(); err != nil {
		return err
	}
	month := c.QueryParam("month")
	if month == "" {
		month = s.thisMonth()
	}
	tb, err := billing.GetTrialBalance(c.Request().Context(), s.DB, month)
	if err != nil {
		return err
	}
	data := trialBalanceData{Month: month, CanExport: s.Allowed(c, httpx.OrgWide, "export", "read")}
	for _, r := range tb.Rows {
		data.Rows = append(data.Rows, trialBalanceRowOf(r))
	}
	for _, r := range tb.Totals {
		data.Totals = append(data.Totals, trialBalanceRowOf(r))
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("trial.title", month)
	return s.render(c, http.StatusOK, "trial_balance", v)
}

type glMappingView struct {
	billing.GLMapping
	Service *catalog.Service // nil for the organisation's default
}

type glData struct {
	Mappings  []glMappingView
	Services  []catalog.Service
	CanManage bool
}

// glPage lists the GL account mappings for finance and auditors; finance
// changes them here.
func (s *Pages) glPage(c echo.Context) error {
	return s.showGL(c, http.StatusOK, nil, nil)
}

func (s *Pages) showGL(c echo.Context, status int, errs map[string]string, form url.Values) error {
	v := s.BillingViewer(c)
	if err := v.MayReadGL(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := billing.ListGLMappings(ctx, s.DB)
	if err != nil {
		return err
	}
	services, err := catalog.ListServices(ctx, s.DB, catalog.ServiceFilter{IncludeInactive: true, Limit: 1000})
	if err != nil {
		return err
	}
	byID := map[int64]*catalog.Service{}
	for i := range services {
		byID[services[i].ID] = &services[i]
	}
	data := glData{Services: services, CanManage: v.MaySetGL() == nil}
	for _, m := range list {
		data.Mappings = append(data.Mappings, glMappingView{GLMapping: m, Service: byID[m.ServiceID]})
	}
	view := s.newView(c, "", data)
	view.Title = view.T.T("gl.title")
	if errs != nil {
		view.Errors = errs
	}
	if form != nil {
		view.Form = form
	}
	return s.render(c, status, "gl_accounts", view)
}

// glForm sets a service's (or the default's) GL accounts, for finance.
func (s *Pages) glForm(c echo.Context) error {
	v := s.BillingViewer(c)
	if err := v.MaySetGL(); err != nil {
		return s.refusal(c, err, "money.err.finance_only")
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	tr := s.newView(c, "", nil).T
	m := billing.GLMapping{ServiceID: billing.DefaultGLService, ExpenseAccount: form.Get("expense_account"),
		RecoveryAccount: form.Get("recovery_account")}
	if raw := form.Get("service_id"); raw != "default" {
		id, err := httpx.ParseID("service_id", raw)
		if err != nil {
			return s.showGL(c, http.StatusUnprocessableEntity, map[string]string{"service_id": tr.T("money.err.choice")}, form)
		}
		m.ServiceID = id
	}
	ctx := c.Request().Context()
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := billing.SetGLMapping(ctx, tx, v, m, time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(tr, moneyTexts, err)
		if !ok {
			return err
		}
		return s.showGL(c, r.Status, r.at("gl"), form)
	}
	setFlash(c, tr.T("flash.gl.saved"))
	return c.Redirect(http.StatusSeeOther, "/finance/gl-accounts")
}
