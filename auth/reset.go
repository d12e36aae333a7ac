package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// ResetLinkTTL is how long a password reset link works.
const ResetLinkTTL = 24 * time.Hour

// ResetPath is the portal path under which a reset link's token is taken.
const ResetPath = "/reset/"

// PasswordReset is a one-time password reset link. Only its token's hash is
// stored.
type PasswordReset struct {
	bun.BaseModel `bun:"table:password_resets"`

	ID        int64      `bun:"id,pk,autoincrement"`
	UserID    int64      `bun:"user_id"`
	TokenHash string     `bun:"token_hash"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// errResetLink is the one answer for a token that is unknown, used or
// expired, so a guess learns nothing.
var errResetLink = fault.Invalid("token", "this password reset link is unknown, already used or expired")

// CreatePasswordReset issues a reset link for userID and returns its token,
// which is never stored and cannot be shown again. The user's earlier unused
// links stop working. actorID 0 is the operator on the server.
func CreatePasswordReset(ctx context.Context, tx bun.Tx, actorID, userID int64) (string, *PasswordReset, error) {
	u, err := units.GetUser(ctx, tx, userID)
	if err != nil {
		return "", nil, err
	}
	if u.Disabled {
		return "", nil, fault.Conflict("user_disabled", "user %s is disabled", u.Email)
	}
	now := time.Now().UTC()
	if _, err := tx.NewUpdate().Model((*PasswordReset)(nil)).Set("expires_at = ?", now).
		Where("user_id = ? AND used_at IS NULL AND expires_at > ?", userID, now).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("expire earlier reset links: %w", err)
	}
	token := newSecret()
	r := &PasswordReset{UserID: userID, TokenHash: hashSecret(token), CreatedAt: now, ExpiresAt: now.Add(ResetLinkTTL)}
	if _, err := tx.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("create reset link: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10),
		Action: "password_reset_link", After: r}); err != nil {
		return "", nil, err
	}
	return token, r, nil
}

// ResetLink is the address of the portal page that takes token.
func ResetLink(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + ResetPath + token
}

// ResetPassword sets a new password for the user behind a live reset token
// and uses the token up. The user's sessions end, so whoever held the old
// password is signed out.
func ResetPassword(ctx context.Context, d *db.DB, token, newPassword string, p HashParams) error {
	hash, err := HashPassword(newPassword, p)
	if err != nil {
		return err
	}
	return d.InTx(ctx, func(tx bun.Tx) error {
		r := new(PasswordReset)
		err := tx.NewSelect().Model(r).Where("token_hash = ?", hashSecret(token)).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errResetLink
		}
		if err != nil {
			return fmt.Errorf("look up reset link: %w", err)
		}
		now := time.Now().UTC()
		// The condition makes the link single-use even when two resets race.
		res, err := tx.NewUpdate().Model(r).Set("used_at = ?", now).
			Where("id = ? AND used_at IS NULL AND expires_at > ?", r.ID, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use reset link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errResetLink
		}
		u, err := units.GetUser(ctx, tx, r.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return fault.Conflict("user_disabled", "user %s is disabled", u.Email)
		}
		// Changed as the user's own, from no session: every session ends.
		_, err = units.UpdateUser(ctx, tx, u.ID, u.ID, units.UserChange{PasswordHash: &hash})
		return err
	})
}
