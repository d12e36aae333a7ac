package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// netOfCharge is a charge's amount less the credit of an accepted dispute,
// over charges c LEFT JOIN disputes d (accepted ones only).
const netOfCharge = "c.amount_minor - COALESCE(d.credit_minor, 0)"

// charges selects the charges of the range's periods with their accepted
// credits.
func charges(idb bun.IDB, rng Range) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("charges AS c").
		Join("LEFT JOIN disputes AS d ON d.charge_id = c.id AND d.status = 'accepted'").
		Where("c.period >= ? AND c.period <= ?", rng.From, rng.To)
}

// SpendRow is what one consumer unit was charged for one service in one
// month (accounting period).
type SpendRow struct {
	Month    string
	Consumer UnitRef
	Provider UnitRef
	Service  ServiceRef
	Charges  int64 // how many charges
	// ChargedMinor is their amounts, CreditedMinor the credits of accepted
	// disputes on them, NetMinor the difference; ShowbackMinor is the part
	// of the net shown to a showback unit but never billed.
	ChargedMinor, CreditedMinor, NetMinor, ShowbackMinor int64
}

// Spend is the spend report of a range.
type Spend struct {
	Range    Range
	Currency string
	Rows     []SpendRow
}

// SpendReport computes what each consumer unit was charged per service and
// month in rng; a row shows when the scope sees its consumer or its provider.
func SpendReport(ctx context.Context, idb bun.IDB, scope Scope, rng Range, currency string) (*Spend, error) {
	s := &Spend{Range: rng, Currency: currency, Rows: []SpendRow{}}
	if scope.empty() {
		return s, nil
	}
	q := charges(idb, rng).
		ColumnExpr("c.period AS month, c.consumer_unit_id AS consumer, c.provider_unit_id AS provider, c.service_id AS service").
		ColumnExpr("COUNT(*) AS charges, CAST(SUM(c.amount_minor) AS BIGINT) AS charged").
		ColumnExpr("CAST(COALESCE(SUM(d.credit_minor), 0) AS BIGINT) AS credited").
		ColumnExpr("CAST(SUM(CASE WHEN c.showback THEN " + netOfCharge + " ELSE 0 END) AS BIGINT) AS showback").
		GroupExpr("c.period, c.consumer_unit_id, c.provider_unit_id, c.service_id")
	if scope.ProviderUnitID != 0 {
		q = q.Where("c.provider_unit_id = ?", scope.ProviderUnitID)
	}
	if scope.ConsumerUnitID != 0 {
		q = q.Where("c.consumer_unit_id = ?", scope.ConsumerUnitID)
	}
	if !scope.OrgWide {
		q = q.Where("(c.consumer_unit_id IN (?) OR c.provider_unit_id IN (?))", bun.In(scope.UnitIDs), bun.In(scope.UnitIDs))
	}
	var rows []struct {
		Month                                                             string
		Consumer, Provider, Service, Charges, Charged, Credited, Showback int64
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("spend report: %w", err)
	}
	var unitIDs, serviceIDs []int64
	for _, r := range rows {
		unitIDs = append(unitIDs, r.Consumer, r.Provider)
		serviceIDs = append(serviceIDs, r.Service)
	}
	names, err := loadNames(ctx, idb, unitIDs, serviceIDs)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		s.Rows = append(s.Rows, SpendRow{Month: r.Month, Consumer: names.unit(r.Consumer), Provider: names.unit(r.Provider),
			Service: names.service(r.Service), Charges: r.Charges, ChargedMinor: r.Charged, CreditedMinor: r.Credited,
			NetMinor: r.Charged - r.Credited, ShowbackMinor: r.Showback})
	}
	slices.SortFunc(s.Rows, func(a, b SpendRow) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), a.Consumer.compare(b.Consumer), a.Provider.compare(b.Provider),
			cmp.Compare(a.Service.Code, b.Service.Code), cmp.Compare(a.Service.ID, b.Service.ID))
	})
	return s, nil
}
