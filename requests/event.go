package requests

import (
	"context"
	"fmt"
	"time"

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
	return nil
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
