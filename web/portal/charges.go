package portal

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/httpx"
)

// chargeRow is a charge as the charges page shows it.
type chargeRow struct {
	billing.Charge
	Number             string
	Service            string
	Consumer, Provider unitRef
	UnitPrice, Amount  money.Money
	Credit             money.Money
	Dispute            *billing.Dispute
	PeriodStatus       string
	CanDispute         bool
}

type chargesData struct {
	Rows       []chargeRow
	Units      []unitRef
	Services   []catalog.Service
	Statuses   []string
	Next       string
	Month      string
	Statements []unitRef
	Back       string
	FormFor    int64 // the charge whose dispute form is shown again
	Detail     bool
}

// chargeRows dresses charges for the page, with what the user may do.
type chargeDresser struct {
	s        *Pages
	c        echo.Context
	units    unitNames
	services map[int64]string
	periods  map[string]string
	disputes map[int64]*billing.Dispute // preloaded for a page of charges
}

func (s *Pages) newChargeDresser(c echo.Context) *chargeDresser {
	return &chargeDresser{s: s, c: c, units: unitNames{}, services: map[int64]string{}, periods: map[string]string{}}
}

// preload reads the disputes of a page of charges in one query, so that
// row does not ask for each charge's.
func (d *chargeDresser) preload(ctx context.Context, charges []billing.Charge) error {
	ids := make([]int64, len(charges))
	for i, ch := range charges {
		ids[i] = ch.ID
	}
	var err error
	d.disputes, err = billing.DisputesOf(ctx, d.s.DB, ids)
	return err
}

func (d *chargeDresser) row(ctx context.Context, ch billing.Charge) (chargeRow, error) {
	s := d.s
	r := chargeRow{Charge: ch, Consumer: s.unitRef(ctx, d.units, ch.ConsumerUnitID), Provider: s.unitRef(ctx, d.units, ch.ProviderUnitID),
		UnitPrice: money.Money{Minor: ch.UnitPriceMinor, Currency: ch.Currency}, Amount: money.Money{Minor: ch.AmountMinor, Currency: ch.Currency},
		Credit: money.Money{Currency: ch.Currency}}
	if ch.RequestID != nil {
		r.Number = requests.Number(*ch.RequestID)
	}
	name, ok := d.services[ch.ServiceID]
	if !ok {
		if svc, err := catalog.GetService(ctx, s.DB, ch.ServiceID); err == nil {
			name = svc.Name
		}
		d.services[ch.ServiceID] = name
	}
	r.Service = name
	status, ok := d.periods[ch.Period]
	if !ok {
		p, err := billing.GetPeriod(ctx, s.DB, ch.Period)
		if err != nil {
			return r, err
		}
		status = p.Status
		d.periods[ch.Period] = status
	}
	r.PeriodStatus = status
	dispute := d.disputes[ch.ID]
	if d.disputes == nil {
		var err error
		if dispute, err = billing.DisputeOf(ctx, s.DB, ch.ID); err != nil {
			return r, err
		}
	}
	r.Dispute = dispute
	if dispute != nil {
		r.Credit.Minor = dispute.CreditMinor
	}
	r.CanDispute = dispute == nil && ch.Status == billing.ChargePosted && status != billing.PeriodClosed &&
		s.BillingViewer(d.c).MayDispute(&ch) == nil
	return r, nil
}

// chargesPage lists the charges the user may see: managers those of their
// units (and the units below), finance and auditors all.
func (s *Pages) chargesPage(c echo.Context) error {
	return s.showCharges(c, http.StatusOK, nil, nil, 0)
}

func (s *Pages) showCharges(c echo.Context, status int, errs map[string]string, typed url.Values, formFor int64) error {
	if s.BillingViewer(c).ChargeScope().None() {
		return notFoundPage()
	}
	ctx, q := c.Request().Context(), c.QueryParams()
	v := s.newView(c, "", nil)
	v.Title = v.T.T("charges.title")
	f, faults := httpx.ChargeQuery(q).Filter()
	for _, e := range faults {
		field, _ := e.Details["field"].(string)
		v.Errors[field] = v.T.T("money.err.choice")
		if field == "period" {
			v.Errors[field] = v.T.T("money.err.month")
		}
	}
	page := httpx.Page{Limit: maxMoneyRows}
	cur, err := s.ReadCursor(c, "charges")
	if err != nil {
		return err
	}
	if cur != nil {
		page.AfterID = cur.AfterID
	}
	f.AfterID, f.Limit = page.AfterID, page.Limit+1
	charges, err := billing.ListCharges(ctx, s.DB, s.BillingViewer(c), f)
	if err != nil {
		return err
	}
	data := chargesData{Statuses: billing.ChargeStatuses(), Back: c.Request().URL.RequestURI(), FormFor: formFor}
	charges, next := httpx.TrimPage(s.Kit, "charges", page, charges, func(ch *billing.Charge) int64 { return ch.ID })
	if next != "" {
		data.Next = nextPage(c, "/charges", next)
	}
	dress := s.newChargeDresser(c)
	if err := dress.preload(ctx, charges); err != nil {
		return err
	}
	for _, ch := range charges {
		row, err := dress.row(ctx, ch)
		if err != nil {
			return err
		}
		data.Rows = append(data.Rows, row)
	}
	if data.Units, err = s.unitsFor(c, "charge", "read"); err != nil {
		return err
	}
	if data.Services, err = catalog.ListServices(ctx, s.DB, catalog.ServiceFilter{IncludeInactive: true, Limit: maxMoneyRows}); err != nil {
		return err
	}
	data.Month = f.Period
	if data.Month == "" {
		data.Month = s.thisMonth()
	}
	stmts, err := s.unitsFor(c, "statement", "read")
	if err != nil {
		return err
	}
	for _, u := range stmts {
		if f.ConsumerUnitID == 0 || u.ID == f.ConsumerUnitID {
			data.Statements = append(data.Statements, u)
		}
	}
	if len(v.Errors) > 0 && status == http.StatusOK {
		status = http.StatusUnprocessableEntity
	}
	for k, msg := range errs {
		v.Errors[k] = msg
	}
	v.Form = c.QueryParams()
	for k, vals := range typed {
		v.Form[k] = vals
	}
	v.Data = data
	v.Path = "/charges"
	return s.render(c, status, "charges", v)
}

// chargePage shows one charge, with its dispute and the dispute form. A
// charge the user may not see is a 404 page.
func (s *Pages) chargePage(c echo.Context) error {
	return s.showCharge(c, http.StatusOK, nil, nil)
}

func (s *Pages) showCharge(c echo.Context, status int, errs map[string]string, typed url.Values) error {
	ch, err := s.VisibleCharge(c)
	if err != nil {
		return err
	}
	row, err := s.newChargeDresser(c).row(c.Request().Context(), *ch)
	if err != nil {
		return err
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("charges.one", httpx.FormatID(ch.ID))
	data := chargesData{Rows: []chargeRow{row}, Detail: true, Month: ch.Period, FormFor: ch.ID,
		Back: c.Request().URL.RequestURI()}
	if s.Allowed(c, ch.ConsumerUnitID, "statement", "read") {
		data.Statements = []unitRef{row.Consumer}
	}
	if errs != nil {
		v.Errors = errs
		v.Problem = errs["dispute"]
	}
	if typed != nil {
		v.Form = typed
	}
	v.Data = data
	v.Path = "/charges/" + httpx.FormatID(ch.ID)
	return s.render(c, status, "charges", v)
}

// disputeForm raises a dispute on a charge for a manager of its consumer
// unit, after a confirmation.
func (s *Pages) disputeForm(c echo.Context) error {
	ch, err := s.VisibleCharge(c)
	if err != nil {
		return err
	}
	if err := s.BillingViewer(c).MayDispute(ch); err != nil {
		return s.refusal(c, err, "money.err.dispute_forbidden")
	}
	v := s.newView(c, "", nil)
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	back := backTo(form, "/charges/"+httpx.FormatID(ch.ID))
	if asked, err := s.needConfirm(c, form, "charges.dispute.confirm", back); asked || err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := billing.RaiseDispute(ctx, tx, s.BillingViewer(c), ch.ID, form.Get("reason"), time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return err
		}
		status, errs := r.Status, r.at("dispute")
		return s.showCharge(c, status, errs, form)
	}
	setFlash(c, v.T.T("flash.disputed", httpx.FormatID(ch.ID)))
	return c.Redirect(http.StatusSeeOther, back)
}
