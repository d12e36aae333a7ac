package sso

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
	"github.com/tiski/tiski/units"
)

// identity is the person the provider vouched for.
type identity struct {
	Issuer, Subject, Email, Name string
	EmailVerified                bool
	Groups                       []string
}

// link is a provider identity linked to a Tiski user.
type link struct {
	bun.BaseModel `bun:"table:sso_identities"`

	Issuer   string    `bun:"issuer,pk"`
	Subject  string    `bun:"subject,pk"`
	UserID   int64     `bun:"user_id"`
	LinkedAt time.Time `bun:"linked_at"`
}

// account finds the user of id: the one linked to its subject; else the
// one with its e-mail, if the provider verified it (and the user is linked
// to no other subject of this issuer), who is linked now; else, when JIT
// is on, a new user with that e-mail. A non-empty reason refuses.
func (p *Provider) account(ctx context.Context, tx bun.Tx, id identity) (*units.User, string, error) {
	l := new(link)
	err := tx.NewSelect().Model(l).Where("issuer = ? AND subject = ?", id.Issuer, id.Subject).Scan(ctx)
	switch {
	case err == nil:
		u, err := units.GetUser(ctx, tx, l.UserID)
		if err != nil {
			return nil, "", err
		}
		if u.Disabled {
			return u, ReasonDisabled, nil
		}
		return u, "", nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, "", fmt.Errorf("find the linked user: %w", err)
	}
	if id.Email == "" || !id.EmailVerified {
		return nil, ReasonNoAccount, nil
	}
	u, err := units.GetUserByEmail(ctx, tx, id.Email)
	switch {
	case fault.Is(err, fault.KindNotFound):
		if !p.settings.JIT {
			return nil, ReasonNoAccount, nil
		}
		name := id.Name
		if name == "" {
			name = id.Email
		}
		if u, err = units.CreateUser(ctx, tx, 0, units.User{Email: id.Email, Name: name}); err != nil {
			return nil, "", err
		}
	case err != nil:
		return nil, "", err
	case u.Disabled:
		return u, ReasonDisabled, nil
	default:
		linked, err := tx.NewSelect().Model((*link)(nil)).Where("issuer = ? AND user_id = ?", id.Issuer, u.ID).Exists(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("look for the user's link: %w", err)
		}
		if linked {
			return u, ReasonLinked, nil
		}
	}
	nl := &link{Issuer: id.Issuer, Subject: id.Subject, UserID: u.ID, LinkedAt: time.Now().UTC()}
	if _, err := tx.NewInsert().Model(nl).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("link the user: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
		Action: "sso_link", After: nl}); err != nil {
		return nil, "", err
	}
	return u, "", nil
}

// roleClaim is what the trail keeps of an organisation role a group claims
// and the sign-in did not grant.
type roleClaim struct {
	Role   string `json:"role"`
	Group  string `json:"group"`
	Issuer string `json:"issuer"`
}

// mapGroups gives u the unit roles its groups map to (added, never taken
// away: a role granted in Tiski stays until revoked there). An
// organisation role (finance, auditor, admin) is never granted by a claim:
// the trail records the claim ("sso_role_claim"), and the role is granted
// the usual way, by an admin's proposal and, for a money role, a finance
// user's confirmation.
func (p *Provider) mapGroups(ctx context.Context, tx bun.Tx, u *units.User, groups []string) error {
	if len(p.settings.Groups) == 0 || len(groups) == 0 {
		return nil
	}
	heldUnit, err := units.UnitRolesOf(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	heldOrg, err := units.OrgRolesOf(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	for _, r := range p.settings.Groups {
		if !slices.Contains(groups, r.Group) {
			continue
		}
		if r.Unit == "" {
			if slices.Contains(heldOrg, r.Role) {
				continue
			}
			if err := audit.Record(ctx, tx, audit.Change{ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
				Action: "sso_role_claim", After: roleClaim{Role: r.Role, Group: r.Group, Issuer: p.settings.Issuer}}); err != nil {
				return err
			}
			continue
		}
		unit, err := units.GetUnitByCode(ctx, tx, r.Unit)
		if fault.Is(err, fault.KindNotFound) {
			continue // a mapping to a unit that is gone grants nothing
		}
		if err != nil {
			return err
		}
		if unit.Archived || slices.ContainsFunc(heldUnit, func(g units.UnitRole) bool { return g.UnitID == unit.ID && g.Role == r.Role }) {
			continue
		}
		if _, err := units.GrantUnitRole(ctx, tx, 0, unit.ID, u.ID, r.Role); err != nil {
			return err
		}
		heldUnit = append(heldUnit, units.UnitRole{UnitID: unit.ID, Role: r.Role})
	}
	return nil
}
