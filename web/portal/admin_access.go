package portal

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

// adminAccess is what the signed-in user may do on the admin pages, read
// from the same permissions the JSON API checks.
type adminAccess struct {
	Units         bool    // unit:manage organisation-wide (admins)
	MemberUnits   []int64 // units whose members the user manages (inherited included)
	MembersOrg    bool    // member:manage everywhere
	Users         bool    // user:read
	ManageUsers   bool    // user:manage
	Grants        bool    // grant:manage (org roles and the manager role)
	ServiceUnits  []int64 // provider units whose services the user manages
	ServicesOrg   bool    // service:manage everywhere
	SeesServices  bool    // may open /admin/services (managers, and admins read-only)
	SeesUnitsPage bool
	Outbox        bool // outbox:manage (admins): failed messages and re-sends
}

func (s *Pages) adminAccessFor(c echo.Context) adminAccess {
	uid := httpx.CurrentPrincipal(c).ID()
	a := adminAccess{
		Units:       s.Authz.Can(uid, 0, "unit", "manage"),
		Users:       s.Authz.Can(uid, 0, "user", "read"),
		ManageUsers: s.Authz.Can(uid, 0, "user", "manage"),
		Grants:      s.Authz.Can(uid, 0, "grant", "manage"),
		Outbox:      s.Authz.Can(uid, 0, "outbox", "manage"),
	}
	a.MemberUnits, a.MembersOrg = s.Authz.UnitsWhere(uid, "member", "manage")
	a.ServiceUnits, a.ServicesOrg = s.Authz.UnitsWhere(uid, "service", "manage")
	a.SeesServices = a.ServicesOrg || len(a.ServiceUnits) > 0 || a.Units
	a.SeesUnitsPage = a.Units || a.MembersOrg || len(a.MemberUnits) > 0 || a.Users || a.SeesServices
	return a
}

// managesMembers reports whether the user manages the members of unitID.
func (a adminAccess) managesMembers(unitID int64) bool {
	return a.MembersOrg || adminContainsID(a.MemberUnits, unitID)
}

// managesServices reports whether the user manages the services of unitID.
func (a adminAccess) managesServices(unitID int64) bool {
	return a.ServicesOrg || adminContainsID(a.ServiceUnits, unitID)
}

func adminContainsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// adminTabs is the sub-navigation between the admin pages the user may use.
func (a adminAccess) tabs(path string) []navItem {
	var items []navItem
	if a.Units || a.MembersOrg || len(a.MemberUnits) > 0 {
		items = append(items, navItem{Href: "/admin/units", Key: "admin.tab.units"})
	}
	if a.Users {
		items = append(items, navItem{Href: "/admin/users", Key: "admin.tab.users"})
	}
	if a.SeesServices {
		items = append(items, navItem{Href: "/admin/services", Key: "admin.tab.services"})
	}
	if a.Outbox {
		items = append(items, navItem{Href: "/admin/outbox", Key: "admin.tab.outbox"})
	}
	for i := range items {
		items[i].Current = items[i].Href == path || strings.HasPrefix(path, items[i].Href+"/")
	}
	return items
}

// adminAmount reads a price or threshold typed the locale's way (see
// parseLocaleAmount); it may be zero, never negative.
func adminAmount(f i18n.Format, raw, currency string) (money.Money, bool) {
	m, ok := parseLocaleAmount(f, raw, currency)
	return m, ok && m.Minor >= 0
}
