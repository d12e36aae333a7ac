package units

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// Statuses of a grant proposal.
const (
	ProposalPending   = "pending"
	ProposalConfirmed = "confirmed"
	ProposalDeclined  = "declined"
)

// GrantProposal is an admin's request that a user be given a money role. A
// finance user who is neither the proposer nor the grantee confirms it (the
// role is granted) or declines it; either way the proposal stays on record.
type GrantProposal struct {
	bun.BaseModel `bun:"table:grant_proposals"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     int64      `bun:"user_id"`
	Role       string     `bun:"role"`
	ProposedBy int64      `bun:"proposed_by"`
	ProposedAt time.Time  `bun:"proposed_at"`
	Status     string     `bun:"status"`
	DecidedBy  *int64     `bun:"decided_by"`
	DecidedAt  *time.Time `bun:"decided_at"`
}

// proposeGrant opens a proposal for g. The caller holds the grantee's row
// lock, so two admins cannot open the same proposal twice.
func proposeGrant(ctx context.Context, tx bun.Tx, actorID int64, g *OrgRole) (*GrantProposal, error) {
	held, err := OrgRolesOf(ctx, tx, g.UserID)
	if err != nil {
		return nil, err
	}
	if slices.Contains(held, g.Role) {
		return nil, fault.Conflict("already_granted", "the user already holds %s", g.Role)
	}
	open, err := tx.NewSelect().Model((*GrantProposal)(nil)).
		Where("user_id = ? AND role = ? AND status = ?", g.UserID, g.Role, ProposalPending).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("look for a pending proposal: %w", err)
	}
	if open {
		return nil, fault.Conflict("already_proposed", "%s for this user already waits for a finance user's confirmation", g.Role)
	}
	p := &GrantProposal{UserID: g.UserID, Role: g.Role, ProposedBy: actorID, ProposedAt: g.GrantedAt, Status: ProposalPending}
	if _, err := tx.NewInsert().Model(p).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("propose %s: %w", g.Role, err)
	}
	return p, recordProposal(ctx, tx, actorID, "propose", nil, p)
}

// ConfirmGrant grants the proposed money role. The confirmer is a finance
// user who neither proposed it nor receives it, and the grantee must still be
// free of any role that never sits with it.
func ConfirmGrant(ctx context.Context, tx bun.Tx, actorID, proposalID int64) (*OrgRole, error) {
	p, err := decideProposal(ctx, tx, actorID, proposalID, ProposalConfirmed)
	if err != nil {
		return nil, err
	}
	g := &OrgRole{UserID: p.UserID, Role: p.Role, GrantedBy: actorRef(actorID), GrantedAt: *p.DecidedAt}
	if err := checkApart(ctx, tx, actorID, g); err != nil {
		return nil, err
	}
	if err := insertOrgRole(ctx, tx, actorID, g); err != nil {
		return nil, err
	}
	return g, nil
}

// DeclineGrant closes the proposal without granting; the same people as for
// ConfirmGrant decide.
func DeclineGrant(ctx context.Context, tx bun.Tx, actorID, proposalID int64) (*GrantProposal, error) {
	return decideProposal(ctx, tx, actorID, proposalID, ProposalDeclined)
}

// decideProposal checks who decides and moves a pending proposal to status.
func decideProposal(ctx context.Context, tx bun.Tx, actorID, proposalID int64, status string) (*GrantProposal, error) {
	before, err := GetGrantProposal(ctx, tx, proposalID)
	if err != nil {
		return nil, err
	}
	// The grantee's row lock orders this decision with grants to the same
	// user; the proposal is read again under it.
	if _, err := tx.NewUpdate().Table("users").Set("updated_at = updated_at").Where("id = ?", before.UserID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock user %d: %w", before.UserID, err)
	}
	if before, err = GetGrantProposal(ctx, tx, proposalID); err != nil {
		return nil, err
	}
	if before.Status != ProposalPending {
		return nil, fault.Conflict("proposal_decided", "this proposal is already %s", before.Status)
	}
	attempt := "confirm"
	if status == ProposalDeclined {
		attempt = "decline"
	}
	if err := checkDecider(ctx, tx, actorID, before, attempt); err != nil {
		return nil, err
	}
	after := *before
	now := time.Now().UTC()
	after.Status, after.DecidedBy, after.DecidedAt = status, &actorID, &now
	if _, err := tx.NewUpdate().Model(&after).Column("status", "decided_by", "decided_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("%s proposal %d: %w", attempt, proposalID, err)
	}
	return &after, recordProposal(ctx, tx, actorID, attempt, before, &after)
}

// checkDecider is the second pair of eyes: a finance user other than the
// proposer and the grantee.
func checkDecider(ctx context.Context, tx bun.Tx, actorID int64, p *GrantProposal, attempt string) error {
	var f *fault.Error
	switch {
	case actorID == p.UserID:
		f = forbidden("self_grant", "nobody grants a role to themselves; another finance user must decide")
	case actorID == p.ProposedBy:
		f = forbidden("own_proposal", "whoever proposed a money role cannot also decide it; a finance user must")
	default:
		held, err := OrgRolesOf(ctx, tx, actorID)
		if err != nil {
			return err
		}
		if !slices.Contains(held, "finance") {
			f = forbidden("not_finance", "only a finance user confirms or declines a money-role grant")
		}
	}
	if f == nil {
		return nil
	}
	return refuse(actorID, "grant_proposal", strconv.FormatInt(p.ID, 10), attempt, p, f)
}

// GetGrantProposal returns one proposal or a not-found fault.
func GetGrantProposal(ctx context.Context, idb bun.IDB, id int64) (*GrantProposal, error) {
	p := new(GrantProposal)
	if err := idb.NewSelect().Model(p).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("grant proposal")
		}
		return nil, fmt.Errorf("get grant proposal %d: %w", id, err)
	}
	return p, nil
}

// PendingGrantProposals lists the proposals waiting for a decision, oldest
// first.
func PendingGrantProposals(ctx context.Context, idb bun.IDB) ([]GrantProposal, error) {
	var list []GrantProposal
	if err := idb.NewSelect().Model(&list).Where("status = ?", ProposalPending).OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list pending grant proposals: %w", err)
	}
	return list, nil
}

func recordProposal(ctx context.Context, tx bun.Tx, actorID int64, action string, before, after *GrantProposal) error {
	change := audit.Change{ActorID: actorID, ObjectType: "grant_proposal", ObjectID: strconv.FormatInt(after.ID, 10), Action: action, After: after}
	if before != nil {
		change.Before = before
	}
	return audit.Record(ctx, tx, change)
}
