package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type roleJSON struct {
	Role      string `json:"role"`
	UnitID    string `json:"unit_id,omitempty"`
	UnitCode  string `json:"unit_code,omitempty"`
	Inherited bool   `json:"inherited"`
}

type meJSON struct {
	User        userJSON            `json:"user"`
	Roles       []roleJSON          `json:"roles"`
	OrgRoles    []string            `json:"org_roles"`
	Permissions map[string][]string `json:"permissions"`
	CSRFToken   string              `json:"csrf_token,omitempty"`
}

// me handles GET /me: who the caller is, the roles they hold (with
// inherited manager roles marked), and what each role allows.
func (s *Handlers) me(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	direct, err := units.UnitRolesOf(ctx, s.DB, p.ID())
	if err != nil {
		return err
	}
	isDirect := func(role string, unitID int64) bool {
		return slices.ContainsFunc(direct, func(g units.UnitRole) bool { return g.Role == role && g.UnitID == unitID })
	}
	out := meJSON{User: toUserJSON(p.User), Roles: []roleJSON{}, OrgRoles: []string{},
		Permissions: map[string][]string{}, CSRFToken: p.CSRFToken}
	codes := map[int64]string{}
	for _, g := range s.Authz.Grants(p.ID()) {
		if _, seen := out.Permissions[g.Role]; !seen {
			out.Permissions[g.Role] = s.Authz.Permissions(g.Role)
		}
		if g.UnitID == 0 {
			out.OrgRoles = append(out.OrgRoles, g.Role)
			continue
		}
		code, ok := codes[g.UnitID]
		if !ok {
			if u, err := units.GetUnit(ctx, s.DB, g.UnitID); err == nil {
				code = u.Code
			}
			codes[g.UnitID] = code
		}
		out.Roles = append(out.Roles, roleJSON{Role: g.Role, UnitID: httpx.FormatID(g.UnitID), UnitCode: code, Inherited: !isDirect(g.Role, g.UnitID)})
	}
	return c.JSON(http.StatusOK, out)
}
