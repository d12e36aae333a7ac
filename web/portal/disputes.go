package portal

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// disputeRow is a dispute with its charge, as the queue shows it.
type disputeRow struct {
	billing.Dispute
	Charge   chargeRow
	RaisedBy string
}

type disputesData struct {
	Open, Settled []disputeRow
	CanSettle     bool
	FormFor       int64 // the dispute whose form is shown again
	FormAction    string
}

// disputesPage is finance's dispute queue, open ones first; auditors see
// it without the forms.
func (s *Pages) disputesPage(c echo.Context) error {
	return s.showDisputes(c, http.StatusOK, nil, nil, 0, "")
}

func (s *Pages) showDisputes(c echo.Context, status int, errs map[string]string, typed url.Values, formFor int64, action string) error {
	if err := s.BillingViewer(c).MayListDisputes(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	open, err := billing.ListDisputes(ctx, s.DB, billing.DisputeOpen, 0, 500)
	if err != nil {
		return err
	}
	var settled []billing.Dispute
	for _, st := range []string{billing.DisputeAccepted, billing.DisputeRejected} {
		rows, err := billing.ListDisputes(ctx, s.DB, st, 0, 500)
		if err != nil {
			return err
		}
		settled = append(settled, rows...)
	}
	sort.Slice(settled, func(i, j int) bool { return settled[i].ID > settled[j].ID })
	if len(settled) > maxMoneyRows {
		settled = settled[:maxMoneyRows]
	}
	data := disputesData{CanSettle: s.Allowed(c, httpx.OrgWide, "dispute", "resolve"), FormFor: formFor, FormAction: action}
	dress, people := s.newChargeDresser(c), map[int64]string{}
	rowsOf := func(list []billing.Dispute) ([]disputeRow, error) {
		var out []disputeRow
		for _, d := range list {
			ch, err := billing.GetCharge(ctx, s.DB, d.ChargeID)
			if err != nil {
				return nil, err
			}
			cr, err := dress.row(ctx, *ch)
			if err != nil {
				return nil, err
			}
			cr.Credit.Minor = d.CreditMinor
			name, ok := people[d.RaisedBy]
			if !ok {
				if u, err := units.GetUser(ctx, s.DB, d.RaisedBy); err == nil {
					name = u.Name
				}
				people[d.RaisedBy] = name
			}
			out = append(out, disputeRow{Dispute: d, Charge: cr, RaisedBy: name})
		}
		return out, nil
	}
	if data.Open, err = rowsOf(open); err != nil {
		return err
	}
	if data.Settled, err = rowsOf(settled); err != nil {
		return err
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("disputes.title")
	if errs != nil {
		v.Errors = errs
		if _, open := s.openDispute(data.Open, formFor); !open {
			v.Problem = errs["dispute"]
		}
	}
	if typed != nil {
		v.Form = typed
	}
	v.Path = "/finance/disputes"
	return s.render(c, status, "disputes", v)
}

// settleForm accepts a dispute with a credit typed the locale's way, or
// rejects it with a note. A credit that does not parse comes back beside
// its field and nothing is posted.
func (s *Pages) settleForm(c echo.Context) error {
	v := s.newView(c, "", nil)
	id, err := httpx.PathID(c, "id", "dispute")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	open, err := billing.GetDispute(ctx, s.DB, id)
	if err != nil {
		return err
	}
	ch, err := billing.GetCharge(ctx, s.DB, open.ChargeID)
	if err != nil {
		return err
	}
	if err := s.BillingViewer(c).MaySettle(open, ch); err != nil {
		return s.refusal(c, err, "money.err.finance_only")
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	action := form.Get("action")
	if action != "accept" && action != "reject" {
		return fault.NotFound("action")
	}
	var credit int64
	if action == "accept" {
		m, ok := parseLocaleAmount(v.T.Format(), form.Get("credit"), s.Org.Currency)
		if !ok || m.Minor <= 0 {
			return s.showDisputes(c, http.StatusUnprocessableEntity, map[string]string{"credit": v.T.T("money.err.amount", v.T.Money(exampleAmount(s.Org.Currency)))},
				form, id, action)
		}
		credit = m.Minor
	}
	question := "disputes.accept.confirm"
	if action == "reject" {
		question = "disputes.reject.confirm"
	}
	if asked, err := s.needConfirm(c, form, question, "/finance/disputes"); asked || err != nil {
		return err
	}
	var d *billing.Dispute
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		d, err = billing.SettleDispute(ctx, tx, s.BillingViewer(c),
			billing.Settlement{DisputeID: id, Action: action, CreditMinor: credit, Note: form.Get("note")}, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return err
		}
		status, errs := r.Status, r.at("dispute")
		if msg, ok := errs["credit_minor"]; ok { // the form's field is the typed amount
			errs = map[string]string{"credit": msg}
		}
		return s.showDisputes(c, status, errs, form, id, action)
	}
	if d.Status == billing.DisputeAccepted {
		setFlash(c, v.T.T("flash.dispute.accepted", v.T.Money(moneyOf(d.CreditMinor, s.Org.Currency))))
	} else {
		setFlash(c, v.T.T("flash.dispute.rejected"))
	}
	return c.Redirect(http.StatusSeeOther, "/finance/disputes")
}

// openDispute finds a dispute among the open ones.
func (s *Pages) openDispute(rows []disputeRow, id int64) (disputeRow, bool) {
	for _, r := range rows {
		if r.ID == id {
			return r, true
		}
	}
	return disputeRow{}, false
}
