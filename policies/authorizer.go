// Package policies is Tiski's only door to casbin: it decides whether a user
// may take an action on an object in a unit or in the organisation.
package policies

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/uptrace/bun"
)

//go:embed model.conf
var modelConf string

//go:embed policy.csv
var policyCSV string

// Grant is a role a user holds, effective after tree expansion. UnitID is 0
// for an organisation role.
type Grant struct {
	Role   string
	UnitID int64
}

// Authorizer answers access questions from an immutable rule set that it
// swaps for a fresh one whenever the database's policy version moves.
type Authorizer struct {
	idb     bun.IDB
	log     *slog.Logger
	current atomic.Pointer[rules]
	reload  sync.Mutex
}

type rules struct {
	version  int64
	enforcer *casbin.SyncedEnforcer
	byUser   map[int64][]Grant
}

// New loads the rules from the database.
func New(ctx context.Context, idb bun.IDB, log *slog.Logger) (*Authorizer, error) {
	a := &Authorizer{idb: idb, log: log}
	if err := a.load(); err != nil {
		return nil, err
	}
	return a, nil
}

// Refresh reloads the rules if grants or the unit tree changed since they
// were loaded, in this process or any other sharing the database. The web
// layer calls it before each authenticated request.
func (a *Authorizer) Refresh(ctx context.Context) error {
	var version int64
	if err := a.idb.NewSelect().Table("policy_state").Column("version").Where("id = 1").Scan(ctx, &version); err != nil {
		return fmt.Errorf("read policy version: %w", err)
	}
	if version == a.current.Load().version {
		return nil
	}
	a.reload.Lock()
	defer a.reload.Unlock()
	if version <= a.current.Load().version {
		return nil // another request reloaded meanwhile
	}
	return a.load()
}

func (a *Authorizer) load() error {
	m, err := model.NewModelFromString(modelConf)
	if err != nil {
		return fmt.Errorf("policies: model.conf: %w", err)
	}
	ad := &adapter{idb: a.idb}
	e, err := casbin.NewSyncedEnforcer(m, ad)
	if err != nil {
		return fmt.Errorf("policies: load rules: %w", err)
	}
	byUser := make(map[int64][]Grant)
	for _, g := range ad.data.grants {
		byUser[g.UserID] = append(byUser[g.UserID], Grant{Role: g.Role, UnitID: g.UnitID})
	}
	for _, gs := range byUser {
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].UnitID != gs[j].UnitID {
				return gs[i].UnitID < gs[j].UnitID
			}
			return gs[i].Role < gs[j].Role
		})
	}
	a.current.Store(&rules{version: ad.data.version, enforcer: e, byUser: byUser})
	return nil
}

// Can reports whether the user may act on obj in the unit, through a role
// held in that unit (or inherited from above it) or organisation-wide.
// unitID 0 asks about organisation roles only. Any error denies.
func (a *Authorizer) Can(userID, unitID int64, obj, act string) bool {
	r := a.current.Load()
	if unitID != 0 && a.enforce(r, userID, domainOf(unitID), obj, act) {
		return true
	}
	return a.enforce(r, userID, orgDomain, obj, act)
}

// enforce answers what the enforcer's Enforce would answer under
// model.conf's matcher (g(sub, role, dom) && role may obj:act), by asking
// casbin for the user's roles in the domain and then for each role's policy
// directly; running the matcher over every rule costs ten times more.
// matcher_test.go checks that both agree.
func (a *Authorizer) enforce(r *rules, userID int64, domain, obj, act string) bool {
	for _, role := range r.enforcer.GetRolesForUserInDomain(userSubject(userID), domain) {
		ok, err := r.enforcer.HasPolicy(role, obj, act)
		if err != nil {
			a.log.Error("access check failed; denying", "user_id", userID, "domain", domain, "object", obj, "action", act, "err", err)
			return false
		}
		if ok {
			return true
		}
	}
	return false
}

// UnitsWhere lists the units in which the user may act on obj through a
// unit role (inherited ones included); orgWide is true when an organisation
// role allows it everywhere. Stores use it to filter lists in SQL.
func (a *Authorizer) UnitsWhere(userID int64, obj, act string) (unitIDs []int64, orgWide bool) {
	r := a.current.Load()
	if a.enforce(r, userID, orgDomain, obj, act) {
		return nil, true
	}
	seen := map[int64]bool{}
	for _, g := range r.byUser[userID] {
		if g.UnitID == 0 || seen[g.UnitID] {
			continue
		}
		seen[g.UnitID] = true
		if a.enforce(r, userID, domainOf(g.UnitID), obj, act) {
			unitIDs = append(unitIDs, g.UnitID)
		}
	}
	return unitIDs, false
}

// Grants lists the roles the user holds, after tree expansion.
func (a *Authorizer) Grants(userID int64) []Grant {
	return append([]Grant(nil), a.current.Load().byUser[userID]...)
}

// Permissions lists the object:action pairs the policy gives a role, for
// summaries such as GET /me.
func (a *Authorizer) Permissions(role string) []string {
	rows, err := a.current.Load().enforcer.GetFilteredPolicy(0, roleSubject(role))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(rows))
	for _, row := range rows {
		out = append(out, row[1]+":"+row[2])
	}
	sort.Strings(out)
	return out
}
