package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/units"
)

// Event is what happened, as the change that caused it describes it.
type Event struct {
	Kind     Kind
	ObjectID int64 // of the rule's object type
	ActorID  int64 // 0 for the system
	Parties  Parties
	// Internal marks an event about the provider side's internal matters:
	// it reaches the provider side only.
	Internal bool
	// Args are the words of the message: "ref" (a request number such as
	// REQ-000012), "title", and optionally "note" (a reason, a question,
	// a comment) and "request_id" for the link of a dispute.
	Args map[string]string
	At   time.Time
	// Key, when set, names what a scheduled notice is about (such as
	// "sla_breached:resolution:12"): an event with a key already recorded
	// is not recorded again, so sweepers running at once tell it once.
	Key string
}

// Parties are the people and the unit an event concerns; the rules pick
// the audiences from them.
type Parties struct {
	RequesterID    int64
	FilerID        int64
	AssigneeID     int64
	ConsumerUnitID int64
	RaiserID       int64
	MakerID        int64
	// ProviderUnitID is the unit that serves the request or the charge, so
	// that its webhooks hear of the event even when it is internal.
	ProviderUnitID int64
	// RecipientID is the one person a personal notice (a digest) is for.
	RecipientID int64
}

// StoredEvent is an event as kept.
type StoredEvent struct {
	bun.BaseModel `bun:"table:notification_events,alias:ne"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Kind       Kind      `bun:"kind"`
	ObjectType string    `bun:"object_type"`
	ObjectID   int64     `bun:"object_id"`
	ActorID    *int64    `bun:"actor_id"`
	ArgsJSON   string    `bun:"args_json"`
	At         time.Time `bun:"at"`
	EventKey   *string   `bun:"event_key"`
}

// Args decodes the event's words.
func (e StoredEvent) Args() map[string]string {
	args := map[string]string{}
	_ = json.Unmarshal([]byte(e.ArgsJSON), &args)
	return args
}

// Record stores ev inside tx and tells its recipients: an in-app
// notification each and, unless they turned e-mail off for its kind, an
// e-mail in the outbox. It returns the recipients' ids, sorted.
func Record(ctx context.Context, tx bun.IDB, ev Event) ([]int64, error) {
	rule, ok := RuleFor(ev.Kind)
	if !ok {
		return nil, fmt.Errorf("notify: no rule for kind %q", ev.Kind)
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	at := ev.At.UTC()
	recipients, err := recipientsOf(ctx, tx, rule, ev)
	if err != nil {
		return nil, err
	}
	args, err := json.Marshal(ev.Args)
	if err != nil {
		return nil, fmt.Errorf("notify: encode args: %w", err)
	}
	stored := &StoredEvent{Kind: ev.Kind, ObjectType: rule.Object, ObjectID: ev.ObjectID, ArgsJSON: string(args), At: at}
	if ev.ActorID != 0 {
		stored.ActorID = &ev.ActorID
	}
	q := tx.NewInsert().Model(stored).Returning("id")
	if ev.Key != "" {
		stored.EventKey = &ev.Key
		q = q.On("CONFLICT (event_key) DO NOTHING")
	}
	if _, err := q.Exec(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("notify: record %s event: %w", ev.Kind, err)
	}
	if stored.ID == 0 {
		return nil, nil // recorded before, under the same key
	}
	if err := enqueueWebhooks(ctx, tx, stored, ev); err != nil {
		return nil, err
	}
	if len(recipients) == 0 {
		return nil, nil
	}
	off, err := emailOff(ctx, tx, recipients, ev.Kind)
	if err != nil {
		return nil, err
	}
	for _, userID := range recipients {
		n := &Notification{EventID: stored.ID, UserID: userID, CreatedAt: at}
		if _, err := tx.NewInsert().Model(n).Exec(ctx); err != nil {
			return nil, fmt.Errorf("notify: notify user %d of %s: %w", userID, ev.Kind, err)
		}
		if off[userID] {
			continue
		}
		if err := outbox.Enqueue(ctx, tx, outbox.ChannelEmail, stored.ID, userID, at); err != nil {
			return nil, err
		}
	}
	return recipients, nil
}

// recipientsOf resolves the rule's audiences for ev: enabled users only,
// each once, without the actor (unless the rule is a receipt), the maker
// (when the rule says so), and, for an internal event, without anyone on
// the consumer side.
func recipientsOf(ctx context.Context, idb bun.IDB, rule Rule, ev Event) ([]int64, error) {
	p := ev.Parties
	var ids []int64
	for _, a := range rule.To {
		if ev.Internal && !providerSide[a] {
			continue
		}
		switch a {
		case Requester:
			ids = append(ids, p.RequesterID)
		case Assignee:
			ids = append(ids, p.AssigneeID)
		case Raiser:
			ids = append(ids, p.RaiserID)
		case AssigneeElseProviderManagers:
			if p.AssigneeID != 0 {
				ids = append(ids, p.AssigneeID)
				continue
			}
			managers, err := managersOf(ctx, idb, p.ProviderUnitID)
			if err != nil {
				return nil, err
			}
			ids = append(ids, managers...)
		case ProviderAgents:
			var agents []int64
			if p.ProviderUnitID != 0 {
				if err := idb.NewSelect().Table("unit_roles").Column("user_id").
					Where("role = 'agent' AND unit_id = ?", p.ProviderUnitID).Scan(ctx, &agents); err != nil {
					return nil, fmt.Errorf("notify: agents of unit %d: %w", p.ProviderUnitID, err)
				}
			}
			ids = append(ids, agents...)
		case Recipient:
			ids = append(ids, p.RecipientID)
		case Approvers, ConsumerManagers:
			managers, err := managersOf(ctx, idb, p.ConsumerUnitID)
			if err != nil {
				return nil, err
			}
			if a == Approvers {
				managers = slices.DeleteFunc(managers, func(id int64) bool { return id == p.RequesterID || id == p.FilerID })
			}
			ids = append(ids, managers...)
		case Finance:
			var finance []int64
			if err := idb.NewSelect().Table("org_roles").Column("user_id").Where("role = 'finance'").Scan(ctx, &finance); err != nil {
				return nil, fmt.Errorf("notify: finance users: %w", err)
			}
			ids = append(ids, finance...)
		}
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool {
		return id == 0 || (id == ev.ActorID && !rule.Receipt) || (rule.NotMaker && id == p.MakerID)
	})
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	var enabled []int64
	if err := idb.NewSelect().Table("users").Column("id").Where("id IN (?) AND disabled = ?", bun.In(ids), false).
		OrderExpr("id").Scan(ctx, &enabled); err != nil {
		return nil, fmt.Errorf("notify: enabled recipients: %w", err)
	}
	return enabled, nil
}

// managersOf lists the managers of unit and of its ancestors: a manager of
// a parent unit manages its children too.
func managersOf(ctx context.Context, idb bun.IDB, unitID int64) ([]int64, error) {
	if unitID == 0 {
		return nil, nil
	}
	chain, err := units.Ancestors(ctx, idb, unitID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if err := idb.NewSelect().Table("unit_roles").Column("user_id").
		Where("role = 'manager' AND unit_id IN (?)", bun.In(append([]int64{unitID}, chain...))).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("notify: managers of unit %d: %w", unitID, err)
	}
	return ids, nil
}
