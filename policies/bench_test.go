package policies_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// Size of the benchmark organisation: a large company's cost-center tree.
const (
	benchUnits = 500
	benchUsers = 10_000
)

// unitGrant is one role a benchmark user holds directly in a unit.
type unitGrant struct {
	userID, unitID int64
	role           string
}

// bigOrg is the benchmark organisation as generated, for picking checks.
type bigOrg struct {
	unitIDs    []int64
	grants     []unitGrant
	financeIDs []int64
}

// newBigOrg fills d with benchUnits units in a tree of depth 4 (10
// departments, 60 teams, 180 groups, 250 sub-groups), benchUsers users with
// 1–3 unit roles each (about 300 managers at every level) and a few dozen
// organisation roles, using bulk inserts.
func newBigOrg(b *testing.B, d *db.DB) *bigOrg {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	org := &bigOrg{}

	levels := []int{10, 60, 180, 250}
	var unitRows []units.Unit
	var byDepth [][]int64
	for depth, n := range levels {
		var level []int64
		for i := range n {
			id := int64(len(unitRows) + 1)
			u := units.Unit{ID: id, Code: fmt.Sprintf("CC-%04d", id), Name: fmt.Sprintf("Unit %d", id),
				BudgetMode: units.BudgetSoft, ChargebackMode: units.ModeChargeback, CreatedAt: now, UpdatedAt: now}
			if depth > 0 {
				parents := byDepth[depth-1]
				parent := parents[i%len(parents)]
				u.ParentID = &parent
			}
			unitRows = append(unitRows, u)
			level = append(level, id)
			org.unitIDs = append(org.unitIDs, id)
		}
		byDepth = append(byDepth, level)
	}
	if len(unitRows) != benchUnits {
		b.Fatalf("generated %d units, want %d", len(unitRows), benchUnits)
	}

	userRows := make([]units.User, benchUsers)
	for i := range userRows {
		email := fmt.Sprintf("user%05d@example.org", i+1)
		userRows[i] = units.User{ID: int64(i + 1), Email: email, EmailKey: email, Name: fmt.Sprintf("User %d", i+1),
			Locale: "en", CreatedAt: now, UpdatedAt: now}
	}

	var roleRows []units.UnitRole
	held := map[unitGrant]bool{}
	add := func(g unitGrant) {
		if held[g] {
			return
		}
		held[g] = true
		org.grants = append(org.grants, g)
		roleRows = append(roleRows, units.UnitRole{UserID: g.userID, UnitID: g.unitID, Role: g.role, GrantedAt: now})
	}
	pick := func(ids []int64) int64 { return ids[rng.IntN(len(ids))] }
	for i := range benchUsers {
		userID := int64(i + 1)
		switch {
		case i < 30: // department heads
			add(unitGrant{userID, pick(byDepth[0]), "manager"})
		case i < 120: // team leads
			add(unitGrant{userID, pick(byDepth[1]), "manager"})
		case i < 300: // group leads
			add(unitGrant{userID, pick(byDepth[2+rng.IntN(2)]), "manager"})
		}
		for range 1 + rng.IntN(3) {
			if i < 300 && rng.IntN(2) == 0 {
				continue // managers mostly hold just their manager role
			}
			role := "member"
			if rng.IntN(5) == 0 {
				role = "agent"
			}
			add(unitGrant{userID, pick(org.unitIDs), role})
		}
	}
	var orgRows []units.OrgRole
	for i := 300; i < 335; i++ {
		role := "admin"
		switch {
		case i < 320:
			role = "finance"
			org.financeIDs = append(org.financeIDs, int64(i+1))
		case i < 330:
			role = "auditor"
		}
		orgRows = append(orgRows, units.OrgRole{UserID: int64(i + 1), Role: role, GrantedAt: now})
	}

	ctx := context.Background()
	err := d.InTx(ctx, func(tx bun.Tx) error {
		if err := insertBatches(ctx, tx, unitRows, 500); err != nil {
			return fmt.Errorf("insert units: %w", err)
		}
		if err := insertBatches(ctx, tx, userRows, 1000); err != nil {
			return fmt.Errorf("insert users: %w", err)
		}
		if err := insertBatches(ctx, tx, roleRows, 2000); err != nil {
			return fmt.Errorf("insert unit roles: %w", err)
		}
		if err := insertBatches(ctx, tx, orgRows, 1000); err != nil {
			return fmt.Errorf("insert org roles: %w", err)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return org
}

func insertBatches[T any](ctx context.Context, tx bun.Tx, rows []T, size int) error {
	for start := 0; start < len(rows); start += size {
		batch := rows[start:min(start+size, len(rows))]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

type check struct {
	userID, unitID int64
	obj, act       string
}

func split(oa string) (string, string) {
	obj, act, _ := strings.Cut(oa, ":")
	return obj, act
}

// BenchmarkCan measures one access check against the full-size organisation:
// random asks a random user about a random unit and action (mostly denied,
// the slowest path: unit and organisation rules both consulted); held asks
// about an action a unit role allows where the role is held; org asks
// finance about an organisation action with unitID 0.
func BenchmarkCan(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	org := newBigOrg(b, d)
	a, err := policies.New(context.Background(), d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 1 << 14
	random, heldChecks, orgChecks := make([]check, n), make([]check, n), make([]check, n)
	for i := range n {
		obj, act := split(everyAction[rng.IntN(len(everyAction))])
		random[i] = check{rng.Int64N(benchUsers) + 1, org.unitIDs[rng.IntN(len(org.unitIDs))], obj, act}
		g := org.grants[rng.IntN(len(org.grants))]
		allowed := mayDo[g.role]
		obj, act = split(allowed[rng.IntN(len(allowed))])
		heldChecks[i] = check{g.userID, g.unitID, obj, act}
		allowed = mayDo["finance"]
		obj, act = split(allowed[rng.IntN(len(allowed))])
		orgChecks[i] = check{org.financeIDs[rng.IntN(len(org.financeIDs))], 0, obj, act}
	}
	for _, c := range heldChecks[:100] {
		if !a.Can(c.userID, c.unitID, c.obj, c.act) {
			b.Fatalf("held check denied: %+v", c)
		}
	}
	for _, c := range orgChecks[:100] {
		if !a.Can(c.userID, c.unitID, c.obj, c.act) {
			b.Fatalf("org check denied: %+v", c)
		}
	}

	serial := func(checks []check) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := checks[i%n]
				a.Can(c.userID, c.unitID, c.obj, c.act)
				i++
			}
		}
	}
	b.Run("random", serial(random))
	b.Run("held", serial(heldChecks))
	b.Run("org", serial(orgChecks))
	b.Run("random-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(n)
			for pb.Next() {
				c := random[i%n]
				a.Can(c.userID, c.unitID, c.obj, c.act)
				i++
			}
		})
	})
}

// BenchmarkLoad measures a full rules reload (what Refresh does after any
// grant or tree change) at the full size, and the per-request Refresh when
// nothing changed.
func BenchmarkLoad(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	newBigOrg(b, d)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := policies.New(ctx, d, log)
			if err != nil {
				b.Fatal(err)
			}
			// User 1 heads a department: its 6 teams and their 18 groups at least.
			if got := len(a.Grants(1)); got < 1+6+18 {
				b.Fatalf("department head has %d grants after load, want the department's subtree", got)
			}
		}
	})
	b.Run("refresh-unchanged", func(b *testing.B) {
		a, err := policies.New(ctx, d, log)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := a.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
