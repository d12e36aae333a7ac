package requests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// Feedback is the requester's rating of how a request was handled; each
// request gets at most one.
type Feedback struct {
	bun.BaseModel `bun:"table:request_feedback"`

	RequestID int64     `bun:"request_id,pk"`
	AuthorID  int64     `bun:"author_id"`
	Rating    int       `bun:"rating"`
	Comment   string    `bun:"comment"`
	CreatedAt time.Time `bun:"created_at"`
}

// GiveFeedback records the requester's rating, 1 to 5, once the request is
// resolved or closed. A second rating is a conflict.
func GiveFeedback(ctx context.Context, tx bun.Tx, v Viewer, requestID int64, rating int, comment string, now time.Time) (*Feedback, error) {
	r, err := Get(ctx, tx, v, requestID)
	if err != nil {
		return nil, err
	}
	if v.partiesOf(r)&asRequester == 0 {
		return nil, fault.Forbidden("only the requester rates a request")
	}
	if rating < 1 || rating > 5 {
		return nil, fault.Invalid("rating", "rating must be from 1 to 5")
	}
	if err := fault.Text("comment", comment, 0, 4000, true); err != nil {
		return nil, err
	}
	if r.Status != Resolved && r.Status != Closed {
		return nil, fault.Conflict("not_resolved", "a request is rated once it is resolved; this one is %s", fault.Term{Group: "status", Name: string(r.Status)}).
			With("status", string(r.Status))
	}
	exists, err := tx.NewSelect().Model((*Feedback)(nil)).Where("request_id = ?", r.ID).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("find feedback on request %d: %w", r.ID, err)
	}
	alreadyRated := fault.Conflict("already_rated", "this request has already been rated")
	if exists {
		return nil, alreadyRated
	}
	f := &Feedback{RequestID: r.ID, AuthorID: v.UserID, Rating: rating, Comment: comment, CreatedAt: now}
	if _, err := tx.NewInsert().Model(f).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, alreadyRated
		}
		return nil, fmt.Errorf("rate request %d: %w", r.ID, err)
	}
	if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: "feedback",
		Note: fmt.Sprintf("rated %d of 5", rating)}); err != nil {
		return nil, err
	}
	return f, nil
}

// GetFeedback returns the rating of a request the viewer may see.
func GetFeedback(ctx context.Context, idb bun.IDB, v Viewer, requestID int64) (*Feedback, error) {
	r, err := Get(ctx, idb, v, requestID)
	if err != nil {
		return nil, err
	}
	f := new(Feedback)
	if err := idb.NewSelect().Model(f).Where("request_id = ?", r.ID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("feedback")
		}
		return nil, fmt.Errorf("feedback on request %d: %w", r.ID, err)
	}
	return f, nil
}
