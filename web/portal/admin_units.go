package portal

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// adminUnitRow is a unit in the units tree.
type adminUnitRow struct {
	Unit      units.Unit
	Depth     int
	Parent    string // the parent's code
	Threshold money.Money
	Open      bool // the user may open the unit's page
}

type adminUnitsData struct {
	Tabs      []navItem
	Rows      []adminUnitRow
	CanCreate bool
	Parents   []units.Unit // active units a new unit may go under
	Modes     adminUnitModes
}

// adminUnitModes are the choices of the unit forms.
type adminUnitModes struct {
	Budget     []string
	Chargeback []string
}

var adminModes = adminUnitModes{Budget: []string{units.BudgetSoft, units.BudgetHard},
	Chargeback: []string{units.ModeChargeback, units.ModeShowback}}

type adminUnitData struct {
	Tabs           []navItem
	Unit           units.Unit
	Parent         *units.Unit
	Threshold      money.Money
	CanEdit        bool
	SeesMembers    bool
	ManagesMembers bool
	Members        []units.Member
	Roles          []string // unit roles the user may grant and revoke
	Parents        []units.Unit
	Modes          adminUnitModes
	ConfirmArchive bool
	GrantsManager  bool // the user may grant and revoke the manager role

	Inbound *inboundSection // the inbound e-mail address, for its keepers (nil for others)
}

// adminAllUnits lists every unit the caller may know of, archived ones only for
// admins and auditors (as GET /units does).
func (s *Pages) adminAllUnits(c echo.Context) ([]units.Unit, error) {
	return units.ListUnits(c.Request().Context(), s.DB, units.UnitFilter{IncludeArchived: s.SeesArchived(c), Limit: 100000})
}

// adminUnitTree orders units depth first by code; a unit whose parent is not in
// the list starts a tree of its own.
func adminUnitTree(list, all []units.Unit) []adminUnitRow {
	byID, everyone := map[int64]units.Unit{}, map[int64]units.Unit{}
	for _, u := range list {
		byID[u.ID] = u
	}
	for _, u := range all {
		everyone[u.ID] = u
	}
	children := map[int64][]units.Unit{}
	var roots []units.Unit
	for _, u := range list {
		if u.ParentID != nil {
			if _, ok := byID[*u.ParentID]; ok {
				children[*u.ParentID] = append(children[*u.ParentID], u)
				continue
			}
		}
		roots = append(roots, u)
	}
	byCode := func(l []units.Unit) {
		sort.Slice(l, func(i, j int) bool { return l[i].Code < l[j].Code })
	}
	var out []adminUnitRow
	var walk func(u units.Unit, depth int)
	walk = func(u units.Unit, depth int) {
		row := adminUnitRow{Unit: u, Depth: min(depth, 6)}
		if u.ParentID != nil {
			if p, ok := everyone[*u.ParentID]; ok {
				row.Parent = p.Code
			}
		}
		out = append(out, row)
		kids := children[u.ID]
		byCode(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	byCode(roots)
	for _, r := range roots {
		walk(r, 0)
	}
	return out
}

func (s *Pages) adminUnitsPage(c echo.Context) error {
	return s.showAdminUnits(c, http.StatusOK, nil, url.Values{}, "")
}

func (s *Pages) showAdminUnits(c echo.Context, status int, errs map[string]string, form url.Values, problem string) error {
	a := s.adminAccessFor(c)
	if !a.SeesUnitsPage {
		return notFoundPage()
	}
	if !a.Units && !a.MembersOrg && len(a.MemberUnits) == 0 {
		// Nothing to show here: go where the user's admin work is.
		if a.Users {
			return c.Redirect(http.StatusSeeOther, "/admin/users")
		}
		return c.Redirect(http.StatusSeeOther, "/admin/services")
	}
	list, err := s.adminAllUnits(c)
	if err != nil {
		return err
	}
	var visible []units.Unit
	data := adminUnitsData{Tabs: a.tabs("/admin/units"), CanCreate: a.Units, Modes: adminModes}
	for _, u := range list {
		if a.Units || a.managesMembers(u.ID) {
			visible = append(visible, u)
		}
		if !u.Archived {
			data.Parents = append(data.Parents, u)
		}
	}
	sort.Slice(data.Parents, func(i, j int) bool { return data.Parents[i].Code < data.Parents[j].Code })
	data.Rows = adminUnitTree(visible, list)
	for i := range data.Rows {
		data.Rows[i].Threshold = money.Money{Minor: data.Rows[i].Unit.ApprovalThresholdMinor, Currency: s.Org.Currency}
		data.Rows[i].Open = true
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("admin.units.title")
	if errs != nil {
		v.Errors = errs
	}
	v.Form, v.Problem = form, problem
	return s.render(c, status, "admin_units", v)
}

// adminUnitForm reads the unit form into a change; money is typed the
// locale's way. Field messages come back for what cannot be read.
func (s *Pages) adminUnitForm(c echo.Context, form url.Values) (units.UnitChange, map[string]string) {
	tr := s.tr(c)
	errs := map[string]string{}
	code, name := form.Get("code"), form.Get("name")
	budget, chargeback := form.Get("budget_mode"), form.Get("chargeback_mode")
	ch := units.UnitChange{Code: &code, Name: &name, BudgetMode: &budget, ChargebackMode: &chargeback, SetParent: true}
	if raw := strings.TrimSpace(form.Get("parent_id")); raw != "" {
		id, err := httpx.ParseID("parent_id", raw)
		if err != nil {
			errs["parent_id"] = tr.T("admin.err.invalid.parent_id")
		} else {
			ch.ParentID = &id
		}
	}
	raw := strings.TrimSpace(form.Get("approval_threshold"))
	if raw == "" {
		raw = "0"
	}
	if m, ok := adminAmount(tr.Format(), raw, s.Org.Currency); ok {
		ch.ApprovalThresholdMinor = &m.Minor
	} else {
		errs["approval_threshold"] = tr.T("admin.err.money")
	}
	return ch, errs
}

func (s *Pages) adminCreateUnit(c echo.Context) error {
	a := s.adminAccessFor(c)
	if !a.Units {
		return notFoundPage()
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	ch, errs := s.adminUnitForm(c, form)
	if len(errs) > 0 {
		return s.showAdminUnits(c, http.StatusUnprocessableEntity, errs, form, "")
	}
	u := units.Unit{Code: *ch.Code, Name: *ch.Name, ParentID: ch.ParentID, ApprovalThresholdMinor: *ch.ApprovalThresholdMinor,
		BudgetMode: *ch.BudgetMode, ChargebackMode: *ch.ChargebackMode}
	var created *units.Unit
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = units.CreateUnit(ctx, tx, httpx.CurrentPrincipal(c).ID(), u)
		return err
	})
	if err != nil {
		r, ok := formFault(s.tr(c), adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminUnits(c, r.Status, errs, form, problem)
	}
	setFlash(c, s.tr(c).T("admin.units.created", created.Code))
	return c.Redirect(http.StatusSeeOther, "/admin/units")
}

func (s *Pages) adminUnitPage(c echo.Context) error {
	return s.showAdminUnit(c, http.StatusOK, nil, nil, "", false)
}

// showAdminUnit renders a unit's page: its settings (a form for admins) and
// its members (with grant and revoke for those who manage them).
func (s *Pages) showAdminUnit(c echo.Context, status int, errs map[string]string, form url.Values, problem string, confirmArchive bool) error {
	a := s.adminAccessFor(c)
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	seesMembers := s.Allowed(c, u.ID, "member", "read")
	if !a.Units && !seesMembers {
		return fault.NotFound("unit")
	}
	data := adminUnitData{Tabs: a.tabs("/admin/units"), Unit: *u, CanEdit: a.Units, SeesMembers: seesMembers,
		ManagesMembers: s.Allowed(c, u.ID, "member", "manage") && !u.Archived, Modes: adminModes,
		Threshold: money.Money{Minor: u.ApprovalThresholdMinor, Currency: s.Org.Currency}, ConfirmArchive: confirmArchive}
	ctx := c.Request().Context()
	if u.ParentID != nil {
		if p, err := units.GetUnit(ctx, s.DB, *u.ParentID); err == nil {
			data.Parent = p
		}
	}
	if seesMembers {
		if data.Members, err = units.ListMembers(ctx, s.DB, u.ID); err != nil {
			return err
		}
	}
	data.GrantsManager = a.Grants
	if data.Inbound, err = s.inboundSectionFor(c, u.ID); err != nil {
		return err
	}
	for _, r := range units.UnitRoles {
		if r != "manager" || a.Grants {
			data.Roles = append(data.Roles, r)
		}
	}
	if a.Units {
		list, err := s.adminAllUnits(c)
		if err != nil {
			return err
		}
		for _, p := range list {
			if p.ID != u.ID && !p.Archived {
				data.Parents = append(data.Parents, p)
			}
		}
		sort.Slice(data.Parents, func(i, j int) bool { return data.Parents[i].Code < data.Parents[j].Code })
	}
	v := s.newView(c, u.Code+" "+u.Name, data)
	if errs != nil {
		v.Errors = errs
	}
	// The settings form shows the unit as stored unless the user just
	// typed something else into it.
	shown := url.Values{}
	shown.Set("code", u.Code)
	shown.Set("name", u.Name)
	if u.ParentID != nil {
		shown.Set("parent_id", httpx.FormatID(*u.ParentID))
	}
	shown.Set("approval_threshold", formAmount(v.T.Format(), data.Threshold.Minor, data.Threshold.Currency))
	shown.Set("budget_mode", u.BudgetMode)
	shown.Set("chargeback_mode", u.ChargebackMode)
	for k, vals := range form {
		shown[k] = vals
	}
	v.Form, v.Problem = shown, problem
	return s.render(c, status, "admin_unit", v)
}

func (s *Pages) adminUpdateUnit(c echo.Context) error {
	if !s.adminAccessFor(c).Units {
		return notFoundPage()
	}
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	ch, errs := s.adminUnitForm(c, form)
	if len(errs) > 0 {
		return s.showAdminUnit(c, http.StatusUnprocessableEntity, errs, form, "", false)
	}
	return s.adminChangeUnit(c, u, ch, form, "admin.units.saved")
}

// adminChangeUnit applies a change to a unit in one transaction and goes
// back to its page, or shows why the domain refused it.
func (s *Pages) adminChangeUnit(c echo.Context, u *units.Unit, ch units.UnitChange, form url.Values, flashKey string) error {
	ctx := c.Request().Context()
	var updated *units.Unit
	err := s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		updated, err = units.UpdateUnit(ctx, s.DB, tx, httpx.CurrentPrincipal(c).ID(), u.ID, ch)
		return err
	})
	if err != nil {
		r, ok := formFault(s.tr(c), adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminUnit(c, r.Status, errs, form, problem, false)
	}
	setFlash(c, s.tr(c).T(flashKey, updated.Code))
	return c.Redirect(http.StatusSeeOther, "/admin/units/"+httpx.FormatID(u.ID))
}

// adminArchiveUnit archives a unit after a confirmation: the portal's script
// asks in the browser; without it the unit page asks first.
func (s *Pages) adminArchiveUnit(c echo.Context) error {
	if !s.adminAccessFor(c).Units {
		return notFoundPage()
	}
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return s.showAdminUnit(c, http.StatusOK, nil, nil, "", true)
	}
	yes := true
	return s.adminChangeUnit(c, u, units.UnitChange{Archived: &yes}, nil, "admin.units.archived")
}

func (s *Pages) adminRestoreUnit(c echo.Context) error {
	if !s.adminAccessFor(c).Units {
		return notFoundPage()
	}
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	no := false
	return s.adminChangeUnit(c, u, units.UnitChange{Archived: &no}, nil, "admin.units.restored")
}

// adminMemberUnit is memberUnit for pages: 404 unless the user sees the
// unit's members, forbidden unless they manage them.
func (s *Pages) adminMemberUnit(c echo.Context) (*units.Unit, error) {
	return s.MemberUnit(c, "manage")
}

func (s *Pages) adminAddMember(c echo.Context) error {
	u, err := s.adminMemberUnit(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	tr := s.tr(c)
	role := form.Get("role")
	refuse := func(err error) error {
		r, ok := formFault(tr, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminUnit(c, r.Status, errs, form, problem, false)
	}
	ctx := c.Request().Context()
	target, err := units.UserToAdd(ctx, s.DB, s.UserReader(c), 0, strings.TrimSpace(form.Get("email")))
	if err != nil {
		if fault.Is(err, fault.KindInvalid) {
			return s.showAdminUnit(c, http.StatusUnprocessableEntity, map[string]string{"email": tr.T("admin.err.no_such_user")}, form, "", false)
		}
		return err
	}
	if err := s.CheckManagerGrant(c, role); err != nil {
		return s.showAdminUnit(c, http.StatusForbidden, nil, form, tr.T("admin.err.manager_role"), false)
	}
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := units.GrantUnitRole(ctx, tx, httpx.CurrentPrincipal(c).ID(), u.ID, target.ID, role)
		return err
	})
	if err != nil {
		return refuse(err)
	}
	setFlash(c, tr.T("admin.members.granted", target.Name, tr.T("admin.role."+role), u.Code))
	return c.Redirect(http.StatusSeeOther, "/admin/units/"+httpx.FormatID(u.ID))
}

func (s *Pages) adminRemoveMember(c echo.Context) error {
	u, err := s.adminMemberUnit(c)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	role := c.FormValue("role")
	userID, err := httpx.ParseID("user_id", c.FormValue("user_id"))
	if err != nil {
		return fault.NotFound("grant")
	}
	refuse := func(err error) error {
		r, ok := formFault(tr, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminUnit(c, r.Status, errs, nil, problem, false)
	}
	if err := s.CheckManagerGrant(c, role); err != nil {
		return s.showAdminUnit(c, http.StatusForbidden, nil, nil, tr.T("admin.err.manager_role"), false)
	}
	ctx := c.Request().Context()
	target, err := units.GetUser(ctx, s.DB, userID)
	if err != nil {
		return err
	}
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		return units.RevokeUnitRole(ctx, tx, httpx.CurrentPrincipal(c).ID(), u.ID, userID, role)
	})
	if err != nil {
		if fault.Is(err, fault.KindNotFound) {
			return refuse(fault.Conflict("no_grant", "the user does not hold %s in %s", role, u.Code))
		}
		return refuse(err)
	}
	setFlash(c, tr.T("admin.members.revoked", tr.T("admin.role."+role), target.Name, u.Code))
	return c.Redirect(http.StatusSeeOther, "/admin/units/"+httpx.FormatID(u.ID))
}
