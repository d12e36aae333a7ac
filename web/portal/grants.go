package portal

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// proposalRow is a pending money-role proposal as the pages list it.
type proposalRow struct {
	ID         int64
	Role       string
	User       string // the grantee's name and e-mail
	ProposedBy string
	ProposedAt time.Time
	CanDecide  bool
}

type grantsData struct {
	Pending []proposalRow
}

// pendingProposals lists the proposals waiting for a finance user. The
// buttons show for a finance user who is neither proposer nor grantee, the
// rule units.ConfirmGrant applies again when the form posts.
func (s *Pages) pendingProposals(c echo.Context) ([]proposalRow, error) {
	ctx, uid := c.Request().Context(), httpx.CurrentPrincipal(c).ID()
	pending, err := units.PendingGrantProposals(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	finance := s.Allowed(c, httpx.OrgWide, "dispute", "resolve")
	people := map[int64]string{}
	name := func(id int64) string {
		if n, ok := people[id]; ok {
			return n
		}
		n := s.personLabel(ctx, id)
		people[id] = n
		return n
	}
	rows := make([]proposalRow, 0, len(pending))
	for _, p := range pending {
		rows = append(rows, proposalRow{ID: p.ID, Role: p.Role, User: name(p.UserID), ProposedBy: name(p.ProposedBy), ProposedAt: p.ProposedAt,
			CanDecide: finance && uid != p.UserID && uid != p.ProposedBy})
	}
	return rows, nil
}

// personLabel is "Name <e-mail>", or the bare id of a user that cannot be read.
func (s *Pages) personLabel(ctx context.Context, id int64) string {
	u, err := units.GetUser(ctx, s.DB, id)
	if err != nil {
		return httpx.FormatID(id)
	}
	return u.Name + " <" + u.Email + ">"
}

// grantsPage lists the money-role proposals for finance to confirm or decline.
func (s *Pages) grantsPage(c echo.Context) error {
	return s.showGrants(c, http.StatusOK, "")
}

func (s *Pages) showGrants(c echo.Context, status int, problem string) error {
	if !s.Allowed(c, httpx.OrgWide, "grant_proposal", "read") {
		return notFoundPage()
	}
	rows, err := s.pendingProposals(c)
	if err != nil {
		return err
	}
	v := s.newView(c, "", grantsData{Pending: rows})
	v.Title = v.T.T("grants.title")
	v.Problem = problem
	return s.render(c, status, "grants", v)
}

// decideGrantForm confirms or declines a proposal after the one
// confirmation flow; a refusal (with its reason) is shown on the page and
// stays in the audit trail.
func (s *Pages) decideGrantForm(c echo.Context) error {
	if !s.Allowed(c, httpx.OrgWide, "grant_proposal", "read") {
		return notFoundPage()
	}
	id, err := httpx.PathID(c, "id", "grant proposal")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := units.GetGrantProposal(ctx, s.DB, id); err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	action := form.Get("action")
	if action != "confirm" && action != "decline" {
		return fault.NotFound("action")
	}
	if asked, err := s.needConfirm(c, form, "grants."+action+".confirm", "/finance/grants"); asked || err != nil {
		return err
	}
	actor := httpx.CurrentPrincipal(c).ID()
	err = audit.InTx(ctx, s.DB, func(tx bun.Tx) error {
		if action == "confirm" {
			_, err := units.ConfirmGrant(ctx, tx, actor, id)
			return err
		}
		_, err := units.DeclineGrant(ctx, tx, actor, id)
		return err
	})
	v := s.newView(c, "", nil)
	if err != nil {
		r, ok := formFault(v.T, moneyTexts, err)
		if !ok {
			return err
		}
		return s.showGrants(c, r.Status, r.message())
	}
	setFlash(c, v.T.T("flash.grant."+action))
	return c.Redirect(http.StatusSeeOther, "/finance/grants")
}
