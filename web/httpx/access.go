package httpx

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// The lookups both rooms check access with, so that the API and the portal
// hide and refuse the same things.

// Viewer is the signed-in user as the requests package sees them.
func (k *Kit) Viewer(c echo.Context) requests.Viewer {
	return requests.Viewer{UserID: CurrentPrincipal(c).ID(), Authz: k.Authz}
}

// SeesArchived reports whether the caller may see archived units.
func (k *Kit) SeesArchived(c echo.Context) bool {
	return k.Allowed(c, OrgWide, "unit", "manage") || k.Allowed(c, OrgWide, "audit", "read")
}

// VisibleUnit loads the path's unit if the caller may see it; an archived
// unit is hidden from everyone but admins and auditors.
func (k *Kit) VisibleUnit(c echo.Context) (*units.Unit, error) {
	id, err := PathID(c, "id", "unit")
	if err != nil {
		return nil, err
	}
	u, err := units.GetUnit(c.Request().Context(), k.DB, id)
	if err != nil {
		return nil, err
	}
	if u.Archived && !k.SeesArchived(c) {
		return nil, fault.NotFound("unit")
	}
	return u, nil
}

// MemberUnit loads the path's unit for a member operation; a caller without
// the right in that unit gets 404, as if the unit's members did not exist.
func (k *Kit) MemberUnit(c echo.Context, act string) (*units.Unit, error) {
	u, err := k.VisibleUnit(c)
	if err != nil {
		return nil, err
	}
	if !k.Allowed(c, u.ID, "member", "read") {
		return nil, fault.NotFound("unit")
	}
	if act != "read" && !k.Allowed(c, u.ID, "member", act) {
		return nil, fault.Forbidden("you do not manage the members of %s", u.Code)
	}
	return u, nil
}

// CheckManagerGrant keeps the manager role in admins' hands: a manager adds
// members and agents, but cannot make more managers.
func (k *Kit) CheckManagerGrant(c echo.Context, role string) error {
	if role == "manager" && !k.Allowed(c, OrgWide, "grant", "manage") {
		return fault.Forbidden("only an admin grants or revokes the manager role")
	}
	return nil
}

// BillingViewer is the signed-in user as billing decides for them.
func (k *Kit) BillingViewer(c echo.Context) billing.Viewer {
	return billing.Viewer{UserID: CurrentPrincipal(c).ID(), Authz: k.Authz}
}

// VisibleCharge loads the path's charge if the caller may read it
// (billing.VisibleCharge).
func (k *Kit) VisibleCharge(c echo.Context) (*billing.Charge, error) {
	id, err := PathID(c, "id", "charge")
	if err != nil {
		return nil, err
	}
	return billing.VisibleCharge(c.Request().Context(), k.DB, k.BillingViewer(c), id)
}

// KnownStatus reports whether s is a request status.
func KnownStatus(s requests.Status) bool {
	for _, known := range requests.Statuses {
		if s == known {
			return true
		}
	}
	return false
}

// ApplyAction runs one lifecycle action for the API and the portal alike;
// requests.Perform owns its transaction and the charge a resolution posts.
func (k *Kit) ApplyAction(c echo.Context, id int64, a requests.Action) (*requests.Request, error) {
	return requests.Perform(c.Request().Context(), k.DB, k.Viewer(c), *k.Org, id, a, time.Now().UTC())
}
