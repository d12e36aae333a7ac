package units

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// UserReader is who may read user records, and so see e-mail addresses:
// admins (user:read organisation-wide) everyone; a manager (member:read in
// units) the people holding a role in those units; anyone themselves. A
// user outside is found only by the exact e-mail address the reader
// already knows, to add them to a unit (FindUserToAdd), never by a list,
// a partial search or an id.
type UserReader struct {
	Self    int64
	All     bool    // user:read everywhere
	UnitIDs []int64 // units whose members the reader reads (member:read)
}

// Lists reports whether the reader may list users at all.
func (r UserReader) Lists() bool { return r.All || len(r.UnitIDs) > 0 }

// inUnits limits q (on users AS u... or on a model aliased "user") to the
// users holding a role in the reader's units.
func (r UserReader) inUnits(q *bun.SelectQuery, idColumn string) *bun.SelectQuery {
	return q.Where("EXISTS (SELECT 1 FROM unit_roles AS ur WHERE ur.user_id = "+idColumn+" AND ur.unit_id IN (?))",
		bun.In(r.UnitIDs))
}

// ListVisibleUsers is ListUsers for a reader: every user for an admin, the
// members of the reader's units for a manager; refused for anyone else.
func ListVisibleUsers(ctx context.Context, idb bun.IDB, r UserReader, f UserFilter) ([]User, error) {
	if !r.Lists() {
		return nil, fault.Forbidden("only admins and unit managers list users")
	}
	var list []User
	q := idb.NewSelect().Model(&list).Where("id > ?", f.AfterID).OrderExpr("id ASC").Limit(int64(f.Limit))
	if f.Query != "" {
		like := "%" + db.EscapeLike(strings.ToLower(f.Query)) + "%"
		q = q.Where("(email_key LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')", like, like)
	}
	if !r.All {
		q = r.inUnits(q, `"user"."id"`)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list, nil
}

// GetVisibleUser returns user id if the reader may read them, else a
// not-found fault (the same as for an id that does not exist).
func GetVisibleUser(ctx context.Context, idb bun.IDB, r UserReader, id int64) (*User, error) {
	if id != r.Self && !r.All {
		if len(r.UnitIDs) == 0 {
			return nil, fault.NotFound("user")
		}
		n, err := r.inUnits(idb.NewSelect().TableExpr("users AS u").Where("u.id = ?", id), "u.id").Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("see user %d: %w", id, err)
		}
		if n == 0 {
			return nil, fault.NotFound("user")
		}
	}
	return GetUser(ctx, idb, id)
}

// UserToAdd is the person a unit's manager adds: named by id, someone the
// reader already reads (GetVisibleUser); named by e-mail, the user with
// exactly that address (case and surrounding spaces aside), the one way to
// reach a person outside the reader's units. Anyone else, like an unknown
// address, is an invalid field, so neither an id nor a partial address
// tells whether a person exists.
func UserToAdd(ctx context.Context, idb bun.IDB, r UserReader, userID int64, email string) (*User, error) {
	field, u, err := "user_id", (*User)(nil), error(nil)
	switch {
	case email != "" && userID != 0:
		return nil, fault.Invalid("email", "name the person by user_id or by email, not both")
	case email != "":
		field = "email"
		u, err = GetUserByEmail(ctx, idb, email)
	case userID > 0:
		u, err = GetVisibleUser(ctx, idb, r, userID)
	default:
		return nil, fault.Invalid("email", "name the person to add by their e-mail address")
	}
	if fault.Is(err, fault.KindNotFound) {
		return nil, fault.Invalid(field, "no user has this %s", fault.Field(field))
	}
	return u, err
}
