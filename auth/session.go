package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/units"
)

// SessionTTL is how long a portal session lasts without a new login.
const SessionTTL = 12 * time.Hour

// Session is a signed-in browser. Only the hash of its token is stored.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    int64     `bun:"user_id"`
	CSRFToken string    `bun:"csrf_token"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// StartSession creates a session for userID and returns its secret token
// (for the cookie) and the session. previousToken, if any, is ended, so a
// login always rotates the session.
func StartSession(ctx context.Context, tx bun.Tx, userID int64, previousToken string) (string, *Session, error) {
	if previousToken != "" {
		if _, err := tx.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", hashSecret(previousToken)).Exec(ctx); err != nil {
			return "", nil, fmt.Errorf("end previous session: %w", err)
		}
	}
	token := newSecret()
	now := time.Now().UTC()
	s := &Session{TokenHash: hashSecret(token), UserID: userID, CSRFToken: newSecret(), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if _, err := tx.NewInsert().Model(s).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("start session: %w", err)
	}
	return token, s, nil
}

// EndSession deletes the session with the given token, if it exists.
func EndSession(ctx context.Context, idb bun.IDB, token string) error {
	if _, err := idb.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", hashSecret(token)).Exec(ctx); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SessionUser returns the enabled user behind a live session token, or
// ok=false when the token is unknown, expired or its user is disabled.
func SessionUser(ctx context.Context, idb bun.IDB, token string) (*units.User, *Session, bool, error) {
	s := new(Session)
	err := idb.NewSelect().Model(s).Where("token_hash = ? AND expires_at > ?", hashSecret(token), time.Now().UTC()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("look up session: %w", err)
	}
	u, err := units.GetUser(ctx, idb, s.UserID)
	if err != nil {
		return nil, nil, false, err
	}
	if u.Disabled {
		return nil, nil, false, nil
	}
	return u, s, true, nil
}

// PurgeExpired removes expired sessions and old login failures.
func PurgeExpired(ctx context.Context, idb bun.IDB) error {
	now := time.Now().UTC()
	if _, err := idb.NewDelete().Model((*Session)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	if _, err := idb.NewDelete().Table("login_failures").Where("failed_at <= ?", now.Add(-ThrottleWindow)).Exec(ctx); err != nil {
		return fmt.Errorf("purge login failures: %w", err)
	}
	return nil
}
