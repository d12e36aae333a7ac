package requests

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/money"
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
	return tellWith(ctx, tx, kind, r, actorID, note, now, "", nil)
}

// tellWith is tell with a key for a scheduled notice (told once per key)
// and further words.
func tellWith(ctx context.Context, tx bun.Tx, kind notify.Kind, r *Request, actorID int64, note string, now time.Time,
	key string, extra map[string]string) error {
	p := notify.Parties{RequesterID: r.RequesterID, FilerID: r.CreatedBy, ConsumerUnitID: r.ConsumerUnitID, ProviderUnitID: r.ProviderUnitID}
	if r.AssigneeID != nil {
		p.AssigneeID = *r.AssigneeID
	}
	args := map[string]string{"ref": r.Number(), "title": r.Title, "request_id": strconv.FormatInt(r.ID, 10)}
	if note != "" {
		args["note"] = excerpt(note, 1000)
	}
	for k, v := range extra {
		args[k] = v
	}
	_, err := notify.Record(ctx, tx, notify.Event{Kind: kind, ObjectID: r.ID, ActorID: actorID, Parties: p, Args: args, At: now, Key: key})
	return err
}

// tellOverrun tells the approvers when the time just logged made the
// fulfilment of r (as it was before) cost more than its estimate beyond
// the tolerance, so that resolving now waits for their approval. Only the
// crossing is told, not every entry after it.
func tellOverrun(ctx context.Context, tx bun.Tx, before *Request, actorID int64, now time.Time) error {
	if before.OverrunWaits() {
		return nil
	}
	after, err := get(ctx, tx, before.ID)
	if err != nil {
		return err
	}
	if !after.OverrunWaits() {
		return nil
	}
	o := after.Overrun
	note := fmt.Sprintf("%s / %s", money.Money{Minor: o.AmountMinor, Currency: o.Currency}, money.Money{Minor: o.EstimateMinor, Currency: o.Currency})
	return tell(ctx, tx, notify.OverrunWaiting, after, actorID, note, now)
}

// excerpt cuts s to at most n runes.
func excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
