package policies_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// everyAction is every object:action the policy knows. It is written out here
// rather than read from policy.csv so that a rule dropped or added there is
// noticed (TestPolicyMatchesRoleTable) instead of silently followed.
var everyAction = []string{
	"adjustment:approve", "adjustment:create",
	"audit:read", "audit:read_all", "audit:read_unit",
	"budget:manage", "budget:read",
	"calendar:manage",
	"catalog:read",
	"charge:dispute", "charge:read",
	"dispute:resolve",
	"export:read",
	"gl_account:manage", "gl_account:read",
	"grant:manage", "grant_proposal:read",
	"knowledge:write",
	"member:manage", "member:read",
	"period:manage", "period:read",
	"queue:read",
	"report:read",
	"request:approve", "request:assign", "request:cancel", "request:cancel_own",
	"request:comment", "request:comment_internal", "request:create", "request:create_for_other",
	"request:log_time", "request:rate", "request:read_all", "request:read_own",
	"request:read_queue", "request:read_unit", "request:work",
	"mail:ingest", "mail:triage",
	"outbox:manage",
	"service:manage",
	"setting:manage",
	"statement:read",
	"unit:manage",
	"user:manage", "user:read",
	"webhook:manage",
}

// mayDo states, role by role, what the product's roles may do
// in the domain where it is held. Anything not listed is denied.
var mayDo = map[string][]string{
	// browses the catalog, files requests for the unit, follows and comments
	// on own requests, rates them
	"member": {"catalog:read", "request:create", "request:read_own", "request:comment",
		"request:rate", "request:cancel_own"},
	// works the unit's queue: assigns, comments (public/internal), logs time,
	// resolves; files requests on someone's behalf; triages the unit's
	// quarantined e-mail
	"agent": {"catalog:read", "queue:read", "request:read_queue", "request:assign",
		"request:work", "request:comment", "request:comment_internal", "request:log_time",
		"request:create_for_other", "mail:triage", "knowledge:write"},
	// approves the unit's requests, sees all of them, charges and statements,
	// disputes charges, manages the unit's services, rates, members and webhooks
	"manager": {"catalog:read", "request:create", "request:read_unit", "request:approve",
		"request:cancel", "request:assign", "request:comment", "charge:read", "charge:dispute", "statement:read",
		"budget:read", "service:manage", "calendar:manage", "member:read", "member:manage",
		"report:read", "audit:read_unit", "knowledge:write", "webhook:manage"},
	// reviews all charges, resolves disputes, posts adjustments, manages
	// budgets, closes periods, exports, lists the money-role proposals it
	// confirms or declines
	"finance": {"catalog:read", "request:read_all", "charge:read", "statement:read",
		"dispute:resolve", "adjustment:create", "adjustment:approve", "budget:read",
		"budget:manage", "period:read", "period:manage", "export:read", "report:read",
		"audit:read", "grant_proposal:read", "gl_account:read", "gl_account:manage"},
	// reads everything financial and every audit trail; changes nothing
	"auditor": {"catalog:read", "request:read_all", "charge:read", "statement:read",
		"budget:read", "period:read", "export:read", "report:read", "audit:read", "audit:read_all",
		"gl_account:read"},
	// units, users, role grants (and the money-role proposals made), settings,
	// the outbox's failed messages, e-mail in from relays (and the mail that
	// reached no unit), the organisation's webhooks; NOT finance
	"admin": {"catalog:read", "request:read_all", "unit:manage", "user:read", "user:manage",
		"grant:manage", "grant_proposal:read", "member:read", "member:manage", "setting:manage", "outbox:manage",
		"mail:ingest", "webhook:manage"},
}

// financeOnly are the money actions admin must never have (segregation of
// duties), listed on their own so the intent survives edits to mayDo.
var financeOnly = []string{"charge:read", "charge:dispute", "statement:read", "dispute:resolve",
	"adjustment:create", "adjustment:approve", "budget:read", "budget:manage", "period:read",
	"period:manage", "export:read", "audit:read", "audit:read_all", "audit:read_unit", "gl_account:read", "gl_account:manage"}

// tree is the fixture organisation:
//
//	Group
//	├── IT
//	│   ├── Desk
//	│   └── Network
//	└── Marketing
type tree struct {
	group, it, desk, network, marketing int64
}

func (o tree) all() []int64 { return []int64{o.group, o.it, o.desk, o.network, o.marketing} }

func inTx(t *testing.T, d *db.DB, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx bun.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func newTree(t *testing.T, d *db.DB) tree {
	t.Helper()
	var o tree
	inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
		add := func(code string, parent *int64) int64 {
			u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: code, Name: code, ParentID: parent})
			if err != nil {
				t.Fatalf("create unit %s: %v", code, err)
			}
			return u.ID
		}
		o.group = add("GROUP", nil)
		o.it = add("IT", &o.group)
		o.desk = add("IT-DESK", &o.it)
		o.network = add("IT-NET", &o.it)
		o.marketing = add("MARKETING", &o.group)
		return nil
	})
	return o
}

func newUser(t *testing.T, d *db.DB, name string) int64 {
	t.Helper()
	var id int64
	inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
		u, err := units.CreateUser(ctx, tx, 0, units.User{Email: name + "@example.org", Name: name})
		if err != nil {
			return err
		}
		id = u.ID
		return nil
	})
	return id
}

func grantUnit(t *testing.T, d *db.DB, unitID, userID int64, role string) {
	t.Helper()
	inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
		_, err := units.GrantUnitRole(ctx, tx, 0, unitID, userID, role)
		return err
	})
}

func grantOrg(t *testing.T, d *db.DB, userID int64, role string) {
	t.Helper()
	inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
		_, err := units.GrantOrgRole(ctx, tx, 0, userID, role)
		return err
	})
}

func newAuthorizer(t *testing.T, d *db.DB) *policies.Authorizer {
	t.Helper()
	a, err := policies.New(context.Background(), d, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func refresh(t *testing.T, a *policies.Authorizer) {
	t.Helper()
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// expectExactly checks every object:action for userID in unitID: those in
// allowed must be granted, every other one denied.
func expectExactly(t *testing.T, a *policies.Authorizer, userID, unitID int64, allowed []string) {
	t.Helper()
	for _, oa := range everyAction {
		obj, act, _ := strings.Cut(oa, ":")
		want := slices.Contains(allowed, oa)
		if got := a.Can(userID, unitID, obj, act); got != want {
			t.Errorf("Can(user %d, unit %d, %s) = %v, want %v", userID, unitID, oa, got, want)
		}
	}
}

func TestPolicyMatchesRoleTable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAuthorizer(t, d)
		for role, want := range mayDo {
			for _, oa := range want {
				if !slices.Contains(everyAction, oa) {
					t.Errorf("mayDo[%s] has %s, which everyAction lacks", role, oa)
				}
			}
			want = slices.Sorted(slices.Values(want))
			if got := a.Permissions(role); !slices.Equal(got, want) {
				t.Errorf("Permissions(%s)\n got %v\nwant %v", role, got, want)
			}
		}
		if got := a.Permissions("nobody"); len(got) != 0 {
			t.Errorf("Permissions(nobody) = %v, want none", got)
		}
	})
}

func TestRoleMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := newTree(t, d)
		const missingUnit = 987654
		users := map[string]int64{}
		for _, role := range []string{"member", "agent", "manager"} {
			users[role] = newUser(t, d, role)
			grantUnit(t, d, o.it, users[role], role)
		}
		for _, role := range []string{"finance", "auditor", "admin"} {
			users[role] = newUser(t, d, role)
			grantOrg(t, d, users[role], role)
		}
		users["nobody"] = newUser(t, d, "nobody")
		a := newAuthorizer(t, d)

		cases := []struct {
			name    string
			role    string
			unitID  int64
			allowed []string
		}{
			{"member in own unit", "member", o.it, mayDo["member"]},
			{"member not in child", "member", o.desk, nil},
			{"member not in parent", "member", o.group, nil},
			{"member not in sibling", "member", o.marketing, nil},
			{"member not org-wide", "member", 0, nil},
			{"agent in own unit", "agent", o.it, mayDo["agent"]},
			{"agent not in child", "agent", o.network, nil},
			{"agent not in parent", "agent", o.group, nil},
			{"agent not in sibling", "agent", o.marketing, nil},
			{"agent not org-wide", "agent", 0, nil},
			{"manager in own unit", "manager", o.it, mayDo["manager"]},
			{"manager in child", "manager", o.desk, mayDo["manager"]},
			{"manager in other child", "manager", o.network, mayDo["manager"]},
			{"manager not in parent", "manager", o.group, nil},
			{"manager not in sibling", "manager", o.marketing, nil},
			{"manager not org-wide", "manager", 0, nil},
			{"nobody in any unit", "nobody", o.it, nil},
			{"nobody org-wide", "nobody", 0, nil},
		}
		for _, role := range []string{"finance", "auditor", "admin"} {
			for _, unitID := range append(o.all(), 0, missingUnit) {
				cases = append(cases, struct {
					name    string
					role    string
					unitID  int64
					allowed []string
				}{fmt.Sprintf("%s in unit %d", role, unitID), role, unitID, mayDo[role]})
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				expectExactly(t, a, users[c.role], c.unitID, c.allowed)
			})
		}
	})
}

func TestAdminHasNoMoney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := newTree(t, d)
		admin := newUser(t, d, "admin")
		grantOrg(t, d, admin, "admin")
		// Even an admin who also manages a unit gets money rights only there,
		// through the manager role, never organisation-wide.
		grantUnit(t, d, o.marketing, admin, "manager")
		a := newAuthorizer(t, d)
		for _, oa := range financeOnly {
			obj, act, _ := strings.Cut(oa, ":")
			for _, unitID := range []int64{0, o.group, o.it, o.desk} {
				if a.Can(admin, unitID, obj, act) {
					t.Errorf("admin may %s in unit %d", oa, unitID)
				}
			}
			ids, orgWide := a.UnitsWhere(admin, obj, act)
			if orgWide {
				t.Errorf("admin may %s organisation-wide", oa)
			}
			for _, id := range ids {
				if id != o.marketing {
					t.Errorf("UnitsWhere(admin, %s) includes unit %d", oa, id)
				}
			}
		}
		if !a.Can(admin, o.marketing, "charge", "read") {
			t.Error("admin who manages Marketing cannot read its charges")
		}
		if !a.Can(admin, 0, "unit", "manage") {
			t.Error("admin cannot manage units")
		}
	})
}

func TestManagerInheritsDownTheTreeOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := newTree(t, d)
		top := newUser(t, d, "top-manager")
		grantUnit(t, d, o.group, top, "manager")
		topMember := newUser(t, d, "top-member")
		grantUnit(t, d, o.group, topMember, "member")
		topAgent := newUser(t, d, "top-agent")
		grantUnit(t, d, o.group, topAgent, "agent")
		desk := newUser(t, d, "desk-manager")
		grantUnit(t, d, o.desk, desk, "manager")
		a := newAuthorizer(t, d)

		for _, unitID := range o.all() {
			expectExactly(t, a, top, unitID, mayDo["manager"])
		}
		expectExactly(t, a, topMember, o.group, mayDo["member"])
		expectExactly(t, a, topAgent, o.group, mayDo["agent"])
		for _, unitID := range []int64{o.it, o.desk, o.marketing} {
			expectExactly(t, a, topMember, unitID, nil)
			expectExactly(t, a, topAgent, unitID, nil)
		}
		expectExactly(t, a, desk, o.desk, mayDo["manager"])
		for _, unitID := range []int64{o.it, o.group, o.network, o.marketing, 0} {
			expectExactly(t, a, desk, unitID, nil)
		}

		wantGrants := []policies.Grant{}
		for _, unitID := range slices.Sorted(slices.Values(o.all())) {
			wantGrants = append(wantGrants, policies.Grant{Role: "manager", UnitID: unitID})
		}
		if got := a.Grants(top); !slices.Equal(got, wantGrants) {
			t.Errorf("Grants(top manager) = %v, want %v", got, wantGrants)
		}
		if got := a.Grants(topMember); !slices.Equal(got, []policies.Grant{{Role: "member", UnitID: o.group}}) {
			t.Errorf("Grants(top member) = %v, want member in Group only", got)
		}
	})
}

// Subjects are matched exactly: user 1 is not user 10, unit 1 is not unit 10,
// and no user id reaches a role's or the organisation's rules.
func TestSubjectsAreNeverConfused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var userIDs, unitIDs []int64
		for i := range 12 {
			userIDs = append(userIDs, newUser(t, d, fmt.Sprintf("user%d", i)))
			inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
				u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: fmt.Sprintf("U%d", i), Name: "unit"})
				if err != nil {
					return err
				}
				unitIDs = append(unitIDs, u.ID)
				return nil
			})
		}
		manager, managed := userIDs[0], unitIDs[0]
		grantUnit(t, d, managed, manager, "manager")
		finance := userIDs[1]
		grantOrg(t, d, finance, "finance")
		a := newAuthorizer(t, d)

		prefixedUsers, prefixedUnits := 0, 0
		for _, id := range userIDs {
			if id != manager && strings.HasPrefix(strconv.FormatInt(id, 10), strconv.FormatInt(manager, 10)) {
				prefixedUsers++
				expectExactly(t, a, id, managed, nil)
			}
			if id != finance && strings.HasPrefix(strconv.FormatInt(id, 10), strconv.FormatInt(finance, 10)) {
				expectExactly(t, a, id, 0, nil)
			}
		}
		for _, id := range unitIDs {
			if id != managed && strings.HasPrefix(strconv.FormatInt(id, 10), strconv.FormatInt(managed, 10)) {
				prefixedUnits++
				expectExactly(t, a, manager, id, nil)
			}
		}
		if prefixedUsers == 0 || prefixedUnits == 0 {
			t.Fatalf("fixture has no ids sharing a prefix with user %d / unit %d", manager, managed)
		}
		// Ids that are no user at all, including 0, are denied everywhere.
		for _, id := range []int64{0, -1, 1 << 40} {
			expectExactly(t, a, id, managed, nil)
			expectExactly(t, a, id, 0, nil)
			if g := a.Grants(id); len(g) != 0 {
				t.Errorf("Grants(%d) = %v, want none", id, g)
			}
		}
		expectExactly(t, a, manager, managed, mayDo["manager"])
		expectExactly(t, a, finance, managed, mayDo["finance"])
	})
}

func TestUnitsWhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := newTree(t, d)
		itManager := newUser(t, d, "it-manager")
		grantUnit(t, d, o.it, itManager, "manager")
		grantUnit(t, d, o.marketing, itManager, "member")
		mixed := newUser(t, d, "mixed")
		grantUnit(t, d, o.desk, mixed, "member")
		grantUnit(t, d, o.network, mixed, "agent")
		grantUnit(t, d, o.marketing, mixed, "member")
		finance := newUser(t, d, "finance")
		grantOrg(t, d, finance, "finance")
		grantUnit(t, d, o.desk, finance, "member")
		auditor := newUser(t, d, "auditor")
		grantOrg(t, d, auditor, "auditor")
		nobody := newUser(t, d, "nobody")
		a := newAuthorizer(t, d)

		sorted := func(ids ...int64) []int64 { return slices.Sorted(slices.Values(ids)) }
		cases := []struct {
			name        string
			userID      int64
			objAct      string
			wantUnits   []int64
			wantOrgWide bool
		}{
			{"manager with inheritance", itManager, "charge:read", sorted(o.it, o.desk, o.network), false},
			{"manager and member", itManager, "catalog:read", sorted(o.it, o.desk, o.network, o.marketing), false},
			{"member role only where held", itManager, "request:rate", []int64{o.marketing}, false},
			{"member in two units", mixed, "request:read_own", sorted(o.desk, o.marketing), false},
			{"agent in one unit", mixed, "queue:read", []int64{o.network}, false},
			{"no role allows", mixed, "charge:read", nil, false},
			{"finance org-wide", finance, "charge:read", nil, true},
			{"finance member action in unit", finance, "request:read_own", []int64{o.desk}, false},
			{"auditor org-wide", auditor, "audit:read", nil, true},
			{"auditor cannot manage", auditor, "period:manage", nil, false},
			{"nobody", nobody, "catalog:read", nil, false},
		}
		for _, c := range cases {
			obj, act, _ := strings.Cut(c.objAct, ":")
			got, orgWide := a.UnitsWhere(c.userID, obj, act)
			if orgWide != c.wantOrgWide || !slices.Equal(sorted(got...), c.wantUnits) {
				t.Errorf("%s: UnitsWhere(%s) = %v, %v; want %v, %v", c.name, c.objAct, got, orgWide, c.wantUnits, c.wantOrgWide)
			}
		}
	})
}

func TestRefreshAppliesChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := newTree(t, d)
		member := newUser(t, d, "member")
		grantUnit(t, d, o.it, member, "member")
		itManager := newUser(t, d, "it-manager")
		grantUnit(t, d, o.it, itManager, "manager")
		marketingManager := newUser(t, d, "marketing-manager")
		grantUnit(t, d, o.marketing, marketingManager, "manager")
		finance := newUser(t, d, "finance")
		grantOrg(t, d, finance, "finance")
		a := newAuthorizer(t, d)

		t.Run("grant", func(t *testing.T) {
			agent := newUser(t, d, "agent")
			expectExactly(t, a, agent, o.it, nil)
			grantUnit(t, d, o.it, agent, "agent")
			refresh(t, a)
			expectExactly(t, a, agent, o.it, mayDo["agent"])
		})

		t.Run("revoke", func(t *testing.T) {
			expectExactly(t, a, member, o.it, mayDo["member"])
			inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
				return units.RevokeUnitRole(ctx, tx, 0, o.it, member, "member")
			})
			refresh(t, a)
			expectExactly(t, a, member, o.it, nil)
			if g := a.Grants(member); len(g) != 0 {
				t.Errorf("Grants after revoke = %v, want none", g)
			}
		})

		t.Run("move unit", func(t *testing.T) {
			expectExactly(t, a, marketingManager, o.desk, nil)
			expectExactly(t, a, itManager, o.desk, mayDo["manager"])
			inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
				_, err := units.UpdateUnit(ctx, d, tx, 0, o.desk, units.UnitChange{SetParent: true, ParentID: &o.marketing})
				return err
			})
			refresh(t, a)
			expectExactly(t, a, marketingManager, o.desk, mayDo["manager"])
			expectExactly(t, a, itManager, o.desk, nil)
			expectExactly(t, a, itManager, o.network, mayDo["manager"])
			got, _ := a.UnitsWhere(marketingManager, "request", "approve")
			if want := slices.Sorted(slices.Values([]int64{o.marketing, o.desk})); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Errorf("UnitsWhere(marketing manager) after move = %v, want %v", got, want)
			}
		})

		t.Run("disable user", func(t *testing.T) {
			disabled := true
			for _, id := range []int64{itManager, finance} {
				inTx(t, d, func(ctx context.Context, tx bun.Tx) error {
					_, err := units.UpdateUser(ctx, tx, 0, id, units.UserChange{Disabled: &disabled})
					return err
				})
			}
			refresh(t, a)
			for _, unitID := range append(o.all(), 0) {
				expectExactly(t, a, itManager, unitID, nil)
				expectExactly(t, a, finance, unitID, nil)
			}
			if g := a.Grants(itManager); len(g) != 0 {
				t.Errorf("Grants(disabled manager) = %v, want none", g)
			}
			if ids, orgWide := a.UnitsWhere(finance, "charge", "read"); orgWide || len(ids) != 0 {
				t.Errorf("UnitsWhere(disabled finance) = %v, %v; want nothing", ids, orgWide)
			}
			// Others keep their rights.
			expectExactly(t, a, marketingManager, o.marketing, mayDo["manager"])
		})

		// An unchanged database leaves the rules as they are.
		if err := a.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		expectExactly(t, a, marketingManager, o.desk, mayDo["manager"])
	})
}

// Two server processes share one database; each sees the other's changes
// after its own Refresh.
func TestSecondProcessSeesChangesAfterRefresh(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t, engine)
			d1 := dbtest.OpenURL(t, url)
			d2 := dbtest.OpenURL(t, url)
			o := newTree(t, d1)
			user := newUser(t, d1, "user")
			a1 := newAuthorizer(t, d1)
			a2 := newAuthorizer(t, d2)

			grantUnit(t, d1, o.it, user, "manager")
			refresh(t, a1)
			expectExactly(t, a1, user, o.desk, mayDo["manager"])
			refresh(t, a2)
			expectExactly(t, a2, user, o.desk, mayDo["manager"])

			inTx(t, d2, func(ctx context.Context, tx bun.Tx) error {
				return units.RevokeUnitRole(ctx, tx, 0, o.it, user, "manager")
			})
			grantOrg(t, d2, user, "auditor")
			refresh(t, a2)
			refresh(t, a1)
			for _, a := range []*policies.Authorizer{a1, a2} {
				expectExactly(t, a, user, 0, mayDo["auditor"])
				expectExactly(t, a, user, o.desk, mayDo["auditor"])
			}
		})
	}
}

// Checks run while the rules are swapped; the race detector watches.
func TestCanDuringRefresh(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := newTree(t, d)
		manager := newUser(t, d, "manager")
		grantUnit(t, d, o.group, manager, "manager")
		a := newAuthorizer(t, d)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var denied sync.Map
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if !a.Can(manager, o.desk, "request", "approve") {
						denied.Store("manager", true)
					}
					a.UnitsWhere(manager, "charge", "read")
					a.Grants(manager)
				}
			})
		}
		var users []int64
		for i := range 5 {
			u := newUser(t, d, fmt.Sprintf("member%d", i))
			grantUnit(t, d, o.it, u, "member")
			refresh(t, a)
			users = append(users, u)
		}
		close(stop)
		wg.Wait()
		if _, ok := denied.Load("manager"); ok {
			t.Error("the manager was denied while unrelated grants were reloaded")
		}
		for _, u := range users {
			expectExactly(t, a, u, o.it, mayDo["member"])
		}
	})
}
