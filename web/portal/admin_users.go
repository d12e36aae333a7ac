package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// adminUserRow is a user in the users list, with the organisation roles
// held and the ones that could still be granted.
type adminUserRow struct {
	User    units.User
	Roles   []string
	Missing []string
}

type adminUsersData struct {
	Tabs      []navItem
	Rows      []adminUserRow
	Next      string
	Locales   []string
	CanManage bool
	Grants    bool
	Confirm   *units.User // a user whose disabling waits for confirmation
	Proposals []proposalRow
}

const adminUsersPageSize = 100

func (s *Pages) adminUsersPage(c echo.Context) error {
	return s.showAdminUsers(c, http.StatusOK, nil, url.Values{}, "", nil)
}

func (s *Pages) showAdminUsers(c echo.Context, status int, errs map[string]string, form url.Values, problem string, confirm *units.User) error {
	a := s.adminAccessFor(c)
	if !a.Users {
		return notFoundPage()
	}
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	if len([]rune(q)) > 200 {
		q = string([]rune(q)[:200])
	}
	page := httpx.Page{Limit: adminUsersPageSize}
	cur, err := s.ReadCursor(c, "users")
	if err != nil {
		return err
	}
	if cur != nil {
		page.AfterID = cur.AfterID
	}
	list, err := units.ListUsers(ctx, s.DB, units.UserFilter{Query: q, AfterID: page.AfterID, Limit: page.Limit + 1})
	if err != nil {
		return err
	}
	data := adminUsersData{Tabs: a.tabs("/admin/users"), Locales: s.texts.Locales(), CanManage: a.ManageUsers, Grants: a.Grants, Confirm: confirm}
	list, next := httpx.TrimPage(s.Kit, "users", page, list, func(u *units.User) int64 { return u.ID })
	if next != "" {
		data.Next = nextPage(c, "/admin/users", next)
	}
	if a.Grants {
		if data.Proposals, err = s.pendingProposals(c); err != nil {
			return err
		}
	}
	held, err := s.adminOrgRolesOf(c, list)
	if err != nil {
		return err
	}
	for _, u := range list {
		roles := held[u.ID]
		row := adminUserRow{User: u, Roles: roles}
		for _, r := range units.OrgRoles {
			if !slices.Contains(roles, r) {
				row.Missing = append(row.Missing, r)
			}
		}
		data.Rows = append(data.Rows, row)
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("admin.users.title")
	if errs != nil {
		v.Errors = errs
	}
	form.Del("password") // a password is never sent back to the browser
	if form.Get("q") == "" && q != "" {
		form.Set("q", q)
	}
	v.Form, v.Problem = form, problem
	return s.render(c, status, "admin_users", v)
}

func (s *Pages) adminCreateUser(c echo.Context) error {
	if !s.adminAccessFor(c).ManageUsers {
		return notFoundPage()
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	tr := s.tr(c)
	refuse := func(err error) error {
		r, ok := formFault(tr, adminTexts, err)
		errs, problem := r.Errors, r.Problem
		if !ok {
			return err
		}
		return s.showAdminUsers(c, r.Status, errs, form, problem, nil)
	}
	u := units.User{Email: strings.TrimSpace(form.Get("email")), Name: form.Get("name"), Locale: form.Get("locale")}
	if pw := form.Get("password"); pw != "" {
		hash, err := auth.HashPassword(pw, s.Cfg.PasswordHash)
		if err != nil {
			return refuse(err)
		}
		u.PasswordHash = hash
	}
	ctx := c.Request().Context()
	var created *units.User
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = units.CreateUser(ctx, tx, httpx.CurrentPrincipal(c).ID(), u)
		return err
	})
	if err != nil {
		return refuse(err)
	}
	setFlash(c, tr.T("admin.users.created", created.Email))
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

// adminTargetUser loads the path's user for an admin action.
func (s *Pages) adminTargetUser(c echo.Context) (*units.User, error) {
	id, err := httpx.PathID(c, "id", "user")
	if err != nil {
		return nil, err
	}
	return units.GetUser(c.Request().Context(), s.DB, id)
}

// adminSetDisabled disables or enables a user; disabling asks first (the
// portal's script in the browser, otherwise the page) and ends the user's
// sessions and tokens, which the domain does in the same transaction.
func (s *Pages) adminSetDisabled(c echo.Context, disabled bool) error {
	if !s.adminAccessFor(c).ManageUsers {
		return notFoundPage()
	}
	target, err := s.adminTargetUser(c)
	if err != nil {
		return err
	}
	if disabled && c.FormValue("confirm") != "yes" {
		return s.showAdminUsers(c, http.StatusOK, nil, url.Values{}, "", target)
	}
	tr := s.tr(c)
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := units.UpdateUser(ctx, tx, httpx.CurrentPrincipal(c).ID(), target.ID, units.UserChange{Disabled: &disabled})
		return err
	})
	if err != nil {
		r, ok := formFault(tr, adminTexts, err)
		problem := r.Problem
		if !ok {
			return err
		}
		return s.showAdminUsers(c, r.Status, nil, url.Values{}, problem, nil)
	}
	key := "admin.users.enabled"
	if disabled {
		key = "admin.users.disabled"
	}
	setFlash(c, tr.T(key, target.Email))
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

func (s *Pages) adminDisableUser(c echo.Context) error { return s.adminSetDisabled(c, true) }
func (s *Pages) adminEnableUser(c echo.Context) error  { return s.adminSetDisabled(c, false) }

// adminOrgRole grants or revokes an organisation role. The domain keeps
// admin and finance apart and the last admin in place; its refusal is shown
// on the page.
func (s *Pages) adminOrgRole(c echo.Context, grant bool) error {
	if !s.adminAccessFor(c).Grants {
		return notFoundPage()
	}
	target, err := s.adminTargetUser(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	tr := s.tr(c)
	ctx := c.Request().Context()
	actor := httpx.CurrentPrincipal(c).ID()
	var g *units.OrgGrant
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		if grant {
			g, err = units.GrantOrgRole(ctx, tx, actor, target.ID, role)
			return err
		}
		return units.RevokeOrgRole(ctx, tx, actor, target.ID, role)
	})
	if err != nil {
		if fault.Is(err, fault.KindNotFound) {
			err = fault.Conflict("no_grant", "the user does not hold %s", role)
		}
		r, ok := formFault(tr, adminTexts, err)
		problem := r.Problem
		if !ok {
			return err
		}
		if problem == "" {
			problem = err.Error()
		}
		return s.showAdminUsers(c, r.Status, nil, url.Values{}, problem, nil)
	}
	key := "admin.users.revoked"
	switch {
	case g != nil && g.Proposal != nil:
		key = "admin.users.proposed"
	case grant:
		key = "admin.users.granted"
	}
	setFlash(c, tr.T(key, tr.T("admin.role."+role), target.Email))
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

func (s *Pages) adminGrantOrgRole(c echo.Context) error  { return s.adminOrgRole(c, true) }
func (s *Pages) adminRevokeOrgRole(c echo.Context) error { return s.adminOrgRole(c, false) }

// adminOrgRolesOf reads the organisation roles of a page of users through
// the units store.
func (s *Pages) adminOrgRolesOf(c echo.Context, list []units.User) (map[int64][]string, error) {
	out := make(map[int64][]string, len(list))
	for _, u := range list {
		roles, err := units.OrgRolesOf(c.Request().Context(), s.DB, u.ID)
		if err != nil {
			return nil, err
		}
		out[u.ID] = roles
	}
	return out, nil
}
