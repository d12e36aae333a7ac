package units

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// A refused attempt on roles or passwords stays on record, although the
// transaction it ran in rolls back: the rules here return a refusal (the
// fault the caller sees and the audit event naming the attempt), and InTx
// records the event after the rollback, in a transaction of its own.

// refusal is a fault that also carries the audit event of the refused attempt.
type refusal struct {
	fault *fault.Error
	event audit.Change
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

// refuse returns f, which carries a "reason" detail, as a refusal of
// attempt on the object.
func refuse(actorID int64, objectType, objectID, attempt string, object any, f *fault.Error) error {
	reason, _ := f.Details["reason"].(string)
	return &refusal{fault: f, event: audit.Change{ActorID: actorID, ObjectType: objectType, ObjectID: objectID,
		Action: "refuse", After: refusedAttempt{Attempt: attempt, Reason: reason, Message: f.Message, Object: object}}}
}

// forbidden is a 403 fault with a machine-readable reason.
func forbidden(reason, format string, args ...any) *fault.Error {
	return fault.Forbidden(format, args...).With("reason", reason)
}

// InTx runs fn in one transaction of d, as d.InTx does. When fn is refused
// by a rule of this package (a self-grant, a money role without its second
// person, roles that never sit together, a money-role holder's password),
// the refusal is recorded in the audit trail once fn's transaction has
// rolled back. Every surface runs grants, proposals, their decisions and
// user changes through it.
func InTx(ctx context.Context, d *db.DB, fn func(tx bun.Tx) error) error {
	err := d.InTx(ctx, fn)
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	if rerr := d.InTx(ctx, func(tx bun.Tx) error { return audit.Record(ctx, tx, r.event) }); rerr != nil {
		return fmt.Errorf("record the refusal %q: %w", r.fault.Message, rerr)
	}
	return err
}
