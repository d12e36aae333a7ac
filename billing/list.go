package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// ChargeFilter selects charges. UnitIDs limits them to charges whose
// consumer or provider is one of those units, unless OrgWide.
type ChargeFilter struct {
	OrgWide        bool
	UnitIDs        []int64
	Period         string
	ConsumerUnitID int64
	ProviderUnitID int64
	ServiceID      int64
	Status         string
	AfterID        int64
	Limit          int
}

// ListCharges returns charges in id order after the cursor.
func ListCharges(ctx context.Context, idb bun.IDB, f ChargeFilter) ([]Charge, error) {
	var rows []Charge
	q := idb.NewSelect().Model(&rows).Where("c.id > ?", f.AfterID).OrderExpr("c.id").Limit(int64(f.Limit))
	if !f.OrgWide {
		if len(f.UnitIDs) == 0 {
			return nil, nil
		}
		q = q.Where("(c.consumer_unit_id IN (?) OR c.provider_unit_id IN (?))", bun.In(f.UnitIDs), bun.In(f.UnitIDs))
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
