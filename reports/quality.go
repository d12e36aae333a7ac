package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/money"
)

// Metrics are one provider unit's or one service's figures over a range.
type Metrics struct {
	Received int64 // created in the range
	Resolved int64 // resolved in the range
	// FirstResponses had their first response in the range; FirstResponseMet
	// of them by their due time. ResolutionMet counts the resolved ones
	// resolved by their due time.
	FirstResponses, FirstResponseMet int64
	ResolutionMet                    int64
	FirstResponseTimes               Times
	ResolutionTimes                  Times
	// Ratings of the requests resolved in the range, and their sum.
	Ratings, RatingSum int64
	// RecoveredMinor is the net of the non-showback charges of periods in
	// the range, accepted dispute credits taken off.
	RecoveredMinor int64

	firstResponse, resolution durations
}

// FirstResponseAttainment is the share of first responses in the range
// that were on time, in per cent.
func (m *Metrics) FirstResponseAttainment() *Fixed {
	return percent(m.FirstResponseMet, m.FirstResponses)
}

// ResolutionAttainment is the share of resolutions in the range that were
// on time, in per cent.
func (m *Metrics) ResolutionAttainment() *Fixed { return percent(m.ResolutionMet, m.Resolved) }

// AverageRating is the mean rating, two decimals.
func (m *Metrics) AverageRating() *Fixed { return ratio(m.RatingSum, m.Ratings, 1, 2) }

// ResponseRate is the share of resolved requests that were rated, in per cent.
func (m *Metrics) ResponseRate() *Fixed { return percent(m.Ratings, m.Resolved) }

// CostPerRequest is what was recovered per resolved request, rounded
// half-to-even to minor units; nil when nothing was resolved.
func (m *Metrics) CostPerRequest(currency string) (*money.Money, error) {
	if m.Resolved == 0 {
		return nil, nil
	}
	c, err := money.Money{Minor: m.RecoveredMinor, Currency: currency}.MulRatio(1, m.Resolved)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (m *Metrics) add(o *Metrics) {
	m.Received += o.Received
	m.Resolved += o.Resolved
	m.FirstResponses += o.FirstResponses
	m.FirstResponseMet += o.FirstResponseMet
	m.ResolutionMet += o.ResolutionMet
	m.Ratings += o.Ratings
	m.RatingSum += o.RatingSum
	m.RecoveredMinor += o.RecoveredMinor
	m.firstResponse.merge(o.firstResponse)
	m.resolution.merge(o.resolution)
}

func newMetrics() *Metrics {
	return &Metrics{firstResponse: durations{}, resolution: durations{}}
}

// ProviderQuality is a provider unit's row.
type ProviderQuality struct {
	Unit UnitRef
	Metrics
}

// ServiceQuality is a service's row, under the unit that provided it.
type ServiceQuality struct {
	Service  ServiceRef
	Provider UnitRef
	Metrics
}

// ConsumerQuality is a consumer unit's row: what it ordered, spent and
// thought of what it got.
type ConsumerQuality struct {
	Unit       UnitRef
	Received   int64 // requests it filed in the range
	Resolved   int64 // its requests resolved in the range
	Ratings    int64 // of those, the rated ones
	RatingSum  int64
	SpendMinor int64 // the net of its charges of periods in the range, showback included
}

// AverageRating is the mean rating the unit gave, two decimals.
func (c *ConsumerQuality) AverageRating() *Fixed { return ratio(c.RatingSum, c.Ratings, 1, 2) }

// ResponseRate is the share of its resolved requests it rated, in per cent.
func (c *ConsumerQuality) ResponseRate() *Fixed { return percent(c.Ratings, c.Resolved) }

// Quality is the quality report of a range.
type Quality struct {
	Range     Range
	Currency  string
	Providers []ProviderQuality
	Services  []ServiceQuality
	Consumers []ConsumerQuality
}

// serviceKey is a service under one provider: a request keeps the provider
// it was filed with.
type serviceKey struct{ provider, service int64 }

// QualityReport computes the quality report of rng as the scope allows.
// Amounts are in currency, the organisation's.
func QualityReport(ctx context.Context, idb bun.IDB, scope Scope, rng Range, currency string) (*Quality, error) {
	q := &Quality{Range: rng, Currency: currency, Providers: []ProviderQuality{}, Services: []ServiceQuality{},
		Consumers: []ConsumerQuality{}}
	if scope.empty() {
		return q, nil
	}
	services := map[serviceKey]*Metrics{}
	metricsOf := func(k serviceKey) *Metrics {
		m, ok := services[k]
		if !ok {
			m = newMetrics()
			services[k] = m
		}
		return m
	}
	if err := providerFigures(ctx, idb, scope, rng, metricsOf); err != nil {
		return nil, err
	}
	consumers, err := consumerFigures(ctx, idb, scope, rng)
	if err != nil {
		return nil, err
	}

	var unitIDs, serviceIDs []int64
	providers := map[int64]*Metrics{}
	for k, m := range services {
		p, ok := providers[k.provider]
		if !ok {
			p = newMetrics()
			providers[k.provider] = p
			unitIDs = append(unitIDs, k.provider)
		}
		p.add(m)
		serviceIDs = append(serviceIDs, k.service)
	}
	for id := range consumers {
		unitIDs = append(unitIDs, id)
	}
	names, err := loadNames(ctx, idb, unitIDs, serviceIDs)
	if err != nil {
		return nil, err
	}
	for id, m := range providers {
		m.FirstResponseTimes, m.ResolutionTimes = m.firstResponse.times(), m.resolution.times()
		q.Providers = append(q.Providers, ProviderQuality{Unit: names.unit(id), Metrics: *m})
	}
	for k, m := range services {
		m.FirstResponseTimes, m.ResolutionTimes = m.firstResponse.times(), m.resolution.times()
		q.Services = append(q.Services, ServiceQuality{Service: names.service(k.service), Provider: names.unit(k.provider), Metrics: *m})
	}
	for id, c := range consumers {
		c.Unit = names.unit(id)
		q.Consumers = append(q.Consumers, *c)
	}
	slices.SortFunc(q.Providers, func(a, b ProviderQuality) int { return a.Unit.compare(b.Unit) })
	slices.SortFunc(q.Services, func(a, b ServiceQuality) int {
		return cmp.Or(a.Provider.compare(b.Provider), cmp.Compare(a.Service.Code, b.Service.Code), cmp.Compare(a.Service.ID, b.Service.ID))
	})
	slices.SortFunc(q.Consumers, func(a, b ConsumerQuality) int { return a.Unit.compare(b.Unit) })
	return q, nil
}

// providerFigures fills the per-service figures of the provider units the
// scope shows. Business durations come back as counts per value, so the
// database sends one row per distinct duration rather than per request.
func providerFigures(ctx context.Context, idb bun.IDB, scope Scope, rng Range, metricsOf func(serviceKey) *Metrics) error {
	requests := func() *bun.SelectQuery {
		return scope.narrow(idb.NewSelect().TableExpr("requests AS r"), "r", "provider_unit_id").
			ColumnExpr("r.provider_unit_id AS provider, r.service_id AS service")
	}

	var received []struct {
		Provider, Service, N int64
	}
	if err := requests().ColumnExpr("COUNT(*) AS n").
		Where("r.created_at >= ? AND r.created_at < ?", rng.Start, rng.End).
		GroupExpr("r.provider_unit_id, r.service_id").Scan(ctx, &received); err != nil {
		return fmt.Errorf("quality report: requests received: %w", err)
	}
	for _, r := range received {
		metricsOf(serviceKey{r.Provider, r.Service}).Received = r.N
	}

	var responded []struct {
		Provider, Service, N, Met int64
		Minutes                   *int
	}
	if err := requests().
		ColumnExpr("r.first_response_business_minutes AS minutes, COUNT(*) AS n").
		ColumnExpr("CAST(SUM(CASE WHEN r.first_responded_at <= r.first_response_due_at THEN 1 ELSE 0 END) AS BIGINT) AS met").
		Where("r.first_responded_at >= ? AND r.first_responded_at < ?", rng.Start, rng.End).
		GroupExpr("r.provider_unit_id, r.service_id, r.first_response_business_minutes").Scan(ctx, &responded); err != nil {
		return fmt.Errorf("quality report: first responses: %w", err)
	}
	for _, r := range responded {
		m := metricsOf(serviceKey{r.Provider, r.Service})
		m.FirstResponses += r.N
		m.FirstResponseMet += r.Met
		if r.Minutes != nil {
			m.firstResponse.add(*r.Minutes, r.N)
		}
	}

	var resolved []struct {
		Provider, Service, N, Met, Ratings, RatingSum int64
		Minutes                                       *int
	}
	if err := requests().
		ColumnExpr("r.resolution_business_minutes AS minutes, COUNT(*) AS n").
		ColumnExpr("CAST(SUM(CASE WHEN r.resolved_at <= r.resolution_due_at THEN 1 ELSE 0 END) AS BIGINT) AS met").
		ColumnExpr("COUNT(f.rating) AS ratings, CAST(COALESCE(SUM(f.rating), 0) AS BIGINT) AS rating_sum").
		Join("LEFT JOIN request_feedback AS f ON f.request_id = r.id").
		Where("r.resolved_at >= ? AND r.resolved_at < ?", rng.Start, rng.End).
		GroupExpr("r.provider_unit_id, r.service_id, r.resolution_business_minutes").Scan(ctx, &resolved); err != nil {
		return fmt.Errorf("quality report: resolutions: %w", err)
	}
	for _, r := range resolved {
		m := metricsOf(serviceKey{r.Provider, r.Service})
		m.Resolved += r.N
		m.ResolutionMet += r.Met
		m.Ratings += r.Ratings
		m.RatingSum += r.RatingSum
		if r.Minutes != nil {
			m.resolution.add(*r.Minutes, r.N)
		}
	}

	var recovered []struct {
		Provider, Service, Net int64
	}
	if err := scope.narrow(charges(idb, rng), "c", "provider_unit_id").
		ColumnExpr("c.provider_unit_id AS provider, c.service_id AS service").
		ColumnExpr("CAST(COALESCE(SUM(CASE WHEN c.showback THEN 0 ELSE "+netOfCharge+" END), 0) AS BIGINT) AS net").
		GroupExpr("c.provider_unit_id, c.service_id").Scan(ctx, &recovered); err != nil {
		return fmt.Errorf("quality report: recovered: %w", err)
	}
	for _, r := range recovered {
		metricsOf(serviceKey{r.Provider, r.Service}).RecoveredMinor = r.Net
	}
	return nil
}

// consumerFigures returns the rows of the consumer units the scope shows.
func consumerFigures(ctx context.Context, idb bun.IDB, scope Scope, rng Range) (map[int64]*ConsumerQuality, error) {
	out := map[int64]*ConsumerQuality{}
	row := func(id int64) *ConsumerQuality {
		c, ok := out[id]
		if !ok {
			c = &ConsumerQuality{}
			out[id] = c
		}
		return c
	}
	requests := func() *bun.SelectQuery {
		return scope.narrow(idb.NewSelect().TableExpr("requests AS r"), "r", "consumer_unit_id").
			ColumnExpr("r.consumer_unit_id AS unit")
	}

	var received []struct{ Unit, N int64 }
	if err := requests().ColumnExpr("COUNT(*) AS n").
		Where("r.created_at >= ? AND r.created_at < ?", rng.Start, rng.End).
		GroupExpr("r.consumer_unit_id").Scan(ctx, &received); err != nil {
		return nil, fmt.Errorf("quality report: requests filed: %w", err)
	}
	for _, r := range received {
		row(r.Unit).Received = r.N
	}

	var rated []struct{ Unit, N, Ratings, RatingSum int64 }
	if err := requests().ColumnExpr("COUNT(*) AS n, COUNT(f.rating) AS ratings, COALESCE(SUM(f.rating), 0) AS rating_sum").
		Join("LEFT JOIN request_feedback AS f ON f.request_id = r.id").
		Where("r.resolved_at >= ? AND r.resolved_at < ?", rng.Start, rng.End).
		GroupExpr("r.consumer_unit_id").Scan(ctx, &rated); err != nil {
		return nil, fmt.Errorf("quality report: ratings given: %w", err)
	}
	for _, r := range rated {
		c := row(r.Unit)
		c.Resolved, c.Ratings, c.RatingSum = r.N, r.Ratings, r.RatingSum
	}

	var spent []struct{ Unit, Net int64 }
	if err := scope.narrow(charges(idb, rng), "c", "consumer_unit_id").
		ColumnExpr("c.consumer_unit_id AS unit, CAST(COALESCE(SUM("+netOfCharge+"), 0) AS BIGINT) AS net").
		GroupExpr("c.consumer_unit_id").Scan(ctx, &spent); err != nil {
		return nil, fmt.Errorf("quality report: spend: %w", err)
	}
	for _, r := range spent {
		row(r.Unit).SpendMinor = r.Net
	}
	return out, nil
}
