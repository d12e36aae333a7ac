package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type grantProposalJSON struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Role       string     `json:"role"`
	ProposedBy string     `json:"proposed_by"`
	ProposedAt time.Time  `json:"proposed_at"`
	Status     string     `json:"status"`
	DecidedBy  *string    `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
}

func toGrantProposalJSON(p *units.GrantProposal) grantProposalJSON {
	j := grantProposalJSON{ID: httpx.FormatID(p.ID), UserID: httpx.FormatID(p.UserID), Role: p.Role,
		ProposedBy: httpx.FormatID(p.ProposedBy), ProposedAt: p.ProposedAt.UTC(), Status: p.Status, DecidedAt: utcPtr(p.DecidedAt)}
	if p.DecidedBy != nil {
		by := httpx.FormatID(*p.DecidedBy)
		j.DecidedBy = &by
	}
	return j
}

// listGrantProposals lists the money-role proposals waiting for a finance
// user, oldest first; there are few, so the list is not paged.
func (s *Handlers) listGrantProposals(c echo.Context) error {
	rows, err := units.PendingGrantProposals(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpx.ListOf(rows, "", toGrantProposalJSON))
}

type proposalActionBody struct {
	Action string `json:"action"`
}

// decideGrantProposal confirms or declines a proposal. Who decides is the
// units package's rule (a finance user other than proposer and grantee), so
// a refusal answers 403 with its reason and stays in the audit trail.
func (s *Handlers) decideGrantProposal(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "grant proposal")
	if err != nil {
		return err
	}
	var b proposalActionBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	actor := httpx.CurrentPrincipal(c).ID()
	var decided *units.GrantProposal
	switch b.Action {
	case "confirm":
		err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
			if _, err := units.ConfirmGrant(ctx, tx, actor, id); err != nil {
				return err
			}
			decided, err = units.GetGrantProposal(ctx, tx, id)
			return err
		})
	case "decline":
		err = audit.InTx(ctx, s.DB, func(tx bun.Tx) (err error) {
			decided, err = units.DeclineGrant(ctx, tx, actor, id)
			return err
		})
	default:
		return fault.Invalid("action", "action must be confirm or decline")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGrantProposalJSON(decided))
}
