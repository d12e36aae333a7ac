// Package audit appends immutable events to the audit trail: who changed
// what, when, with the state before and after. The table refuses updates and
// deletes by trigger, so the trail only grows.
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

// Record appends c to the trail inside the caller's transaction.
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
	if _, err := idb.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("record audit event %s %s/%s: %w", c.Action, c.ObjectType, c.ObjectID, err)
	}
	return nil
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
