package billing

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// ChargeStatuses is every status a charge can have, in the order a charge
// goes through them: the one list every surface offers and checks.
func ChargeStatuses() []string { return []string{ChargePosted, ChargeDisputed, ChargeCredited} }

// MaxChargeLimit is the most charges one ListCharges call returns.
const MaxChargeLimit = 1000

// ChargeQuery is a charge filter as typed in a query string or a form;
// empty fields filter nothing.
type ChargeQuery struct {
	Period, Status                            string
	ConsumerUnitID, ProviderUnitID, ServiceID string
}

// Filter parses and checks the query. Each bad field is one fault naming
// it (in the order of ChargeQuery) and is left out of the filter, so a page
// can show the rest while saying what was wrong.
func (q ChargeQuery) Filter() (ChargeFilter, []*fault.Error) {
	f := ChargeFilter{Period: q.Period, Status: q.Status}
	faults := f.checkPeriodAndStatus()
	for _, e := range faults {
		switch e.Details["field"] {
		case "period":
			f.Period = ""
		case "status":
			f.Status = ""
		}
	}
	for _, id := range []struct {
		field, raw string
		into       *int64
	}{{"consumer_unit_id", q.ConsumerUnitID, &f.ConsumerUnitID}, {"provider_unit_id", q.ProviderUnitID, &f.ProviderUnitID},
		{"service_id", q.ServiceID, &f.ServiceID}} {
		if id.raw == "" {
			continue
		}
		n, err := strconv.ParseInt(id.raw, 10, 64)
		if err != nil || n <= 0 {
			faults = append(faults, fault.Invalid(id.field, "%s must be an id such as \"42\"", id.field))
			continue
		}
		*id.into = n
	}
	return f, faults
}

// ChargeFilter selects charges within the viewer's scope. Zero fields
// filter nothing; Limit is 1 to MaxChargeLimit.
type ChargeFilter struct {
	Period         string
	ConsumerUnitID int64
	ProviderUnitID int64
	ServiceID      int64
	Status         string
	AfterID        int64
	Limit          int
}

// Validate checks the filter; the first fault names its field.
func (f ChargeFilter) Validate() error {
	if faults := f.checkPeriodAndStatus(); len(faults) > 0 {
		return faults[0]
	}
	for _, id := range []struct {
		field string
		value int64
	}{{"consumer_unit_id", f.ConsumerUnitID}, {"provider_unit_id", f.ProviderUnitID}, {"service_id", f.ServiceID}, {"cursor", f.AfterID}} {
		if id.value < 0 {
			return fault.Invalid(id.field, "%s must be an id such as \"42\"", id.field)
		}
	}
	if f.Limit < 1 || f.Limit > MaxChargeLimit {
		return fault.Invalid("limit", "limit must be a whole number from 1 to %d", MaxChargeLimit)
	}
	return nil
}

func (f ChargeFilter) checkPeriodAndStatus() []*fault.Error {
	var faults []*fault.Error
	if f.Period != "" {
		if err := CheckMonth(f.Period); err != nil {
			faults = append(faults, fault.Invalid("period", "period must be a month such as 2026-11"))
		}
	}
	if f.Status != "" && !slices.Contains(ChargeStatuses(), f.Status) {
		faults = append(faults, fault.Invalid("status", "status must be one of %s", strings.Join(ChargeStatuses(), ", ")))
	}
	return faults
}

// ListCharges returns the charges in the viewer's scope (Viewer.ChargeScope)
// that pass the filter, in id order after the cursor. A viewer who reads no
// charge at all finds no charges to list.
func ListCharges(ctx context.Context, idb bun.IDB, v Viewer, f ChargeFilter) ([]Charge, error) {
	scope := v.ChargeScope()
	if scope.None() {
		return nil, fault.NotFound("charges")
	}
	if err := f.Validate(); err != nil {
		return nil, err
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
