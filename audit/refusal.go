package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// A refused attempt to move money or the rights over it stays on record,
// although the transaction it ran in rolls back: a rule returns a refusal
// (the fault the caller sees and the audit event naming the attempt), and
// InTx records the event after the rollback, in a transaction of its own.

// refusal is a fault that also carries the audit event of the refused attempt.
type refusal struct {
	fault *fault.Error
	event Change
}

func (r *refusal) Error() string { return r.fault.Message }
func (r *refusal) Unwrap() error { return r.fault }

// refusedAttempt is what the trail keeps of a refusal.
type refusedAttempt struct {
	Attempt string `json:"attempt"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Object  any    `json:"object"`
}

// Refuse returns f, a fault with a "reason" detail, as a refusal of attempt
// on the object, which InTx records as an event "refuse". Anything else than
// a fault is returned as it is.
func Refuse(actorID int64, objectType, objectID, attempt string, object any, f error) error {
	fe, ok := fault.As(f)
	if !ok {
		return f
	}
	reason, _ := fe.Details["reason"].(string)
	return &refusal{fault: fe, event: Change{ActorID: actorID, ObjectType: objectType, ObjectID: objectID,
		Action: "refuse", After: refusedAttempt{Attempt: attempt, Reason: reason, Message: fe.Message, Object: object}}}
}

// InTx runs fn in one transaction of d, as d.InTx does. When fn returns a
// refusal (see Refuse), the refusal is recorded in the audit trail once fn's
// transaction has rolled back. Every operation whose rules refuse with
// Refuse runs through it.
func InTx(ctx context.Context, d *db.DB, fn func(tx bun.Tx) error) error {
	err := d.InTx(ctx, fn)
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	if rerr := d.InTx(ctx, func(tx bun.Tx) error { return Record(ctx, tx, r.event) }); rerr != nil {
		return fmt.Errorf("record the refusal %q: %w", r.fault.Message, rerr)
	}
	return err
}
