package notify

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/units"
)

// enqueueWebhooks puts one webhook message per matching subscription in
// the outbox, in the event's transaction (the webhooks package owns the
// subscriptions and delivers the messages). A subscription matches when it
// hears the event's kind and is the organisation's, or belongs to the
// provider unit or one of its ancestors, or, unless the event is internal,
// to the consumer unit or one of its ancestors: an internal event never
// reaches a consumer-unit subscription.
func enqueueWebhooks(ctx context.Context, tx bun.IDB, stored *StoredEvent, ev Event) error {
	unitIDs, err := withAncestors(ctx, tx, ev.Parties.ProviderUnitID)
	if err != nil {
		return err
	}
	if !ev.Internal {
		consumer, err := withAncestors(ctx, tx, ev.Parties.ConsumerUnitID)
		if err != nil {
			return err
		}
		unitIDs = append(unitIDs, consumer...)
	}
	q := tx.NewSelect().Table("webhook_subscriptions").Column("id").
		Where("deleted_at IS NULL").
		Where("id IN (SELECT subscription_id FROM webhook_subscription_kinds WHERE kind = ?)", string(ev.Kind)).
		OrderExpr("id")
	if len(unitIDs) > 0 {
		q = q.Where("(unit_id IS NULL OR unit_id IN (?))", bun.In(unitIDs))
	} else {
		q = q.Where("unit_id IS NULL")
	}
	var subs []int64
	if err := q.Scan(ctx, &subs); err != nil {
		return fmt.Errorf("notify: webhook subscriptions of %s: %w", ev.Kind, err)
	}
	for _, id := range subs {
		if err := outbox.EnqueueWebhook(ctx, tx, stored.ID, id, stored.At); err != nil {
			return err
		}
	}
	return nil
}

// withAncestors is unit and the units above it; nothing for no unit.
func withAncestors(ctx context.Context, idb bun.IDB, unitID int64) ([]int64, error) {
	if unitID == 0 {
		return nil, nil
	}
	chain, err := units.Ancestors(ctx, idb, unitID)
	if err != nil {
		return nil, err
	}
	return append([]int64{unitID}, chain...), nil
}
