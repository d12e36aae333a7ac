package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type memberJSON struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

// memberBody names the person to add by user_id (someone the caller may
// already read: units.GetVisibleUser) or by their exact e-mail address
// (units.FindUserToAdd), the one way to reach a person outside.
type memberBody struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Role   string `json:"role"`
}

type grantBody struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`
}

func (s *Handlers) listMembers(c echo.Context) error {
	u, err := s.MemberUnit(c, "read")
	if err != nil {
		return err
	}
	rows, err := units.ListMembers(c.Request().Context(), s.DB, u.ID)
	if err != nil {
		return err
	}
	out := httpx.List[memberJSON]{Items: make([]memberJSON, len(rows))}
	for i, m := range rows {
		out.Items[i] = memberJSON{UserID: httpx.FormatID(m.UserID), Email: m.Email, Name: m.Name, Role: m.Role}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Handlers) addMember(c echo.Context) error {
	u, err := s.MemberUnit(c, "manage")
	if err != nil {
		return err
	}
	var body memberBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	if err := s.CheckManagerGrant(c, body.Role); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var userID int64
	if body.UserID != "" {
		if userID, err = httpx.ParseID("user_id", body.UserID); err != nil {
			return err
		}
	}
	target, err := units.UserToAdd(ctx, s.DB, s.UserReader(c), userID, strings.TrimSpace(body.Email))
	if err != nil {
		return err
	}
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		_, err := units.GrantUnitRole(ctx, tx, httpx.CurrentPrincipal(c).ID(), u.ID, target.ID, body.Role)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, memberJSON{UserID: httpx.FormatID(target.ID), Email: target.Email, Name: target.Name, Role: body.Role})
}

func (s *Handlers) removeMember(c echo.Context) error {
	u, err := s.MemberUnit(c, "manage")
	if err != nil {
		return err
	}
	userID, err := httpx.PathID(c, "user_id", "grant")
	if err != nil {
		return err
	}
	role := c.Param("role")
	if err := s.CheckManagerGrant(c, role); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		return units.RevokeUnitRole(ctx, tx, httpx.CurrentPrincipal(c).ID(), u.ID, userID, role)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// orgGrantJSON is a grant (status "granted", 201) or, for a money role, a
// proposal waiting for a finance user (status "proposed", 202).
type orgGrantJSON struct {
	UserID     string `json:"user_id"`
	Role       string `json:"role"`
	Status     string `json:"status"`
	ProposalID string `json:"proposal_id,omitempty"`
}

func (s *Handlers) grantOrgRole(c echo.Context) error {
	var body grantBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	userID, err := httpx.ParseID("user_id", body.UserID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var g *units.OrgGrant
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
		g, err = units.GrantOrgRole(ctx, tx, httpx.CurrentPrincipal(c).ID(), userID, body.Role)
		return err
	})
	if err != nil {
		return err
	}
	if g.Proposal != nil {
		return c.JSON(http.StatusAccepted, orgGrantJSON{UserID: httpx.FormatID(userID), Role: body.Role, Status: "proposed", ProposalID: httpx.FormatID(g.Proposal.ID)})
	}
	return c.JSON(http.StatusCreated, orgGrantJSON{UserID: httpx.FormatID(userID), Role: body.Role, Status: "granted"})
}

// revokeOrgRole takes the grant from a JSON body or from ?user_id=&role=,
// since some clients cannot send a body with DELETE.
func (s *Handlers) revokeOrgRole(c echo.Context) error {
	body := grantBody{UserID: c.QueryParam("user_id"), Role: c.QueryParam("role")}
	if c.Request().ContentLength != 0 {
		if err := httpx.DecodeJSON(c, &body); err != nil {
			return err
		}
	}
	userID, err := httpx.ParseID("user_id", body.UserID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		return units.RevokeOrgRole(ctx, tx, httpx.CurrentPrincipal(c).ID(), userID, body.Role)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
