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

// tokenPrefix marks Tiski API tokens so secret scanners can find leaked ones.
const tokenPrefix = "tsk_"

const (
	// DefaultTokenTTL is how long a token lives when its maker names no
	// lifetime, and the lifetime of tokens issued before tokens expired.
	DefaultTokenTTL = 90 * 24 * time.Hour
	// MaxTokenTTL is the longest lifetime a token may be given: a leaked
	// token stops working within a year even if nobody notices.
	MaxTokenTTL = 365 * 24 * time.Hour
	// usageResolution is how stale last_used_at (and a session's
	// last_seen_at) may be: recording each use would turn every read into
	// a write.
	usageResolution = time.Minute
)

// APIToken is a bearer credential for scripts. Only its hash is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64      `bun:"id,pk,autoincrement"`
	UserID     int64      `bun:"user_id"`
	Name       string     `bun:"name"`
	TokenHash  string     `bun:"token_hash"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// Expiry is when the token stops working. Tokens issued before tokens had
// an expiry live the default lifetime from their creation.
func (t *APIToken) Expiry() time.Time {
	if t.ExpiresAt != nil {
		return *t.ExpiresAt
	}
	return t.CreatedAt.Add(DefaultTokenTTL)
}

// Token states, as listed to their owner.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// State is whether the token works at now, and if not, why.
func (t *APIToken) State(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return TokenRevoked
	case !now.Before(t.Expiry()):
		return TokenExpired
	}
	return TokenActive
}

// auditView is what the trail keeps of a token: never its hash.
func (t *APIToken) auditView() map[string]any {
	return map[string]any{"id": t.ID, "user_id": t.UserID, "name": t.Name, "expires_at": t.Expiry(), "revoked_at": t.RevokedAt}
}

// CreateToken issues a new API token for userID, made by actorID (0 for the
// operator's command line), living ttl (0 for DefaultTokenTTL, at most
// MaxTokenTTL). It returns the token's secret, which is never stored and
// cannot be shown again.
func CreateToken(ctx context.Context, tx bun.Tx, actorID, userID int64, name string, ttl time.Duration) (string, *APIToken, error) {
	if name == "" {
		name = "api"
	}
	if err := fault.Text("name", name, 1, 100, false); err != nil {
		return "", nil, err
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < 0 || ttl > MaxTokenTTL {
		return "", nil, fault.Invalid("expires_in_days", "a token lives between 1 and %d days", int(MaxTokenTTL/(24*time.Hour)))
	}
	u, err := units.GetUser(ctx, tx, userID)
	if err != nil {
		return "", nil, err
	}
	if u.Disabled {
		return "", nil, fault.Conflict("user_disabled", "user %s is disabled", u.Email)
	}
	secret := tokenPrefix + newSecret()
	now := time.Now().UTC()
	expires := now.Add(ttl)
	t := &APIToken{UserID: userID, Name: name, TokenHash: hashSecret(secret), CreatedAt: now, ExpiresAt: &expires}
	if _, err := tx.NewInsert().Model(t).Returning("id").Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "api_token",
		ObjectID: strconv.FormatInt(t.ID, 10), Action: "create", After: t.auditView()}); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// ListTokens returns every token of userID, newest first, revoked and
// expired ones included so their owner sees what happened to them.
func ListTokens(ctx context.Context, idb bun.IDB, userID int64) ([]APIToken, error) {
	var ts []APIToken
	if err := idb.NewSelect().Model(&ts).Where("user_id = ?", userID).OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list tokens of user %d: %w", userID, err)
	}
	return ts, nil
}

// RevokeToken revokes one live token of userID on behalf of actorID (the
// owner, an admin, or 0 for the operator's command line). A token that is
// not userID's, or is already revoked, is not found.
func RevokeToken(ctx context.Context, tx bun.Tx, actorID, userID, tokenID int64) error {
	t := new(APIToken)
	err := tx.NewSelect().Model(t).Where("id = ? AND user_id = ? AND revoked_at IS NULL", tokenID, userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return fault.NotFound("token")
	}
	if err != nil {
		return fmt.Errorf("find token %d: %w", tokenID, err)
	}
	before := t.auditView()
	now := time.Now().UTC()
	res, err := tx.NewUpdate().Model((*APIToken)(nil)).Set("revoked_at = ?", now).
		Where("id = ? AND revoked_at IS NULL", tokenID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", tokenID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("token")
	}
	t.RevokedAt = &now
	return audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "api_token",
		ObjectID: strconv.FormatInt(tokenID, 10), Action: "revoke", Before: before, After: t.auditView()})
}

// tokenRefusal is the answer to a token that exists but no longer works,
// by its state: expired or revoked.
func tokenRefusal(state string) *fault.Error {
	if state == TokenRevoked {
		return fault.New(fault.KindUnauthorized, "token_revoked", "this API token was revoked").With("reason", state)
	}
	return fault.New(fault.KindUnauthorized, "token_expired", "this API token has expired; create a new one").With("reason", state)
}

// TokenUser returns the enabled user behind a live API token, and notes its
// use (at most once a minute). An unknown secret, or one whose user is
// disabled, is ok=false with no error. A known token that was revoked or has
// expired is refused with a 401 fault (token_revoked, token_expired), and the
// refusal is recorded in the audit trail: someone still holds it.
func TokenUser(ctx context.Context, d *db.DB, secret string) (*units.User, bool, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, false, nil
	}
	t := new(APIToken)
	err := d.NewSelect().Model(t).Where("token_hash = ?", hashSecret(secret)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("look up token: %w", err)
	}
	now := time.Now().UTC()
	if state := t.State(now); state != TokenActive {
		return nil, false, audit.InTx(ctx, d, func(bun.Tx) error {
			return audit.Refuse(t.UserID, "api_token", strconv.FormatInt(t.ID, 10), "authenticate", t.auditView(), tokenRefusal(state))
		})
	}
	u, err := units.GetUser(ctx, d, t.UserID)
	if err != nil {
		return nil, false, err
	}
	if u.Disabled {
		return nil, false, nil
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= usageResolution {
		if _, err := d.NewUpdate().Model((*APIToken)(nil)).Set("last_used_at = ?", now).
			Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", t.ID, now.Add(-usageResolution)).Exec(ctx); err != nil {
			return nil, false, fmt.Errorf("note use of token %d: %w", t.ID, err)
		}
	}
	return u, true, nil
}
