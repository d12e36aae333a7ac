package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// adjustmentRow is an adjustment as the page lists it.
type adjustmentRow struct {
	billing.Adjustment
	Debit, Credit unitRef
	Maker         string
	CanApprove    bool
	CanReject     bool
}

type adjustmentsData struct {
	Pending, Done []adjustmentRow
	Units         []unitRef
	CanCreate     bool
	Limit         string
	FormFor       int64 // the pending adjustment whose form is shown again
}

// adjustmentsPage lists manual adjustments with the maker-checker queue and
// the form to make one; auditors see the lists only.
func (s *Pages) adjustmentsPage(c echo.Context) error {
	return s.showAdjustments(c, http.StatusOK, nil, nil, 0)
}

func (s *Pages) showAdjustments(c echo.Context, status int, errs map[string]string, typed url.Values, formFor int64) error {
	if err := s.BillingViewer(c).MayListAdjustments(); err != nil {
		return err
	}
	ctx, uid := c.Request().Context(), httpx.CurrentPrincipal(c).ID()
	all, err := billing.ListAdjustments(ctx, s.DB, "", 0, 1000)
	if err != nil {
		return err
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("adjustments.title")
	data := adjustmentsData{CanCreate: s.Allowed(c, httpx.OrgWide, "adjustment", "create"), FormFor: formFor,
		Limit: v.T.Money(moneyOf(s.Cfg.AdjustmentApprovalLimitMinor, s.Org.Currency))}
	approver := s.Allowed(c, httpx.OrgWide, "adjustment", "approve")
	cache, people := unitNames{}, map[int64]string{}
	for i := len(all) - 1; i >= 0; i-- {
		a := all[i]
		name, ok := people[a.CreatedBy]
		if !ok {
			if u, err := units.GetUser(ctx, s.DB, a.CreatedBy); err == nil {
				name = u.Name
			}
			people[a.CreatedBy] = name
		}
		row := adjustmentRow{Adjustment: a, Debit: s.unitRef(ctx, cache, a.DebitUnitID), Credit: s.unitRef(ctx, cache, a.CreditUnitID), Maker: name}
		if a.Status == billing.AdjustmentPending {
			row.CanApprove = approver && a.CreatedBy != uid
			row.CanReject = approver
			data.Pending = append(data.Pending, row)
		} else if len(data.Done) < maxMoneyRows {
			data.Done = append(data.Done, row)
		}
	}
	if data.Units, err = s.unitsFor(c, "charge", "read"); err != nil {
		return err
	}
	if errs != nil {
		v.Errors = errs
	}
	if typed != nil {
		v.Form = typed
	} else {
		v.Form.Set("month", s.thisMonth())
	}
	v.Data = data
	v.Path = "/finance/adjustments"
	return s.render(c, status, "adjustments", v)
}

// adjustmentForm makes an adjustment: it posts at once up to the approval
// limit and waits for a second finance user above it.
func (s *Pages) adjustmentForm(c echo.Context) error {
	if err := s.BillingViewer(c).MayCreateAdjustment(); err != nil {
		return s.refusal(c, err, "money.err.finance_only")
	}
	v := s.newView(c, "", nil)
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	errs := map[string]string{}
	a := billing.Adjustment{Month: form.Get("month"), Reason: form.Get("reason"), Currency: s.Org.Currency}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"debit_unit_id", &a.DebitUnitID}, {"credit_unit_id", &a.CreditUnitID}} {
		n, err := strconv.ParseInt(form.Get(f.name), 10, 64)
		if err != nil || n <= 0 {
			errs[f.name] = v.T.T("money.err.choice")
		}
		*f.dst = n
	}
	if amount, ok := parseLocaleAmount(v.T.Format(), form.Get("amount"), s.Org.Currency); !ok || amount.Minor <= 0 {
		errs["amount"] = v.T.T("money.err.amount", v.T.Money(exampleAmount(s.Org.Currency)))
	} else {
		a.AmountMinor = amount.Minor
	}
	if billing.CheckMonth(a.Month) != nil {
		errs["month"] = v.T.T("money.err.month")
	}
	if len(errs) > 0 {
		return s.showAdjustments(c, http.StatusUnprocessableEntity, errs, form, 0)
	}
	if asked, err := s.needConfirm(c, form, "adjustments.create.confirm", "/finance/adjustments"); asked || err != nil {
		return err
	}
	ctx := c.Request().Context()
	var created *billing.Adjustment
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		created, err = billing.CreateAdjustment(ctx, tx, s.BillingViewer(c), a, s.Cfg.AdjustmentApprovalLimitMinor, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return err
		}
		status, errs := r.Status, r.at("adjustment")
		return s.showAdjustments(c, status, errs, form, 0)
	}
	setFlash(c, v.T.T("flash.adjustment."+created.Status))
	return c.Redirect(http.StatusSeeOther, "/finance/adjustments")
}

// decideAdjustmentForm approves (a finance user other than the maker) or
// rejects a pending adjustment.
func (s *Pages) decideAdjustmentForm(c echo.Context) error {
	if err := s.BillingViewer(c).MayDecideAdjustment(); err != nil {
		return s.refusal(c, err, "money.err.finance_only")
	}
	v := s.newView(c, "", nil)
	id, err := httpx.PathID(c, "id", "adjustment")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := billing.GetAdjustment(ctx, s.DB, id); err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	action := form.Get("action")
	if action != "approve" && action != "reject" {
		return fault.NotFound("action")
	}
	if asked, err := s.needConfirm(c, form, "adjustments."+action+".confirm", "/finance/adjustments"); asked || err != nil {
		return err
	}
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := billing.DecideAdjustment(ctx, tx, s.BillingViewer(c), id, action, form.Get("note"), time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return err
		}
		status, errs := r.Status, r.at("decision")
		for _, msg := range errs {
			errs["decision"] = msg // the decision form shows every refusal
		}
		return s.showAdjustments(c, status, errs, form, id)
	}
	setFlash(c, v.T.T("flash.adjustment."+action))
	return c.Redirect(http.StatusSeeOther, "/finance/adjustments")
}

// Amount is the adjustment's amount as money.
func (r adjustmentRow) Amount() money.Money { return moneyOf(r.AmountMinor, r.Currency) }
