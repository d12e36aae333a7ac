package requests

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govalues/decimal"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// maxQuantity bounds what one request may order; more is a typo, not an order.
var maxQuantity = decimal.MustNew(10000, 0)

// Order is what a viewer submits.
type Order struct {
	ServiceID      int64
	ConsumerUnitID int64
	RequesterID    int64 // 0: the viewer orders for themself
	Title          string
	Description    string
	Quantity       string // decimal; empty means 1
	Fields         map[string]json.RawMessage
	Channel        string
}

// Submit files a request: it checks the order, takes the quote (rate in
// force today, unit price, estimate) and routes the request to approval or
// straight to the provider's queue.
func Submit(ctx context.Context, tx bun.Tx, v Viewer, org units.Organisation, o Order, now time.Time) (*Request, error) {
	svc, err := catalog.GetService(ctx, tx, o.ServiceID)
	if err != nil {
		if fault.Is(err, fault.KindNotFound) {
			return nil, fault.Invalid("service_id", "no such service")
		}
		return nil, err
	}
	if !svc.Active {
		return nil, fault.Invalid("service_id", "service %s is not offered any more", svc.Code)
	}
	consumer, err := units.GetUnit(ctx, tx, o.ConsumerUnitID)
	if err != nil || consumer.Archived {
		return nil, fault.Invalid("consumer_unit_id", "no such unit")
	}
	requesterID, channel, err := checkRequester(v, svc, o)
	if err != nil {
		return nil, err
	}
	if requesterID != v.UserID {
		requester, err := units.GetUser(ctx, tx, requesterID)
		if err != nil || requester.Disabled {
			return nil, fault.Invalid("requester_id", "no such user")
		}
	}
	title, description := strings.TrimSpace(o.Title), strings.TrimSpace(o.Description)
	if err := fault.Text("title", title, 1, 200, false); err != nil {
		return nil, err
	}
	if err := fault.Text("description", description, 0, 20000, true); err != nil {
		return nil, err
	}
	quantity, err := parseQuantity(o.Quantity, svc.PricingModel)
	if err != nil {
		return nil, err
	}
	values, err := catalog.ValidateValues(svc.Fields(), o.Fields)
	if err != nil {
		return nil, err
	}
	rate, err := catalog.RateOn(ctx, tx, svc.ID, catalog.Today(now, org.Location))
	if err != nil {
		return nil, err
	}
	estimate, err := money.Money{Minor: rate.PriceMinor, Currency: rate.Currency}.MulQuantity(quantity)
	if err != nil {
		return nil, fault.Invalid("quantity", "the estimate is too large")
	}
	needsApproval := svc.ApprovalPolicy == "always" ||
		(svc.ApprovalPolicy == "threshold" && estimate.Minor > consumer.ApprovalThresholdMinor)
	// A hard budget refuses the order here; a soft one it would exceed sends
	// it to approval whatever the service says.
	budget, err := billing.CheckOrder(ctx, tx, v.UserID, consumer.ID, estimate.Minor, org.Location, now)
	if err != nil {
		return nil, err
	}
	needsApproval = needsApproval || budget.Exceeds
	status := Open
	if needsApproval {
		status = PendingApproval
	}
	fields, _ := json.Marshal(values)
	r := &Request{
		ServiceID: svc.ID, ConsumerUnitID: consumer.ID, ProviderUnitID: svc.ProviderUnitID,
		RequesterID: requesterID, CreatedBy: v.UserID, Title: title, Description: description,
		Quantity: quantity.String(), FieldsJSON: string(fields), Channel: channel, Status: status, Version: 1,
		RateID: rate.ID, PricingModel: svc.PricingModel, UnitPriceMinor: rate.PriceMinor,
		EstimateMinor: estimate.Minor, Currency: rate.Currency, NeedsApproval: needsApproval,
		SLAFirstResponseMinutes: svc.SLAFirstResponseMinutes, SLAResolutionMinutes: svc.SLAResolutionMinutes,
		SearchText: strings.ToLower(title + "\n" + description), CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tx.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("file request: %w", err)
	}
	if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: "submit",
		ToStatus: statusPtr(Submitted), Note: "via " + channel}); err != nil {
		return nil, err
	}
	var reasons []string
	switch {
	case svc.ApprovalPolicy == "always":
		reasons = append(reasons, "the service always needs approval")
	case svc.ApprovalPolicy == "threshold" && estimate.Minor > consumer.ApprovalThresholdMinor:
		reasons = append(reasons, fmt.Sprintf("the estimate %s exceeds the unit's approval threshold %s", estimate,
			money.Money{Minor: consumer.ApprovalThresholdMinor, Currency: rate.Currency}))
	}
	if budget.Exceeds {
		reasons = append(reasons, budget.Note(estimate.Minor))
	}
	route := "no approval needed"
	if len(reasons) > 0 {
		route = strings.Join(reasons, "; ")
	}
	if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, Action: "route",
		FromStatus: statusPtr(Submitted), ToStatus: statusPtr(status), Note: route}); err != nil {
		return nil, err
	}
	if err := tell(ctx, tx, notify.RequestFiled, r, v.UserID, "", now); err != nil {
		return nil, err
	}
	if status == PendingApproval {
		if err := tell(ctx, tx, notify.ApprovalWaiting, r, v.UserID, route, now); err != nil {
			return nil, err
		}
	}
	// The SLA clocks run once the request is in the provider's queue; one
	// that needs approval starts them when approved.
	if status == Open {
		if err := startClocks(ctx, tx, r, now); err != nil {
			return nil, err
		}
		if err := tell(ctx, tx, notify.QueueNew, r, v.UserID, "", now); err != nil {
			return nil, err
		}
		return get(ctx, tx, r.ID)
	}
	return r, nil
}

// checkRequester decides who the request is for and through which channel:
// a member orders for their own unit; an agent of the provider may log a
// phone, chat, e-mail or walk-in request for a member of the ordering unit.
func checkRequester(v Viewer, svc *catalog.Service, o Order) (int64, string, error) {
	channel := o.Channel
	if o.RequesterID == 0 || o.RequesterID == v.UserID {
		if channel == "" {
			channel = "portal"
		}
		if !slices.Contains(Channels, channel) {
			return 0, "", fault.Invalid("channel", "channel must be one of %v", Channels)
		}
		if !v.Authz.Can(v.UserID, o.ConsumerUnitID, "request", "create") {
			return 0, "", fault.Invalid("consumer_unit_id", "you are not a member of that unit")
		}
		return v.UserID, channel, nil
	}
	if !v.Authz.Can(v.UserID, svc.ProviderUnitID, "request", "create_for_other") {
		return 0, "", fault.Forbidden("only an agent of the providing unit files requests for someone else")
	}
	if !slices.Contains([]string{"email", "phone", "chat", "walk_in"}, channel) {
		return 0, "", fault.Invalid("channel", "a request logged for someone else comes by email, phone, chat or walk_in")
	}
	if !v.Authz.Can(o.RequesterID, o.ConsumerUnitID, "request", "create") {
		return 0, "", fault.Invalid("requester_id", "the requester is not a member of that unit")
	}
	return o.RequesterID, channel, nil
}

// parseQuantity reads the ordered quantity: a positive decimal with at most
// two decimals and at most maxQuantity; fixed and monthly services take 1.
func parseQuantity(raw, pricingModel string) (decimal.Decimal, error) {
	if raw == "" {
		raw = "1"
	}
	q, err := decimal.Parse(raw)
	if err != nil || strings.ContainsAny(raw, "eE") {
		return decimal.Decimal{}, fault.Invalid("quantity", "quantity must be a number such as 2 or 1.5")
	}
	if !q.IsPos() {
		return decimal.Decimal{}, fault.Invalid("quantity", "quantity must be more than zero")
	}
	if q.Cmp(maxQuantity) > 0 {
		return decimal.Decimal{}, fault.Invalid("quantity", "quantity must be at most %s", maxQuantity)
	}
	if q.Scale() > 2 && !q.Equal(q.Trunc(2)) {
		return decimal.Decimal{}, fault.Invalid("quantity", "quantity has at most two decimals")
	}
	if (pricingModel == "fixed" || pricingModel == "monthly") && !q.Equal(decimal.One) {
		return decimal.Decimal{}, fault.Invalid("quantity", "a %s-priced service is ordered one at a time", pricingModel)
	}
	return q.Trim(0), nil
}
