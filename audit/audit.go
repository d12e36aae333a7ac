// Package audit appends immutable events to the audit trail: who changed
// what, when, with the state before and after. The table refuses updates and
// deletes by trigger, so the trail only grows.
//
// Hash chains name a row edited, inserted or deleted behind Tiski's back.
//
// A chain covers the rows of one append-only table (the journal entries, the
// audit events). Each row gets a link in chain_links when it is written, in
// the same transaction: its sequence number in the chain, the previous
// link's hash and its own hash, SHA-256 over the previous hash and the row's
// canonical encoding (for a journal entry that includes its postings). The
// rows themselves stay as they were written; the database guards refuse to
// update them, so the links live in a table of their own, which is guarded
// the same way. Verify recomputes a chain in sequence order and names the
// first row of each break: a row whose content no longer gives its hash
// (edited), a link whose row is gone or a sequence that skips (deleted), a
// row without a link (inserted), and a head that is ahead of the newest link
// (the newest rows deleted with their links).
//
// Order: chain_heads holds each chain's newest link. An append locks every
// head, in name order, before it reads its own, so on PostgreSQL appends
// wait for each other and each sees the committed link before it, and two
// transactions that write both an entry and an event never wait on each
// other in a cycle; SQLite's single writer orders them already. That makes
// every audited write and every posting one at a time on PostgreSQL: a chain
// per object would let writes to different objects go side by side, but
// could not tell the deletion of an object's newest events from an object
// that had none, so there is one chain per table.
//
// Rows written before the chains existed are chained, in id order, by the
// first append after the migration (chain_heads.backfill_to); until then
// Verify passes them over. A chain shows what changed after a row was
// linked; whoever can rewrite the links and the head as well can hide a
// change, which is what an exported head hash would guard against.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Event is one recorded state change.
type Event struct {
	bun.BaseModel `bun:"table:audit_events"`

	ID         int64     `bun:"id,pk,autoincrement"`
	At         time.Time `bun:"at"`
	ActorID    *int64    `bun:"actor_id"`
	ObjectType string    `bun:"object_type"`
	ObjectID   string    `bun:"object_id"`
	Action     string    `bun:"action"`
	BeforeJSON *string   `bun:"before_json"`
	AfterJSON  *string   `bun:"after_json"`
}

// Change describes a state change to record.
type Change struct {
	ActorID    int64 // 0 for the system itself
	ObjectType string
	ObjectID   string
	Action     string
	Before     any // nil when the object is new
	After      any // nil when the object is gone
}

// Record appends c to the trail inside the caller's transaction and links
// it to the trail's hash chain.
func Record(ctx context.Context, idb bun.IDB, c Change) error {
	e := &Event{At: time.Now().UTC(), ObjectType: c.ObjectType, ObjectID: c.ObjectID, Action: c.Action}
	if c.ActorID != 0 {
		e.ActorID = &c.ActorID
	}
	var err error
	if e.BeforeJSON, err = encode(c.Before); err != nil {
		return err
	}
	if e.AfterJSON, err = encode(c.After); err != nil {
		return err
	}
	if _, err := idb.NewInsert().Model(e).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("record audit event %s %s/%s: %w", c.Action, c.ObjectType, c.ObjectID, err)
	}
	return events.Append(ctx, idb, e.ID)
}

// events is the hash chain over the audit trail.
var events = &Chain{Name: "audit_events", Noun: "audit event", Contents: eventContents}

// eventContents encodes each event with all its columns, the id included,
// so that a row moved to another id breaks the chain too.
func eventContents(ctx context.Context, idb bun.IDB, from, to int64) (map[int64][]byte, error) {
	var events []Event
	if err := idb.NewSelect().Model(&events).Where("id BETWEEN ? AND ?", from, to).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read audit events %d to %d: %w", from, to, err)
	}
	contents := make(map[int64][]byte, len(events))
	for _, e := range events {
		b, err := json.Marshal(struct {
			ID         int64   `json:"id"`
			At         string  `json:"at"`
			ActorID    *int64  `json:"actor_id"`
			ObjectType string  `json:"object_type"`
			ObjectID   string  `json:"object_id"`
			Action     string  `json:"action"`
			BeforeJSON *string `json:"before_json"`
			AfterJSON  *string `json:"after_json"`
		}{e.ID, e.At.UTC().Format(time.RFC3339Nano), e.ActorID, e.ObjectType, e.ObjectID, e.Action, e.BeforeJSON, e.AfterJSON})
		if err != nil {
			return nil, fmt.Errorf("encode audit event %d: %w", e.ID, err)
		}
		contents[e.ID] = b
	}
	return contents, nil
}

// Verify checks the hash chain over the audit trail and returns a sentence
// for each break, naming the event.
func Verify(ctx context.Context, idb bun.IDB) ([]string, error) {
	return events.Verify(ctx, idb)
}

// ListFor returns the events of one object, oldest first.
func ListFor(ctx context.Context, idb bun.IDB, objectType, objectID string) ([]Event, error) {
	var events []Event
	err := idb.NewSelect().Model(&events).
		Where("object_type = ? AND object_id = ?", objectType, objectID).
		OrderExpr("id ASC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list audit events of %s/%s: %w", objectType, objectID, err)
	}
	return events, nil
}

func encode(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode audit state: %w", err)
	}
	s := string(b)
	return &s, nil
}
