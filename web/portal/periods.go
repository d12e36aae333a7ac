package portal

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/web/httpx"
)

type periodsData struct {
	Periods   []billing.Period
	CanManage bool
	CanExport bool
	// Blocked lists the open disputes that kept Month from closing.
	Blocked      []disputeRow
	BlockedMonth string
}

// periodsPage lists the accounting periods: the current month and every
// month that has postings or has left the open state.
func (s *Pages) periodsPage(c echo.Context) error {
	return s.showPeriods(c, http.StatusOK, "", nil, "")
}

func (s *Pages) showPeriods(c echo.Context, status int, problem string, blocked []int64, blockedMonth string) error {
	if err := s.BillingViewer(c).MayListPeriods(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := billing.ListPeriods(ctx, s.DB)
	if err != nil {
		return err
	}
	current, found := s.thisMonth(), false
	for _, p := range list {
		found = found || p.Month == current
	}
	if !found {
		p, err := billing.GetPeriod(ctx, s.DB, current)
		if err != nil {
			return err
		}
		list = append([]billing.Period{*p}, list...)
	}
	data := periodsData{Periods: list, CanManage: s.Allowed(c, httpx.OrgWide, "period", "manage"), CanExport: s.Allowed(c, httpx.OrgWide, "export", "read"),
		BlockedMonth: blockedMonth}
	dress := s.newChargeDresser(c)
	for _, id := range blocked {
		d, err := billing.GetDispute(ctx, s.DB, id)
		if err != nil {
			return err
		}
		ch, err := billing.GetCharge(ctx, s.DB, d.ChargeID)
		if err != nil {
			return err
		}
		row, err := dress.row(ctx, *ch)
		if err != nil {
			return err
		}
		data.Blocked = append(data.Blocked, disputeRow{Dispute: *d, Charge: row})
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("periods.title")
	v.Problem = problem
	v.Path = "/finance/periods"
	return s.render(c, status, "periods", v)
}

// periodForm moves a month to review or closes it, for finance. Closing
// while disputes are open shows them instead.
func (s *Pages) periodForm(c echo.Context) error {
	if err := s.BillingViewer(c).MayMovePeriod(); err != nil {
		return s.refusal(c, err, "money.err.finance_only")
	}
	v := s.newView(c, "", nil)
	month := c.Param("month")
	if billing.CheckMonth(month) != nil {
		return fault.NotFound("period")
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	action := form.Get("action")
	if action != "review" && action != "close" {
		return fault.NotFound("action")
	}
	if asked, err := s.needConfirm(c, form, "periods."+action+".confirm", "/finance/periods"); asked || err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := billing.MovePeriod(ctx, tx, s.BillingViewer(c), month, action, s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		fe, ok := fault.As(err)
		if !ok || fe.Kind == fault.KindNotFound {
			return err
		}
		status, _ := httpx.FaultStatus(err)
		if fe.Code == "open_disputes" {
			ids, _ := fe.Details["dispute_ids"].([]int64)
			return s.showPeriods(c, status, v.T.T("periods.blocked", month, len(ids)), ids, month)
		}
		r, _ := formFault(v.T, moneyTexts, err)
		return s.showPeriods(c, status, r.message(), nil, "")
	}
	setFlash(c, v.T.T("flash.period."+action, month))
	return c.Redirect(http.StatusSeeOther, "/finance/periods")
}
