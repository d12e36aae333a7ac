package portal

import (
	"context"
	"slices"
	"strings"

	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// overrunBox is what the request page shows while a fulfilment costs more
// than its estimate beyond the tolerance: the amount asked, the approved
// estimate, the tolerance, who may approve and, for one of them, the
// button (requests.Lifecycle decides who; the page only shows it).
type overrunBox struct {
	Amount, Estimate, Excess, Approved money.Money
	TolerancePct                       int
	Waiting                            bool   // no approval covers the amount yet
	CanApprove                         bool   // the viewer may approve it now
	Unit                               string // the consumer unit, whose managers approve
	Approvers                          string // its managers who may (not the requester or filer), by name
}

// overrun builds the box for r, or nil when the fulfilment is within the
// tolerance. actions are the viewer's allowed actions on r.
func (s *Pages) overrun(ctx context.Context, r *requests.Request, unit string, actions []string) (*overrunBox, error) {
	o := r.Overrun
	if o == nil || o.Status() == "" {
		return nil, nil
	}
	m := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: o.Currency} }
	box := &overrunBox{Amount: m(o.AmountMinor), Estimate: m(o.EstimateMinor), Excess: m(o.ExcessMinor()),
		Approved: m(o.ApprovedMinor), TolerancePct: o.TolerancePct, Waiting: r.OverrunWaits(),
		CanApprove: slices.Contains(actions, "approve_overrun"), Unit: unit}
	if !box.Waiting {
		return box, nil
	}
	members, err := units.ListMembers(ctx, s.DB, r.ConsumerUnitID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, mb := range members {
		if mb.Role == "manager" && mb.UserID != r.RequesterID && mb.UserID != r.CreatedBy {
			names = append(names, mb.Name)
		}
	}
	box.Approvers = strings.Join(names, ", ")
	return box, nil
}
