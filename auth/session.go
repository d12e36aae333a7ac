package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// SessionTTL is how long a portal session lasts without a new login.
const SessionTTL = 12 * time.Hour

// Session is a signed-in browser. Only the hash of its token is stored.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	TokenHash  string     `bun:"token_hash,pk"`
	PublicID   string     `bun:"public_id"`
	UserID     int64      `bun:"user_id"`
	CSRFToken  string     `bun:"csrf_token"`
	UserAgent  string     `bun:"user_agent"`
	ClientIP   string     `bun:"client_ip"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	LastSeenAt *time.Time `bun:"last_seen_at"`
}

// Client is what a sign-in knows of the browser or script behind it: its
// address (for throttling and the session list) and its User-Agent.
type Client struct {
	IP        string
	UserAgent string
}

// maxUserAgent bounds what a session keeps of a client's User-Agent.
const maxUserAgent = 300

// LastSeen is when the session was last used (at most a minute stale).
func (s *Session) LastSeen() time.Time {
	if s.LastSeenAt != nil {
		return *s.LastSeenAt
	}
	return s.CreatedAt
}

// StartSession creates a session for userID and returns its secret token
// (for the cookie) and the session. previousToken, if any, is ended, so a
// login always rotates the session.
func StartSession(ctx context.Context, tx bun.Tx, userID int64, previousToken string, client Client) (string, *Session, error) {
	if previousToken != "" {
		if _, err := tx.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", hashSecret(previousToken)).Exec(ctx); err != nil {
			return "", nil, fmt.Errorf("end previous session: %w", err)
		}
	}
	token := newSecret()
	now := time.Now().UTC()
	ua := client.UserAgent
	if len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	s := &Session{TokenHash: hashSecret(token), PublicID: newSecret()[:22], UserID: userID, CSRFToken: newSecret(),
		UserAgent: ua, ClientIP: client.IP, CreatedAt: now, ExpiresAt: now.Add(SessionTTL), LastSeenAt: &now}
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
	if now := time.Now().UTC(); now.Sub(s.LastSeen()) >= usageResolution {
		if _, err := idb.NewUpdate().Model((*Session)(nil)).Set("last_seen_at = ?", now).
			Where("token_hash = ?", s.TokenHash).Exec(ctx); err != nil {
			return nil, nil, false, fmt.Errorf("note use of session: %w", err)
		}
		s.LastSeenAt = &now
	}
	return u, s, true, nil
}

// ListSessions returns the live sessions of userID, the last seen first.
func ListSessions(ctx context.Context, idb bun.IDB, userID int64) ([]Session, error) {
	var ss []Session
	err := idb.NewSelect().Model(&ss).Where("user_id = ? AND expires_at > ?", userID, time.Now().UTC()).
		OrderExpr("COALESCE(last_seen_at, created_at) DESC, created_at DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return ss, nil
}

// EndSessionOf ends one session of userID by its public id, on behalf of
// actorID, and records it. A session that is not userID's is not found.
func EndSessionOf(ctx context.Context, tx bun.Tx, actorID, userID int64, publicID string) error {
	s := new(Session)
	err := tx.NewSelect().Model(s).Where("public_id = ? AND user_id = ?", publicID, userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return fault.NotFound("session")
	}
	if err != nil {
		return fmt.Errorf("find session: %w", err)
	}
	if _, err := tx.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", s.TokenHash).Exec(ctx); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "session", ObjectID: publicID, Action: "end",
		Before: map[string]any{"user_id": userID, "device": Device(s.UserAgent), "address": s.ClientIP, "created_at": s.CreatedAt}})
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
