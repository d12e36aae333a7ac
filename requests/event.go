package requests

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tiski/tiski/audit"
	"github.com/uptrace/bun"
)

// Event is one immutable entry of a request's timeline.
type Event struct {
	bun.BaseModel `bun:"table:request_events"`

	ID         int64     `bun:"id,pk,autoincrement"`
	RequestID  int64     `bun:"request_id"`
	At         time.Time `bun:"at"`
	ActorID    *int64    `bun:"actor_id"`
	Action     string    `bun:"action"`
	FromStatus *Status   `bun:"from_status"`
	ToStatus   *Status   `bun:"to_status"`
	Note       string    `bun:"note"`
	Internal   bool      `bun:"internal"`
}

func recordEvent(ctx context.Context, idb bun.IDB, e Event) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if _, err := idb.NewInsert().Model(&e).Exec(ctx); err != nil {
		return fmt.Errorf("record %s event on request %d: %w", e.Action, e.RequestID, err)
	}
	if e.ToStatus == nil {
		return nil
	}
	// A move of the lifecycle (the order itself, approval, resolution that
	// posts the charge, closing, …) is also in the audit trail, so a
	// charge's trail reads from its order to its close. Only the statuses
	// go there: a note may be internal.
	var actor int64
	if e.ActorID != nil {
		actor = *e.ActorID
	}
	type status struct{ Status Status }
	c := audit.Change{ActorID: actor, ObjectType: "request", ObjectID: strconv.FormatInt(e.RequestID, 10), Action: e.Action,
		After: status{*e.ToStatus}}
	if e.FromStatus != nil {
		c.Before = status{*e.FromStatus}
	}
	return audit.Record(ctx, idb, c)
}

// Events returns the timeline of a request the viewer may see; internal
// events only for the provider side.
func Events(ctx context.Context, idb bun.IDB, v Viewer, requestID int64) ([]Event, error) {
	r, err := Get(ctx, idb, v, requestID)
	if err != nil {
		return nil, err
	}
	var events []Event
	q := idb.NewSelect().Model(&events).Where("request_id = ?", requestID).OrderExpr("id ASC")
	if !v.SeesInternal(r) {
		q = q.Where("internal = ?", false)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("events of request %d: %w", requestID, err)
	}
	return events, nil
}

func statusPtr(s Status) *Status { return &s }

func actorPtr(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
