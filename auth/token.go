package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// tokenPrefix marks Tiski API tokens so secret scanners can find leaked ones.
const tokenPrefix = "tsk_"

// APIToken is a bearer credential for scripts. Only its hash is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID        int64      `bun:"id,pk,autoincrement"`
	UserID    int64      `bun:"user_id"`
	Name      string     `bun:"name"`
	TokenHash string     `bun:"token_hash"`
	CreatedAt time.Time  `bun:"created_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

// CreateToken issues a new API token for userID and returns its secret,
// which is never stored and cannot be shown again.
func CreateToken(ctx context.Context, tx bun.Tx, userID int64, name string) (string, *APIToken, error) {
	if name == "" {
		name = "api"
	}
	if err := fault.Text("name", name, 1, 100, false); err != nil {
		return "", nil, err
	}
	u, err := units.GetUser(ctx, tx, userID)
	if err != nil {
		return "", nil, err
	}
	if u.Disabled {
		return "", nil, fault.Conflict("user_disabled", "user %s is disabled", u.Email)
	}
	secret := tokenPrefix + newSecret()
	t := &APIToken{UserID: userID, Name: name, TokenHash: hashSecret(secret), CreatedAt: time.Now().UTC()}
	if _, err := tx.NewInsert().Model(t).Returning("id").Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return secret, t, nil
}

// RevokeToken revokes one token of userID.
func RevokeToken(ctx context.Context, idb bun.IDB, userID, tokenID int64) error {
	res, err := idb.NewUpdate().Model((*APIToken)(nil)).Set("revoked_at = ?", time.Now().UTC()).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", tokenID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", tokenID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("token")
	}
	return nil
}

// TokenUser returns the enabled user behind a live API token.
func TokenUser(ctx context.Context, idb bun.IDB, secret string) (*units.User, bool, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, false, nil
	}
	t := new(APIToken)
	err := idb.NewSelect().Model(t).Where("token_hash = ? AND revoked_at IS NULL", hashSecret(secret)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("look up token: %w", err)
	}
	u, err := units.GetUser(ctx, idb, t.UserID)
	if err != nil {
		return nil, false, err
	}
	if u.Disabled {
		return nil, false, nil
	}
	return u, true, nil
}
