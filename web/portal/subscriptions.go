package portal

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

// subscriptionRow is a subscription with whether the reader may end it.
type subscriptionRow struct {
	billing.SubscriptionView
	CanEnd bool
}

// MonthlyPrice is the price quoted when it was ordered.
func (r subscriptionRow) MonthlyPrice() money.Money { return moneyOf(r.MonthlyPriceMinor, r.Currency) }

// NextAmount is what the billing run charges for NextMonth.
func (r subscriptionRow) NextAmount() money.Money { return moneyOf(r.NextAmountMinor, r.Currency) }

type subscriptionsData struct {
	Units  []subscriptionUnit
	Failed int64  // the subscription whose end was refused
	Reason string // why
	Today  string
}

type subscriptionUnit struct {
	Unit unitRef
	Rows []subscriptionRow
}

// subscriptionsPage lists, per unit whose charges the user reads (or the
// one unit_id names), its subscriptions with an end form where the user
// may end them.
func (s *Pages) subscriptionsPage(c echo.Context) error {
	return s.showSubscriptions(c, http.StatusOK, 0, "")
}

func (s *Pages) showSubscriptions(c echo.Context, status int, failed int64, reason string) error {
	list, err := s.unitsFor(c, "charge", "read")
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return notFoundPage()
	}
	if u := c.QueryParam("unit_id"); u != "" {
		for _, ref := range list {
			if httpx.FormatID(ref.ID) == u {
				list = []unitRef{ref}
				break
			}
		}
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("subscriptions.title")
	ctx, viewer := c.Request().Context(), s.BillingViewer(c)
	data := subscriptionsData{Failed: failed, Reason: reason, Today: time.Now().In(s.Org.Location).Format("2006-01-02")}
	for _, u := range list {
		subs, err := billing.ListSubscriptions(ctx, s.DB, viewer, u.ID)
		if err != nil {
			return err
		}
		if len(subs) == 0 {
			continue
		}
		su := subscriptionUnit{Unit: u}
		for i := range subs {
			su.Rows = append(su.Rows, subscriptionRow{SubscriptionView: subs[i], CanEnd: !subs[i].Ended() && viewer.MayEndSubscription(&subs[i]) == nil})
		}
		data.Units = append(data.Units, su)
	}
	v.Data = data
	v.Path = "/subscriptions"
	return s.render(c, status, "subscriptions", v)
}

// endSubscriptionForm ends a subscription on the date typed, after a
// confirmation: it cannot be undone (restarting is a new order).
func (s *Pages) endSubscriptionForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "subscription")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sub, err := billing.GetSubscription(ctx, s.DB, s.BillingViewer(c), id)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	back := backTo(form, "/subscriptions")
	if asked, err := s.needConfirm(c, form, "subscriptions.end.confirm", back); asked || err != nil {
		return err
	}
	v := s.newView(c, "", nil)
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := billing.EndSubscription(ctx, tx, s.BillingViewer(c), sub.ID, form.Get("end_date"), s.Org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return s.refusal(c, err, "subscriptions.end.forbidden")
		}
		return s.showSubscriptions(c, r.Status, sub.ID, r.message())
	}
	setFlash(c, v.T.T("flash.subscription_ended", sub.RequestNumber(), form.Get("end_date")))
	return c.Redirect(http.StatusSeeOther, back)
}
