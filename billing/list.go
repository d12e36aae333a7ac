package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// ChargeFilter selects charges within the viewer's scope.
type ChargeFilter struct {
	Period         string
	ConsumerUnitID int64
	ProviderUnitID int64
	ServiceID      int64
	Status         string
	AfterID        int64
	Limit          int
}

// ListCharges returns the charges in the viewer's scope (Viewer.ChargeScope)
// in id order after the cursor. A viewer who reads no charge at all finds
// no charges to list.
func ListCharges(ctx context.Context, idb bun.IDB, v Viewer, f ChargeFilter) ([]Charge, error) {
	scope := v.ChargeScope()
	if scope.None() {
		return nil, fault.NotFound("charges")
	}
	var rows []Charge
	q := idb.NewSelect().Model(&rows).Where("c.id > ?", f.AfterID).OrderExpr("c.id").Limit(int64(f.Limit))
	if !scope.All {
		q = q.Where("(c.consumer_unit_id IN (?) OR c.provider_unit_id IN (?))", bun.In(scope.UnitIDs), bun.In(scope.UnitIDs))
	}
	if f.Period != "" {
		q = q.Where("c.period = ?", f.Period)
	}
	if f.ConsumerUnitID != 0 {
		q = q.Where("c.consumer_unit_id = ?", f.ConsumerUnitID)
	}
	if f.ProviderUnitID != 0 {
		q = q.Where("c.provider_unit_id = ?", f.ProviderUnitID)
	}
	if f.ServiceID != 0 {
		q = q.Where("c.service_id = ?", f.ServiceID)
	}
	if f.Status != "" {
		q = q.Where("c.status = ?", f.Status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list charges: %w", err)
	}
	return rows, nil
}

// DisputeOf returns the dispute on a charge, or nil.
func DisputeOf(ctx context.Context, idb bun.IDB, chargeID int64) (*Dispute, error) {
	found, err := DisputesOf(ctx, idb, []int64{chargeID})
	if err != nil {
		return nil, err
	}
	return found[chargeID], nil
}

// DisputesOf returns the disputes on the given charges (a charge has at
// most one), by charge id, in one query.
func DisputesOf(ctx context.Context, idb bun.IDB, chargeIDs []int64) (map[int64]*Dispute, error) {
	found := make(map[int64]*Dispute, len(chargeIDs))
	if len(chargeIDs) == 0 {
		return found, nil
	}
	var rows []Dispute
	if err := idb.NewSelect().Model(&rows).Where("d.charge_id IN (?)", bun.In(chargeIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("disputes of %d charges: %w", len(chargeIDs), err)
	}
	for i := range rows {
		found[rows[i].ChargeID] = &rows[i]
	}
	return found, nil
}

// ListDisputes returns disputes, optionally only those with status, in id
// order after the cursor.
func ListDisputes(ctx context.Context, idb bun.IDB, status string, afterID int64, limit int) ([]Dispute, error) {
	var rows []Dispute
	q := idb.NewSelect().Model(&rows).Where("d.id > ?", afterID).OrderExpr("d.id").Limit(int64(limit))
	if status != "" {
		q = q.Where("d.status = ?", status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list disputes: %w", err)
	}
	return rows, nil
}
