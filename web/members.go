package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

type memberJSON struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

type grantBody struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`
}

// memberUnit loads the path's unit for a member operation; a caller without
// the right in that unit gets 404, as if the unit's members did not exist.
func (s *Server) memberUnit(c echo.Context, act string) (*units.Unit, error) {
	u, err := s.visibleUnit(c)
	if err != nil {
		return nil, err
	}
	if !s.allowed(c, u.ID, "member", "read") {
		return nil, fault.NotFound("unit")
	}
	if act != "read" && !s.allowed(c, u.ID, "member", act) {
		return nil, fault.Forbidden("you do not manage the members of %s", u.Code)
	}
	return u, nil
}

func (s *Server) listMembers(c echo.Context) error {
	u, err := s.memberUnit(c, "read")
	if err != nil {
		return err
	}
	rows, err := units.ListMembers(c.Request().Context(), s.db, u.ID)
	if err != nil {
		return err
	}
	out := list[memberJSON]{Items: make([]memberJSON, len(rows))}
	for i, m := range rows {
		out.Items[i] = memberJSON{UserID: formatID(m.UserID), Email: m.Email, Name: m.Name, Role: m.Role}
	}
	return c.JSON(http.StatusOK, out)
}

// checkManagerGrant keeps the manager role in admins' hands: a manager adds
// members and agents, but cannot make more managers.
func (s *Server) checkManagerGrant(c echo.Context, role string) error {
	if role == "manager" && !s.allowed(c, 0, "grant", "manage") {
		return fault.Forbidden("only an admin grants or revokes the manager role")
	}
	return nil
}

func (s *Server) addMember(c echo.Context) error {
	u, err := s.memberUnit(c, "manage")
	if err != nil {
		return err
	}
	var body grantBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	userID, err := parseID("user_id", body.UserID)
	if err != nil {
		return err
	}
	if err := s.checkManagerGrant(c, body.Role); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = audit.InTx(ctx, s.db, func(tx bun.Tx) error {
		_, err := units.GrantUnitRole(ctx, tx, currentPrincipal(c).id(), u.ID, userID, body.Role)
		return err
	})
	if err != nil {
		return err
	}
	target, err := units.GetUser(ctx, s.db, userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, memberJSON{UserID: formatID(userID), Email: target.Email, Name: target.Name, Role: body.Role})
}

func (s *Server) removeMember(c echo.Context) error {
	u, err := s.memberUnit(c, "manage")
	if err != nil {
		return err
	}
	userID, err := pathID(c, "user_id", "grant")
	if err != nil {
		return err
	}
	role := c.Param("role")
	if err := s.checkManagerGrant(c, role); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.db.InTx(ctx, func(tx bun.Tx) error {
		return units.RevokeUnitRole(ctx, tx, currentPrincipal(c).id(), u.ID, userID, role)
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

func (s *Server) grantOrgRole(c echo.Context) error {
	var body grantBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	userID, err := parseID("user_id", body.UserID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var g *units.OrgGrant
	err = audit.InTx(ctx, s.db, func(tx bun.Tx) (err error) {
		g, err = units.GrantOrgRole(ctx, tx, currentPrincipal(c).id(), userID, body.Role)
		return err
	})
	if err != nil {
		return err
	}
	if g.Proposal != nil {
		return c.JSON(http.StatusAccepted, orgGrantJSON{UserID: formatID(userID), Role: body.Role, Status: "proposed", ProposalID: formatID(g.Proposal.ID)})
	}
	return c.JSON(http.StatusCreated, orgGrantJSON{UserID: formatID(userID), Role: body.Role, Status: "granted"})
}

// revokeOrgRole takes the grant from a JSON body or from ?user_id=&role=,
// since some clients cannot send a body with DELETE.
func (s *Server) revokeOrgRole(c echo.Context) error {
	body := grantBody{UserID: c.QueryParam("user_id"), Role: c.QueryParam("role")}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
	}
	userID, err := parseID("user_id", body.UserID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.db.InTx(ctx, func(tx bun.Tx) error {
		return units.RevokeOrgRole(ctx, tx, currentPrincipal(c).id(), userID, body.Role)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
