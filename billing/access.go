package billing

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/policies"
)

// Viewer is the person reading or moving money, with the access rules that
// say what they may do. Every operation that moves money takes one and asks
// it first, so no surface (API, portal, command line) can forget the check
// or answer differently.
//
// Not found or forbidden is decided once, here: a viewer who cannot see the
// object at all (a charge of a unit they do not manage, the finance desk's
// periods, disputes and adjustments for a manager) gets not found, exactly
// as if it did not exist; a viewer who can see it but lacks the right (a
// manager settling their unit's dispute, an auditor closing a month) gets
// forbidden, with the reason. The table in access_test.go is the rule.
type Viewer struct {
	UserID int64
	Authz  *policies.Authorizer
	// operator is Tiski acting on the server operator's command (tiski
	// period close) or loading the demo: every rule of the books holds, but
	// no role is asked of anyone.
	operator bool
}

// Operator is the viewer of the server's command line and of the demo
// loader, recording actorID (0: the operator) as the actor. Never use it
// for a person signed in to the API or the portal.
func Operator(actorID int64) Viewer { return Viewer{UserID: actorID, operator: true} }

// can asks the access rules; unitID 0 asks about organisation roles only.
func (v Viewer) can(unitID int64, obj, act string) bool {
	return v.operator || (v.Authz != nil && v.Authz.Can(v.UserID, unitID, obj, act))
}

// readsBooks reports whether the viewer sees the finance desk: every
// charge, dispute, adjustment and the periods (finance and auditors).
func (v Viewer) readsBooks() bool { return v.can(0, "charge", "read") }

// ChargeScope is which charges the viewer may read: those whose consumer or
// provider is one of UnitIDs (managers: their units and every unit below),
// or all of them (finance, auditors).
type ChargeScope struct {
	UnitIDs []int64
	All     bool
}

// None reports whether the viewer reads no charge at all.
func (s ChargeScope) None() bool { return !s.All && len(s.UnitIDs) == 0 }

// ChargeScope reads the viewer's charge scope from the access rules.
func (v Viewer) ChargeScope() ChargeScope {
	if v.operator {
		return ChargeScope{All: true}
	}
	if v.Authz == nil {
		return ChargeScope{}
	}
	ids, all := v.Authz.UnitsWhere(v.UserID, "charge", "read")
	return ChargeScope{UnitIDs: ids, All: all}
}

// SeesCharge reports whether the charge is in the viewer's scope.
func (v Viewer) SeesCharge(c *Charge) bool {
	return v.can(c.ConsumerUnitID, "charge", "read") || v.can(c.ProviderUnitID, "charge", "read")
}

// VisibleCharge returns a charge the viewer may see; any other is not found.
func VisibleCharge(ctx context.Context, idb bun.IDB, v Viewer, id int64) (*Charge, error) {
	c, err := GetCharge(ctx, idb, id)
	if err != nil {
		return nil, err
	}
	if !v.SeesCharge(c) {
		return nil, fault.NotFound("charge")
	}
	return c, nil
}

// MayDispute decides whether the viewer may dispute c: a manager of its
// consumer unit (or above it). Anyone else who sees the charge (the
// provider's managers, finance, auditors) is forbidden.
func (v Viewer) MayDispute(c *Charge) error {
	switch {
	case !v.SeesCharge(c):
		return fault.NotFound("charge")
	case !v.can(c.ConsumerUnitID, "charge", "dispute"):
		return fault.Forbidden("only a manager of the charged unit disputes its charges")
	}
	return nil
}

// MaySettle decides whether the viewer may settle a dispute on c: finance,
// but not a finance user who raised it or manages either unit of the charge
// (four eyes). Managers of the charge's units see the dispute and are
// forbidden.
func (v Viewer) MaySettle(d *Dispute, c *Charge) error {
	switch {
	case !v.SeesCharge(c):
		return fault.NotFound("dispute")
	case !v.can(0, "dispute", "resolve"):
		return fault.Forbidden("only finance settles disputes")
	case v.operator:
		return nil
	case d.RaisedBy == v.UserID || v.Authz.Can(v.UserID, c.ConsumerUnitID, "charge", "dispute") ||
		v.Authz.Can(v.UserID, c.ProviderUnitID, "charge", "dispute"):
		return &fault.Error{Kind: fault.KindForbidden, Code: "own_dispute",
			Message: "another finance user must settle this dispute; nobody settles a dispute they raised or that concerns a unit they manage"}
	}
	return nil
}

// MayMovePeriod decides whether the viewer may put a month under review or
// close it: finance. Auditors see the periods and are forbidden; anyone else
// does not see them.
func (v Viewer) MayMovePeriod() error {
	switch {
	case !v.can(0, "period", "read"):
		return fault.NotFound("period")
	case !v.can(0, "period", "manage"):
		return fault.Forbidden("only finance moves periods")
	}
	return nil
}

// MayListDisputes decides whether the viewer may list every dispute: the
// finance desk (finance, auditors). Managers read their units' disputes
// through their charges; to them, as to anyone else, the list is not there.
func (v Viewer) MayListDisputes() error {
	if !v.readsBooks() {
		return fault.NotFound("dispute")
	}
	return nil
}

// MayListPeriods decides whether the viewer may list the periods: finance
// and auditors. To anyone else they are not there.
func (v Viewer) MayListPeriods() error {
	if !v.can(0, "period", "read") {
		return fault.NotFound("period")
	}
	return nil
}

// MayListAdjustments decides whether the viewer may list the manual
// adjustments: the finance desk. To anyone else they are not there.
func (v Viewer) MayListAdjustments() error {
	if !v.readsBooks() {
		return fault.NotFound("adjustment")
	}
	return nil
}

// MayCreateAdjustment decides whether the viewer may record a manual
// adjustment: finance. Auditors see adjustments and are forbidden.
func (v Viewer) MayCreateAdjustment() error {
	switch {
	case !v.readsBooks():
		return fault.NotFound("adjustment")
	case !v.can(0, "adjustment", "create"):
		return fault.Forbidden("only finance records adjustments")
	}
	return nil
}

// MayDecideAdjustment decides whether the viewer may approve or reject a
// pending adjustment: finance (DecideAdjustment adds that nobody approves
// their own). Auditors see adjustments and are forbidden.
func (v Viewer) MayDecideAdjustment() error {
	switch {
	case !v.readsBooks():
		return fault.NotFound("adjustment")
	case !v.can(0, "adjustment", "approve"):
		return fault.Forbidden("only finance approves adjustments")
	}
	return nil
}

// MayReadBudget decides whether the viewer may read unitID's budgets:
// managers of the unit or above it, finance and auditors. To anyone else
// the unit is not there.
func (v Viewer) MayReadBudget(unitID int64) error {
	if !v.can(unitID, "budget", "read") {
		return fault.NotFound("unit")
	}
	return nil
}

// MaySetBudget decides whether the viewer may set unitID's budgets:
// finance. The unit's managers and auditors read them and are forbidden.
func (v Viewer) MaySetBudget(unitID int64) error {
	if err := v.MayReadBudget(unitID); err != nil {
		return err
	}
	if !v.can(0, "budget", "manage") {
		return fault.Forbidden("only finance sets budgets")
	}
	return nil
}
