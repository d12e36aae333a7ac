// Package outbox is Tiski's transactional outbox: a side effect (an e-mail
// now, a webhook later) is a row written in the same transaction as the
// change that caused it, and a worker inside tiski serve delivers it after
// commit, at least once.
//
// Our own table rather than a job library: one table in our migrations on
// both engines, written with the change in the same bun.Tx, with no second
// driver or pool. On PostgreSQL the worker claims due rows with FOR UPDATE
// SKIP LOCKED, so several tiski serve processes on one database never claim
// the same row at once; on SQLite (one writer) the claim is an IMMEDIATE
// transaction. Either way a claim is a lease (lease_until, claim_token): a
// worker killed mid-delivery leaves a lease that expires, and the row is
// claimed and delivered again.
//
// At least once, honestly: a worker that delivered but died before marking
// the row delivered (or whose lease ran out while the SMTP server was slow)
// delivers that message again. Each message carries its delivery key
// (event, recipient, channel) and a Message-ID derived from it, so the
// duplicate is detectable by the receiving side; Tiski never sends two
// messages for one key on purpose, and enqueueing a key twice is a no-op.
package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// Statuses of a message.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// ChannelEmail is the channel of e-mail messages.
const ChannelEmail = "email"

// Message is one row of the outbox.
type Message struct {
	bun.BaseModel `bun:"table:outbox,alias:o"`

	ID            int64      `bun:"id,pk,autoincrement"`
	Channel       string     `bun:"channel"`
	DeliveryKey   string     `bun:"delivery_key"`
	EventID       int64      `bun:"event_id"`
	RecipientID   *int64     `bun:"recipient_id"`
	Status        string     `bun:"status"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	LeaseUntil    *time.Time `bun:"lease_until"`
	ClaimToken    string     `bun:"claim_token"`
	LastError     string     `bun:"last_error"`
	CreatedAt     time.Time  `bun:"created_at"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
}

// DeliveryKey names one message: one event to one recipient on one channel.
func DeliveryKey(eventID, recipientID int64, channel string) string {
	return fmt.Sprintf("%d:%d:%s", eventID, recipientID, channel)
}

// Enqueue writes a message due now inside the caller's transaction. A
// message whose delivery key is already there is left as it is.
func Enqueue(ctx context.Context, idb bun.IDB, channel string, eventID, recipientID int64, now time.Time) error {
	m := &Message{Channel: channel, DeliveryKey: DeliveryKey(eventID, recipientID, channel), EventID: eventID,
		RecipientID: &recipientID, Status: Pending, NextAttemptAt: now.UTC(), CreatedAt: now.UTC()}
	if _, err := idb.NewInsert().Model(m).On("CONFLICT (delivery_key) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("enqueue %s: %w", m.DeliveryKey, err)
	}
	return nil
}

// Claim leases up to n due messages of the given channels until now+lease
// and returns them. A row is due when it is pending, its next attempt has
// come and no live lease holds it. Each claim counts as an attempt.
func Claim(ctx context.Context, d *db.DB, channels []string, n int, lease time.Duration, now time.Time) ([]Message, error) {
	if len(channels) == 0 || n <= 0 {
		return nil, nil
	}
	now = now.UTC()
	token := newToken()
	lock := ""
	if d.Engine == db.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var claimed []Message
	err := d.InTx(ctx, func(tx bun.Tx) error {
		claimed = nil
		return tx.NewRaw(`UPDATE outbox SET lease_until = ?, claim_token = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM outbox
    WHERE status = ? AND channel IN (?) AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
    ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
RETURNING *`, now.Add(lease), token, Pending, bun.In(channels), now, now, n).Scan(ctx, &claimed)
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim outbox messages: %w", err)
	}
	return claimed, nil
}

// MarkDelivered records the delivery of a claimed message. It reports
// false when the claim was lost (the lease expired and another worker
// claimed the row), in which case that worker's outcome stands.
func MarkDelivered(ctx context.Context, idb bun.IDB, m Message, now time.Time) (bool, error) {
	res, err := idb.NewUpdate().Model((*Message)(nil)).
		Set("status = ?", Delivered).Set("delivered_at = ?", now.UTC()).Set("lease_until = NULL").Set("last_error = ''").
		Where("id = ? AND claim_token = ? AND status = ?", m.ID, m.ClaimToken, Pending).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark outbox message %d delivered: %w", m.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MarkFailed records a failed attempt: the message is due again at retryAt,
// or, when retryAt is zero, it has failed for good and waits for an admin.
func MarkFailed(ctx context.Context, idb bun.IDB, m Message, cause error, retryAt time.Time) error {
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	q := idb.NewUpdate().Model((*Message)(nil)).Set("lease_until = NULL").Set("last_error = ?", msg).
		Where("id = ? AND claim_token = ? AND status = ?", m.ID, m.ClaimToken, Pending)
	if retryAt.IsZero() {
		q = q.Set("status = ?", Failed)
	} else {
		q = q.Set("next_attempt_at = ?", retryAt.UTC())
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("mark outbox message %d failed: %w", m.ID, err)
	}
	return nil
}

// Get returns one message or a not-found fault.
func Get(ctx context.Context, idb bun.IDB, id int64) (*Message, error) {
	m := new(Message)
	if err := idb.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("outbox message")
		}
		return nil, fmt.Errorf("get outbox message %d: %w", id, err)
	}
	return m, nil
}

// List returns up to limit messages with the status (all when empty),
// newest first, below beforeID when it is not 0.
func List(ctx context.Context, idb bun.IDB, status string, beforeID int64, limit int) ([]Message, error) {
	var rows []Message
	q := idb.NewSelect().Model(&rows).OrderExpr("id DESC").Limit(int64(limit))
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return rows, nil
}

// Resend puts a failed message back in the queue, due now with a fresh
// count of attempts, and records who did it in the audit trail. Only a
// failed message is re-sent: a delivered one would be a duplicate.
func Resend(ctx context.Context, tx bun.Tx, actorID, id int64, now time.Time) (*Message, error) {
	before, err := Get(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if before.Status != Failed {
		return nil, fault.Conflict("not_failed", "only a failed message is re-sent").With("status", before.Status)
	}
	res, err := tx.NewUpdate().Model((*Message)(nil)).
		Set("status = ?", Pending).Set("attempts = 0").Set("next_attempt_at = ?", now.UTC()).
		Set("lease_until = NULL").Set("claim_token = ''").
		Where("id = ? AND status = ?", id, Failed).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("resend outbox message %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fault.Conflict("not_failed", "only a failed message is re-sent").With("status", Pending)
	}
	after, err := Get(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "outbox", ObjectID: strconv.FormatInt(id, 10),
		Action: "resend", Before: before, After: after}); err != nil {
		return nil, err
	}
	return after, nil
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DropPending removes the pending messages of channel to the given
// recipients and returns how many it removed: for history loaded in bulk
// (the demo), which its people may read in the app but should never be
// mailed.
func DropPending(ctx context.Context, idb bun.IDB, channel string, recipientIDs []int64) (int, error) {
	if len(recipientIDs) == 0 {
		return 0, nil
	}
	res, err := idb.NewDelete().Model((*Message)(nil)).
		Where("status = ? AND channel = ? AND recipient_id IN (?)", Pending, channel, bun.In(recipientIDs)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("drop pending %s messages: %w", channel, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
