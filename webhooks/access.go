package webhooks

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// Keeper is the person who lists, creates and deletes subscriptions, with
// the access rules that say where: a unit's managers (webhook:manage, also
// in every unit below theirs) keep its subscriptions, admins (webhook:manage
// organisation-wide) the organisation's and every unit's. Every surface
// goes through it, so the API and the portal decide alike.
//
// Not found or forbidden is decided here: a subscription the keeper may
// not keep is not found, as if it did not exist; listing or creating for a
// unit (or the organisation) they do not keep is forbidden.
type Keeper struct {
	UserID int64
	Authz  *policies.Authorizer
}

// Keeps reports whether the keeper keeps the subscriptions of unitID (0:
// the organisation's).
func (k Keeper) Keeps(unitID int64) bool {
	return k.Authz != nil && k.Authz.Can(k.UserID, unitID, "webhook", "manage")
}

// Anywhere reports whether the keeper keeps any subscriptions at all.
func (k Keeper) Anywhere() bool {
	if k.Authz == nil {
		return false
	}
	unitIDs, orgWide := k.Authz.UnitsWhere(k.UserID, "webhook", "manage")
	return orgWide || len(unitIDs) > 0
}

func (k Keeper) mayKeep(ctx context.Context, idb bun.IDB, unitID int64) error {
	if !k.Keeps(unitID) {
		if unitID == 0 {
			return fault.Forbidden("only admins keep the organisation's webhooks")
		}
		return fault.Forbidden("only the unit's managers and admins keep its webhooks")
	}
	if unitID != 0 {
		if _, err := units.GetUnit(ctx, idb, unitID); err != nil {
			return err
		}
	}
	return nil
}

// CreateAs stores the subscription a keeper of in.UnitID asks for; see
// Store.Create.
func (s *Store) CreateAs(ctx context.Context, tx bun.Tx, k Keeper, in Input, now time.Time) (*Subscription, error) {
	if err := k.mayKeep(ctx, tx, in.UnitID); err != nil {
		return nil, err
	}
	return s.Create(ctx, tx, k.UserID, in, now)
}

// ListAs lists the subscriptions of unitID (0: the organisation) for their
// keeper.
func ListAs(ctx context.Context, idb bun.IDB, k Keeper, unitID int64) ([]*Subscription, error) {
	if err := k.mayKeep(ctx, idb, unitID); err != nil {
		return nil, err
	}
	return List(ctx, idb, unitID)
}

// GetAs returns a live subscription the keeper keeps; any other is not
// found.
func GetAs(ctx context.Context, idb bun.IDB, k Keeper, id int64) (*Subscription, error) {
	sub, err := Get(ctx, idb, id)
	if err != nil {
		return nil, err
	}
	if !k.Keeps(sub.Scope()) {
		return nil, fault.NotFound("webhook subscription")
	}
	return sub, nil
}

// DeleteAs ends a subscription the keeper keeps, audited.
func DeleteAs(ctx context.Context, tx bun.Tx, k Keeper, id int64, now time.Time) (*Subscription, error) {
	sub, err := GetAs(ctx, tx, k, id)
	if err != nil {
		return nil, err
	}
	return sub, Delete(ctx, tx, k.UserID, sub, now)
}

// DeliveriesAs lists the attempts of a subscription the keeper keeps,
// newest first, below beforeID when it is not 0.
func DeliveriesAs(ctx context.Context, idb bun.IDB, k Keeper, id, beforeID int64, limit int) (*Subscription, []Delivery, error) {
	sub, err := GetAs(ctx, idb, k, id)
	if err != nil {
		return nil, nil, err
	}
	rows, err := Deliveries(ctx, idb, sub.ID, beforeID, limit)
	return sub, rows, err
}

// Scope is the subscription's unit id, 0 for the organisation.
func (s *Subscription) Scope() int64 {
	if s.UnitID == nil {
		return 0
	}
	return *s.UnitID
}
