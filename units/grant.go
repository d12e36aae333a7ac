package units

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// Roles a user holds in one unit, roles a user holds organisation-wide, and
// the organisation roles over money, which two people grant.
var (
	UnitRoles  = []string{"member", "agent", "manager"}
	OrgRoles   = []string{"finance", "auditor", "admin"}
	MoneyRoles = []string{"finance", "auditor"}
)

// UnitRole is a role held by a user in one unit.
type UnitRole struct {
	bun.BaseModel `bun:"table:unit_roles"`

	UserID    int64     `bun:"user_id,pk"`
	UnitID    int64     `bun:"unit_id,pk"`
	Role      string    `bun:"role,pk"`
	GrantedBy *int64    `bun:"granted_by"`
	GrantedAt time.Time `bun:"granted_at"`
}

// OrgRole is an organisation-wide role held by a user.
type OrgRole struct {
	bun.BaseModel `bun:"table:org_roles"`

	UserID    int64     `bun:"user_id,pk"`
	Role      string    `bun:"role,pk"`
	GrantedBy *int64    `bun:"granted_by"`
	GrantedAt time.Time `bun:"granted_at"`
}

// GrantUnitRole gives userID the role in unitID.
func GrantUnitRole(ctx context.Context, tx bun.Tx, actorID, unitID, userID int64, role string) (*UnitRole, error) {
	if !slices.Contains(UnitRoles, role) {
		return nil, fault.Invalid("role", "role must be one of member, agent, manager")
	}
	unit, err := GetUnit(ctx, tx, unitID)
	if err != nil {
		return nil, err
	}
	if unit.Archived {
		return nil, fault.Conflict("unit_archived", "unit %s is archived", unit.Code)
	}
	if _, err := GetUser(ctx, tx, userID); err != nil {
		return nil, invalidUser(err)
	}
	g := &UnitRole{UserID: userID, UnitID: unitID, Role: role, GrantedBy: actorRef(actorID), GrantedAt: time.Now().UTC()}
	if err := refuseSelfGrant(actorID, userID, g); err != nil {
		return nil, err
	}
	// ON CONFLICT keeps the transaction usable (PostgreSQL aborts it on a
	// failed insert), so a caller may treat "already granted" as fine.
	res, err := tx.NewInsert().Model(g).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("grant %s in unit %d: %w", role, unitID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fault.Conflict("already_granted", "the user already holds %s in %s", role, unit.Code)
	}
	return g, recordGrant(ctx, tx, actorID, "grant", g)
}

// RevokeUnitRole takes the role in unitID away from userID.
func RevokeUnitRole(ctx context.Context, tx bun.Tx, actorID, unitID, userID int64, role string) error {
	g := &UnitRole{UserID: userID, UnitID: unitID, Role: role}
	res, err := tx.NewDelete().Model(g).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke %s in unit %d: %w", role, unitID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("grant")
	}
	return recordGrant(ctx, tx, actorID, "revoke", g)
}

// Member is a user with a role in a unit, for listings.
type Member struct {
	UserID int64  `bun:"user_id"`
	Email  string `bun:"email"`
	Name   string `bun:"name"`
	Role   string `bun:"role"`
}

// ListMembers returns the role grants held in unitID, by name.
func ListMembers(ctx context.Context, idb bun.IDB, unitID int64) ([]Member, error) {
	var members []Member
	err := idb.NewSelect().TableExpr("unit_roles AS g").
		Join("JOIN users AS u ON u.id = g.user_id").
		ColumnExpr("g.user_id, u.email, u.name, g.role").
		Where("g.unit_id = ?", unitID).
		OrderExpr("u.name, u.id, g.role").Scan(ctx, &members)
	if err != nil {
		return nil, fmt.Errorf("list members of unit %d: %w", unitID, err)
	}
	return members, nil
}

// OrgGrant is what GrantOrgRole did: granted the role at once, or, for a
// money role asked for by a person, opened a proposal that waits for a
// finance user's confirmation.
type OrgGrant struct {
	Role     *OrgRole       // the grant, when the role was granted
	Proposal *GrantProposal // the proposal, when the grant waits for a second person
}

// GrantOrgRole gives userID an organisation-wide role. actorID 0 is the
// operator on the server (`tiski grant`, the demo), who counts as the second
// person and grants any role at once. A person grants admin at once, but a
// money role (finance, auditor) only proposes; ConfirmGrant grants it. Nobody
// grants a role to themselves, and admin never sits with a money role on one
// user.
func GrantOrgRole(ctx context.Context, tx bun.Tx, actorID, userID int64, role string) (*OrgGrant, error) {
	if !slices.Contains(OrgRoles, role) {
		return nil, fault.Invalid("role", "role must be one of finance, auditor, admin")
	}
	if _, err := GetUser(ctx, tx, userID); err != nil {
		return nil, invalidUser(err)
	}
	g := &OrgRole{UserID: userID, Role: role, GrantedBy: actorRef(actorID), GrantedAt: time.Now().UTC()}
	if err := refuseSelfGrant(actorID, userID, g); err != nil {
		return nil, err
	}
	if err := checkApart(ctx, tx, actorID, g); err != nil {
		return nil, err
	}
	if actorID != 0 && slices.Contains(MoneyRoles, role) {
		p, err := proposeGrant(ctx, tx, actorID, g)
		if err != nil {
			return nil, err
		}
		return &OrgGrant{Proposal: p}, nil
	}
	if err := insertOrgRole(ctx, tx, actorID, g); err != nil {
		return nil, err
	}
	return &OrgGrant{Role: g}, nil
}

// apart lists, for each organisation role, the roles never held with it on
// one user: whoever runs the system neither moves nor audits money.
var apart = map[string][]string{"admin": {"finance", "auditor"}, "finance": {"admin"}, "auditor": {"admin"}}

// checkApart locks the grantee's row (a no-op write, so two concurrent grants
// cannot both pass on PostgreSQL) and refuses a role that must not sit with
// one the user holds.
func checkApart(ctx context.Context, tx bun.Tx, actorID int64, g *OrgRole) error {
	if _, err := tx.NewUpdate().Table("users").Set("updated_at = updated_at").Where("id = ?", g.UserID).Exec(ctx); err != nil {
		return fmt.Errorf("lock user %d: %w", g.UserID, err)
	}
	held, err := OrgRolesOf(ctx, tx, g.UserID)
	if err != nil {
		return err
	}
	for _, other := range apart[g.Role] {
		if slices.Contains(held, other) {
			return refuse(actorID, "grant", grantObjectID(g), "grant", g,
				fault.Conflict("segregation_of_duties", "%s and %s cannot be held by the same user", g.Role, other).With("reason", "segregation_of_duties"))
		}
	}
	return nil
}

// refuseSelfGrant keeps anyone from granting a role to themselves; the
// operator (actor 0) is nobody's self.
func refuseSelfGrant(actorID, userID int64, g any) error {
	if actorID == 0 || actorID != userID {
		return nil
	}
	return refuse(actorID, "grant", grantObjectID(g), "grant", g,
		forbidden("self_grant", "nobody grants a role to themselves; another person must grant it"))
}

// insertOrgRole stores the grant and records it.
func insertOrgRole(ctx context.Context, tx bun.Tx, actorID int64, g *OrgRole) error {
	res, err := tx.NewInsert().Model(g).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("grant %s: %w", g.Role, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Conflict("already_granted", "the user already holds %s", g.Role)
	}
	return recordGrant(ctx, tx, actorID, "grant", g)
}

// RevokeOrgRole takes an organisation-wide role away. The last enabled admin
// keeps the role, so the organisation is never locked out.
func RevokeOrgRole(ctx context.Context, tx bun.Tx, actorID, userID int64, role string) error {
	if role == "admin" {
		var admins int
		err := tx.NewSelect().TableExpr("org_roles AS g").Join("JOIN users AS u ON u.id = g.user_id").
			ColumnExpr("COUNT(*)").Where("g.role = 'admin' AND u.disabled = ? AND g.user_id <> ?", false, userID).
			Scan(ctx, &admins)
		if err != nil {
			return fmt.Errorf("count admins: %w", err)
		}
		if admins == 0 {
			return fault.Conflict("last_admin", "this is the last enabled admin; grant admin to someone else first")
		}
	}
	g := &OrgRole{UserID: userID, Role: role}
	res, err := tx.NewDelete().Model(g).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke %s: %w", role, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("grant")
	}
	return recordGrant(ctx, tx, actorID, "revoke", g)
}

// OrgRolesOf lists the organisation-wide roles a user holds.
func OrgRolesOf(ctx context.Context, idb bun.IDB, userID int64) ([]string, error) {
	var roles []string
	if err := idb.NewSelect().Table("org_roles").Column("role").Where("user_id = ?", userID).
		OrderExpr("role").Scan(ctx, &roles); err != nil {
		return nil, fmt.Errorf("org roles of user %d: %w", userID, err)
	}
	return roles, nil
}

// UnitRolesOf lists the unit roles a user holds directly.
func UnitRolesOf(ctx context.Context, idb bun.IDB, userID int64) ([]UnitRole, error) {
	var roles []UnitRole
	if err := idb.NewSelect().Model(&roles).Where("user_id = ?", userID).
		OrderExpr("unit_id, role").Scan(ctx); err != nil {
		return nil, fmt.Errorf("unit roles of user %d: %w", userID, err)
	}
	return roles, nil
}

func grantObjectID(g any) string {
	switch g := g.(type) {
	case *UnitRole:
		return fmt.Sprintf("%d/%d/%s", g.UnitID, g.UserID, g.Role)
	case *OrgRole:
		return fmt.Sprintf("org/%d/%s", g.UserID, g.Role)
	}
	return ""
}

func recordGrant(ctx context.Context, tx bun.Tx, actorID int64, action string, g any) error {
	change := audit.Change{ActorID: actorID, ObjectType: "grant", ObjectID: grantObjectID(g), Action: action}
	if action == "grant" {
		change.After = g
	} else {
		change.Before = g
	}
	if err := audit.Record(ctx, tx, change); err != nil {
		return err
	}
	return bumpPolicyVersion(ctx, tx)
}

// bumpPolicyVersion tells every server process that role assignments or the
// unit tree changed; each reloads its access rules on its next request.
func bumpPolicyVersion(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, "UPDATE policy_state SET version = version + 1 WHERE id = 1"); err != nil {
		return fmt.Errorf("bump policy version: %w", err)
	}
	return nil
}

func actorRef(actorID int64) *int64 {
	if actorID == 0 {
		return nil
	}
	return &actorID
}

func invalidUser(err error) error {
	if fault.Is(err, fault.KindNotFound) {
		return fault.Invalid("user_id", "user does not exist")
	}
	return err
}
