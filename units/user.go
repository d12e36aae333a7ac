package units

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
)

// Locales are the languages a user may choose: one per message file built
// into the binary. units asks i18n, a leaf package (it imports only fault
// and money), rather than taking the list from its callers, so every
// surface that creates or changes a user (API, portal, CLI, demo) checks
// against the same files without passing them around.
func Locales() []string { return i18n.Available() }

// User is a person who signs in to Tiski.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        string    `bun:"email"`
	EmailKey     string    `bun:"email_key"`
	Name         string    `bun:"name"`
	Locale       string    `bun:"locale"`
	PasswordHash string    `bun:"password_hash" json:"-"`
	Disabled     bool      `bun:"disabled"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

// UserChange holds the fields to set on a user; nil fields stay as they are.
type UserChange struct {
	Email        *string
	Name         *string
	Locale       *string
	Disabled     *bool
	PasswordHash *string
	// KeepSession is the stored key of the session making the change (see
	// auth.SessionKey): when users change their own password, every other
	// session of theirs ends and this one stays.
	KeepSession string
}

// EmailKey is the case-insensitive identity of an e-mail address.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser validates and stores a new user. PasswordHash may be empty (the
// user cannot sign in with a password until one is set).
func CreateUser(ctx context.Context, tx bun.Tx, actorID int64, u User) (*User, error) {
	if u.Locale == "" {
		u.Locale = "en"
	}
	u.Email = strings.TrimSpace(u.Email)
	if err := validateUser(&u); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	u.ID, u.EmailKey, u.CreatedAt, u.UpdatedAt = 0, EmailKey(u.Email), now, now
	if _, err := tx.NewInsert().Model(&u).Returning("id").Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, duplicateEmail(u.Email)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "user",
		ObjectID: strconv.FormatInt(u.ID, 10), Action: "create", After: u}); err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateUser applies change. Only the user (or the operator, actorID 0)
// sets the password of a user who holds or is proposed for a money role.
// Disabling a user ends their sessions and
// revokes their API tokens in the same transaction.
func UpdateUser(ctx context.Context, tx bun.Tx, actorID, id int64, change UserChange) (*User, error) {
	before, err := GetUser(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if change.PasswordHash != nil && actorID != 0 && actorID != id {
		if err := refuseMoneyRolePassword(ctx, tx, actorID, before); err != nil {
			return nil, err
		}
	}
	u := *before
	if change.Email != nil {
		u.Email = strings.TrimSpace(*change.Email)
		u.EmailKey = EmailKey(u.Email)
	}
	if change.Name != nil {
		u.Name = *change.Name
	}
	if change.Locale != nil {
		u.Locale = *change.Locale
	}
	if change.Disabled != nil {
		u.Disabled = *change.Disabled
	}
	if change.PasswordHash != nil {
		u.PasswordHash = *change.PasswordHash
	}
	if err := validateUser(&u); err != nil {
		return nil, err
	}
	if u.Disabled && !before.Disabled && actorID == id {
		return nil, fault.Conflict("self_disable", "you cannot disable your own account")
	}
	u.UpdatedAt = time.Now().UTC()
	if _, err := tx.NewUpdate().Model(&u).WherePK().Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, duplicateEmail(u.Email)
		}
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	if u.Disabled && !before.Disabled {
		if err := EndAccess(ctx, tx, id); err != nil {
			return nil, err
		}
	} else if change.PasswordHash != nil {
		if err := endAccessAfterPasswordChange(ctx, tx, actorID, id, change.KeepSession); err != nil {
			return nil, err
		}
	}
	if u.Disabled != before.Disabled {
		// A disabled user's grants leave the access rules everywhere.
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return nil, err
		}
	}
	action := "update"
	if change.PasswordHash != nil {
		action = "set_password"
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "user",
		ObjectID: strconv.FormatInt(id, 10), Action: action, Before: before, After: u}); err != nil {
		return nil, err
	}
	return &u, nil
}

// refuseMoneyRolePassword keeps an admin from taking over a money role by
// setting its holder's password: such a user resets their own. The row lock
// orders the check with a concurrent grant.
func refuseMoneyRolePassword(ctx context.Context, tx bun.Tx, actorID int64, u *User) error {
	if _, err := tx.NewUpdate().Table("users").Set("updated_at = updated_at").Where("id = ?", u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("lock user %d: %w", u.ID, err)
	}
	held, err := OrgRolesOf(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	var proposed []string
	if err := tx.NewSelect().Table("grant_proposals").Column("role").
		Where("user_id = ? AND status = ?", u.ID, ProposalPending).Scan(ctx, &proposed); err != nil {
		return fmt.Errorf("proposed roles of user %d: %w", u.ID, err)
	}
	var roles []string
	for _, r := range append(held, proposed...) {
		if slices.Contains(MoneyRoles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return nil
	}
	return audit.Refuse(actorID, "user", strconv.FormatInt(u.ID, 10), "set_password", u,
		forbidden("money_role_password", "a user with the %s role sets their own password; the operator can print them a reset link (tiski user reset-password)", roles[0]))
}

// EndAccess deletes every session of the user and revokes every API token.
func EndAccess(ctx context.Context, idb bun.IDB, userID int64) error {
	if _, err := idb.NewDelete().Table("sessions").Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	if _, err := idb.NewUpdate().Table("api_tokens").Set("revoked_at = ?", time.Now().UTC()).
		Where("user_id = ? AND revoked_at IS NULL", userID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke tokens of user %d: %w", userID, err)
	}
	return nil
}

// endAccessAfterPasswordChange signs out whoever held the old password:
// users who change their own end every other session (their API tokens,
// which they made and hold themselves, stay); a password set by someone
// else ends every session and revokes every token.
func endAccessAfterPasswordChange(ctx context.Context, tx bun.Tx, actorID, userID int64, keepSession string) error {
	if actorID != userID {
		return EndAccess(ctx, tx, userID)
	}
	if _, err := tx.NewDelete().Table("sessions").Where("user_id = ? AND token_hash <> ?", userID, keepSession).Exec(ctx); err != nil {
		return fmt.Errorf("end other sessions of user %d: %w", userID, err)
	}
	return nil
}

// GetUser returns one user or a not-found fault.
func GetUser(ctx context.Context, idb bun.IDB, id int64) (*User, error) {
	u := new(User)
	if err := idb.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("user")
		}
		return nil, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// GetUserByEmail finds a user by e-mail, ignoring case.
func GetUserByEmail(ctx context.Context, idb bun.IDB, email string) (*User, error) {
	u := new(User)
	if err := idb.NewSelect().Model(u).Where("email_key = ?", EmailKey(email)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("user")
		}
		return nil, fmt.Errorf("get user by e-mail: %w", err)
	}
	return u, nil
}

// UserFilter selects users for ListUsers.
type UserFilter struct {
	Query   string // substring of name or e-mail
	AfterID int64
	Limit   int
}

// ListUsers returns users ordered by id, after the cursor.
func ListUsers(ctx context.Context, idb bun.IDB, f UserFilter) ([]User, error) {
	var list []User
	q := idb.NewSelect().Model(&list).Where("id > ?", f.AfterID).OrderExpr("id ASC").Limit(int64(f.Limit))
	if f.Query != "" {
		like := "%" + db.EscapeLike(strings.ToLower(f.Query)) + "%"
		q = q.Where("(email_key LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')", like, like)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list, nil
}

func validateUser(u *User) error {
	if err := fault.Text("email", u.Email, 3, 254, false); err != nil {
		return err
	}
	addr, err := mail.ParseAddress(u.Email)
	if err != nil || addr.Address != u.Email || addr.Name != "" {
		return fault.Invalid("email", "email must be a plain address such as anna@example.org")
	}
	if err := fault.Text("name", u.Name, 1, 200, false); err != nil {
		return err
	}
	if strings.TrimSpace(u.Name) == "" {
		return fault.Invalid("name", "name is required")
	}
	if locales := Locales(); !slices.Contains(locales, u.Locale) {
		return fault.Invalid("locale", "locale must be one of %s", strings.Join(locales, ", "))
	}
	return nil
}

func duplicateEmail(email string) error {
	return fault.Conflict("duplicate_email", "a user with e-mail %s already exists", email).With("field", "email")
}
