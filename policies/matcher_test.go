package policies

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/units"
)

// TestFastPathAgreesWithMatcher checks, for every user, domain, object and
// action of a small organisation, that the role lookup used by Can gives the
// same answer as casbin's Enforce with model.conf's matcher.
func TestFastPathAgreesWithMatcher(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	var unitIDs, userIDs []int64
	err := d.InTx(ctx, func(tx bun.Tx) error {
		var parent *int64
		for _, code := range []string{"A", "B", "C"} {
			u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: code, Name: code, ParentID: parent})
			if err != nil {
				return err
			}
			unitIDs = append(unitIDs, u.ID)
			parent = &u.ID
		}
		grants := []struct {
			unit int
			role string
		}{{0, "manager"}, {1, "member"}, {1, "agent"}, {2, "manager"}, {-1, "finance"}, {-1, "auditor"}, {-1, "admin"}}
		for i, g := range grants {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "u" + string(rune('a'+i)) + "@example.org", Name: "U"})
			if err != nil {
				return err
			}
			userIDs = append(userIDs, u.ID)
			if g.unit < 0 {
				_, err = units.GrantOrgRole(ctx, tx, 0, u.ID, g.role)
			} else {
				_, err = units.GrantUnitRole(ctx, tx, 0, unitIDs[g.unit], u.ID, g.role)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r := a.current.Load()
	domains := []string{orgDomain}
	for _, id := range append(unitIDs, 999) {
		domains = append(domains, domainOf(id))
	}
	var pairs [][2]string
	for _, line := range strings.Split(policyCSV, "\n") {
		f := strings.Split(line, ", ")
		if len(f) == 4 && f[0] == "p" {
			pairs = append(pairs, [2]string{f[2], f[3]})
		}
	}
	pairs = append(pairs, [2]string{"charge", "nonexistent"})
	allowed := 0
	for _, user := range append(userIDs, 0, 12345) {
		for _, dom := range domains {
			for _, p := range pairs {
				want, err := r.enforcer.Enforce(userSubject(user), dom, p[0], p[1])
				if err != nil {
					t.Fatal(err)
				}
				if got := a.enforce(r, user, dom, p[0], p[1]); got != want {
					t.Errorf("user %d in %s %s:%s: fast path %v, matcher %v", user, dom, p[0], p[1], got, want)
				}
				if want {
					allowed++
				}
			}
		}
	}
	if allowed == 0 {
		t.Fatal("nothing was allowed at all; the fixture is broken")
	}
}
