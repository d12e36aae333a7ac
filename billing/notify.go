package billing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/notify"
)

// tellDispute records, in tx, that a dispute on charge c was raised or
// settled; notify.Rules says who hears it.
func tellDispute(ctx context.Context, tx bun.Tx, kind notify.Kind, d *Dispute, c *Charge, actorID int64, note string, now time.Time) error {
	args := map[string]string{"ref": fmt.Sprintf("#%d", d.ID), "title": d.Reason}
	if c.RequestID != nil {
		args["request_id"] = strconv.FormatInt(*c.RequestID, 10)
	}
	if note != "" {
		args["note"] = note
	}
	_, err := notify.Record(ctx, tx, notify.Event{Kind: kind, ObjectID: d.ID, ActorID: actorID,
		Parties: notify.Parties{RaiserID: d.RaisedBy, ConsumerUnitID: c.ConsumerUnitID}, Args: args, At: now})
	return err
}

// tellAdjustment records, in tx, that adjustment a waits for a second
// finance user.
func tellAdjustment(ctx context.Context, tx bun.Tx, a *Adjustment, now time.Time) error {
	_, err := notify.Record(ctx, tx, notify.Event{Kind: notify.AdjustmentWaiting, ObjectID: a.ID, ActorID: a.CreatedBy,
		Parties: notify.Parties{MakerID: a.CreatedBy}, Args: map[string]string{"ref": fmt.Sprintf("#%d", a.ID), "title": a.Reason}, At: now})
	return err
}
