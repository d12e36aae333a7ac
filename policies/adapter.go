package policies

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/uptrace/bun"
)

// errReadOnly is returned by every write method: grants change through the
// units package, never through casbin.
var errReadOnly = errors.New("policies: the adapter is read-only; change grants through the units package")

// grant is one effective role assignment after tree expansion.
type grant struct {
	UserID int64
	Role   string
	UnitID int64 // 0 for organisation roles
}

// snapshot is everything read from the database in one transaction.
type snapshot struct {
	version int64
	grants  []grant
}

// adapter feeds casbin the embedded role permissions and the role
// assignments read from the database. It never writes.
type adapter struct {
	idb  bun.IDB
	data *snapshot // filled by LoadPolicy
}

var _ persist.Adapter = (*adapter)(nil)

// LoadPolicy implements persist.Adapter.
func (a *adapter) LoadPolicy(m model.Model) error {
	scanner := bufio.NewScanner(strings.NewReader(policyCSV))
	for scanner.Scan() {
		if err := persist.LoadPolicyLine(strings.TrimSpace(scanner.Text()), m); err != nil {
			return fmt.Errorf("policy.csv: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data, err := readSnapshot(ctx, a.idb)
	if err != nil {
		return err
	}
	for _, g := range data.grants {
		rule := []string{userSubject(g.UserID), roleSubject(g.Role), domainOf(g.UnitID)}
		if err := persist.LoadPolicyArray(append([]string{"g"}, rule...), m); err != nil {
			return fmt.Errorf("load grant %v: %w", rule, err)
		}
	}
	a.data = data
	return nil
}

// SavePolicy implements persist.Adapter; the adapter is read-only.
func (a *adapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy implements persist.Adapter; the adapter is read-only.
func (a *adapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy implements persist.Adapter; the adapter is read-only.
func (a *adapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy implements persist.Adapter; the adapter is read-only.
func (a *adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }

// readSnapshot reads the policy version, the unit tree and every grant of
// enabled users in one read transaction, and expands manager grants to every
// unit below the granted one.
func readSnapshot(ctx context.Context, idb bun.IDB) (*snapshot, error) {
	data := &snapshot{}
	err := idb.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Table("policy_state").Column("version").Where("id = 1").Scan(ctx, &data.version); err != nil {
			return fmt.Errorf("read policy version: %w", err)
		}
		var tree []struct {
			ID       int64         `bun:"id"`
			ParentID sql.NullInt64 `bun:"parent_id"`
		}
		if err := tx.NewSelect().Table("units").Column("id", "parent_id").Scan(ctx, &tree); err != nil {
			return fmt.Errorf("read unit tree: %w", err)
		}
		children := make(map[int64][]int64, len(tree))
		for _, u := range tree {
			if u.ParentID.Valid {
				children[u.ParentID.Int64] = append(children[u.ParentID.Int64], u.ID)
			}
		}
		var unitGrants []grant
		if err := tx.NewSelect().TableExpr("unit_roles AS g").Join("JOIN users AS u ON u.id = g.user_id").
			ColumnExpr("g.user_id, g.role, g.unit_id").Where("u.disabled = ?", false).
			Scan(ctx, &unitGrants); err != nil {
			return fmt.Errorf("read unit roles: %w", err)
		}
		for _, g := range unitGrants {
			data.grants = append(data.grants, g)
			if g.Role == "manager" {
				for _, below := range descendants(children, g.UnitID) {
					data.grants = append(data.grants, grant{UserID: g.UserID, Role: g.Role, UnitID: below})
				}
			}
		}
		var orgGrants []grant
		if err := tx.NewSelect().TableExpr("org_roles AS g").Join("JOIN users AS u ON u.id = g.user_id").
			ColumnExpr("g.user_id, g.role").Where("u.disabled = ?", false).
			Scan(ctx, &orgGrants); err != nil {
			return fmt.Errorf("read org roles: %w", err)
		}
		data.grants = append(data.grants, orgGrants...)
		return nil
	})
	return data, err
}

// descendants lists every unit below id, breadth first. The tree has no
// cycles (the units package refuses them); seen guards against a corrupt one.
func descendants(children map[int64][]int64, id int64) []int64 {
	var out []int64
	seen := map[int64]bool{id: true}
	queue := children[id]
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		if seen[next] {
			continue
		}
		seen[next] = true
		out = append(out, next)
		queue = append(queue, children[next]...)
	}
	return out
}

// Subjects and domains are namespaced so that a user can never be mistaken
// for a role, nor a unit for the organisation.
func userSubject(id int64) string    { return "user:" + strconv.FormatInt(id, 10) }
func roleSubject(role string) string { return "role:" + role }

const orgDomain = "org"

func domainOf(unitID int64) string {
	if unitID == 0 {
		return orgDomain
	}
	return "unit:" + strconv.FormatInt(unitID, 10)
}
