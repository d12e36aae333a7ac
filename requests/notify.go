package requests

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/notify"
)

// actionKinds says which lifecycle actions people hear about; the rules of
// who hears each are notify.Rules.
var actionKinds = map[string]notify.Kind{
	"approve": notify.RequestApproved,
	"reject":  notify.RequestRejected,
	"wait":    notify.WaitingOnCustomer,
	"resolve": notify.RequestResolved,
	"assign":  notify.RequestAssigned,
}

// tell records, in tx, that kind happened to r, with note as its words
// (a reason, a question, a comment's text).
func tell(ctx context.Context, tx bun.Tx, kind notify.Kind, r *Request, actorID int64, note string, now time.Time) error {
	p := notify.Parties{RequesterID: r.RequesterID, FilerID: r.CreatedBy, ConsumerUnitID: r.ConsumerUnitID}
	if r.AssigneeID != nil {
		p.AssigneeID = *r.AssigneeID
	}
	args := map[string]string{"ref": r.Number(), "title": r.Title, "request_id": strconv.FormatInt(r.ID, 10)}
	if note != "" {
		args["note"] = excerpt(note, 1000)
	}
	_, err := notify.Record(ctx, tx, notify.Event{Kind: kind, ObjectID: r.ID, ActorID: actorID, Parties: p, Args: args, At: now})
	return err
}

// excerpt cuts s to at most n runes.
func excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
