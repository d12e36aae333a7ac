package requests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// IdempotencyTTL is how long a key replays its first answer.
const IdempotencyTTL = 24 * time.Hour

// StoredResponse is the first answer given for an idempotency key.
type StoredResponse struct {
	Status int
	Body   []byte
}

type idempotencyKey struct {
	bun.BaseModel `bun:"table:idempotency_keys"`

	UserID         int64     `bun:"user_id,pk"`
	Key            string    `bun:"key,pk"`
	RequestHash    string    `bun:"request_hash"`
	ResponseStatus *int      `bun:"response_status"`
	ResponseBody   *string   `bun:"response_body"`
	CreatedAt      time.Time `bun:"created_at"`
}

// ClaimKey reserves key for this user inside tx. It returns the stored
// response when the key was used before with the same request (replay it),
// nil when the caller is first (go ahead, then StoreResponse), and an
// invalid fault when the key was used with a different request. A concurrent
// claimant waits on the key's row until the first transaction ends.
func ClaimKey(ctx context.Context, tx bun.Tx, userID int64, key, requestHash string, now time.Time) (*StoredResponse, error) {
	if err := fault.Text("Idempotency-Key", key, 1, 200, false); err != nil {
		return nil, err
	}
	if _, err := tx.NewDelete().Model((*idempotencyKey)(nil)).
		Where("user_id = ? AND key = ? AND created_at <= ?", userID, key, now.Add(-IdempotencyTTL)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("expire idempotency key: %w", err)
	}
	k := &idempotencyKey{UserID: userID, Key: key, RequestHash: requestHash, CreatedAt: now}
	res, err := tx.NewInsert().Model(k).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	prior := new(idempotencyKey)
	err = tx.NewSelect().Model(prior).Where("user_id = ? AND key = ?", userID, key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Conflict("idempotency_key_busy", "a request with this Idempotency-Key is still being processed; retry")
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if prior.RequestHash != requestHash {
		return nil, fault.Invalid("Idempotency-Key", "this Idempotency-Key was used with a different request body")
	}
	if prior.ResponseStatus == nil || prior.ResponseBody == nil {
		return nil, fault.Conflict("idempotency_key_busy", "a request with this Idempotency-Key is still being processed; retry")
	}
	return &StoredResponse{Status: *prior.ResponseStatus, Body: []byte(*prior.ResponseBody)}, nil
}

// StoreResponse records the answer for a key claimed in the same tx.
func StoreResponse(ctx context.Context, tx bun.Tx, userID int64, key string, r StoredResponse) error {
	body := string(r.Body)
	_, err := tx.NewUpdate().Model((*idempotencyKey)(nil)).
		Set("response_status = ?", r.Status).Set("response_body = ?", body).
		Where("user_id = ? AND key = ?", userID, key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}
