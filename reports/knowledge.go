package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// AnsweredWindow is how long after opening an article from the order form
// a person may still order the service: with no order by then, the
// article answered the need.
const AnsweredWindow = 24 * time.Hour

// ServiceKnowledge is how a service's knowledge articles served readers
// in a range: its published articles (now), their openings and votes in
// the range, and the needs they answered, openings from the order form
// that no order by the same person for the service followed within
// AnsweredWindow (counted once the window has passed).
type ServiceKnowledge struct {
	Service       ServiceRef
	Provider      UnitRef
	Articles      int64
	Views         int64
	Helpful       int64
	NotHelpful    int64
	NeedsAnswered int64
}

// KnowledgeFigures returns the knowledge figures of the services of the
// provider units the scope shows, one row per service with any article,
// opening or vote.
func KnowledgeFigures(ctx context.Context, idb bun.IDB, scope Scope, rng Range, now time.Time) ([]ServiceKnowledge, error) {
	out := []ServiceKnowledge{}
	if scope.empty() {
		return out, nil
	}
	rows := map[int64]*ServiceKnowledge{}
	provider := map[int64]int64{}
	row := func(serviceID, providerID int64) *ServiceKnowledge {
		r, ok := rows[serviceID]
		if !ok {
			r = &ServiceKnowledge{}
			rows[serviceID] = r
			provider[serviceID] = providerID
		}
		return r
	}
	type count struct {
		ServiceID  int64 `bun:"service_id"`
		ProviderID int64 `bun:"provider_unit_id"`
		N          int64 `bun:"n"`
		M          int64 `bun:"m"`
	}
	// linked is a query over the services (s) an article (x.article_id) belongs to.
	linked := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Join("JOIN article_services x ON x.article_id = a.id").Join("JOIN services s ON s.id = x.service_id").
			ColumnExpr("s.id AS service_id, s.provider_unit_id").GroupExpr("s.id, s.provider_unit_id")
		if scope.ProviderUnitID != 0 {
			q = q.Where("s.provider_unit_id = ?", scope.ProviderUnitID)
		}
		if !scope.OrgWide {
			q = q.Where("s.provider_unit_id IN (?)", bun.In(scope.UnitIDs))
		}
		return q
	}
	var articles, views, votes []count
	if err := linked(idb.NewSelect().TableExpr("articles a").ColumnExpr("COUNT(*) AS n").
		Where("a.status = 'published'")).Scan(ctx, &articles); err != nil {
		return nil, fmt.Errorf("knowledge articles: %w", err)
	}
	if err := linked(idb.NewSelect().TableExpr("article_views v").Join("JOIN articles a ON a.id = v.article_id").
		ColumnExpr("COUNT(*) AS n").Where("v.at >= ? AND v.at < ?", rng.Start, rng.End).
		Where("(v.service_id IS NULL OR v.service_id = x.service_id)")).Scan(ctx, &views); err != nil {
		return nil, fmt.Errorf("knowledge views: %w", err)
	}
	if err := linked(idb.NewSelect().TableExpr("article_votes w").Join("JOIN articles a ON a.id = w.article_id").
		ColumnExpr("COALESCE(SUM(CASE WHEN w.helpful THEN 1 ELSE 0 END), 0) AS n").
		ColumnExpr("COALESCE(SUM(CASE WHEN w.helpful THEN 0 ELSE 1 END), 0) AS m").
		Where("w.at >= ? AND w.at < ?", rng.Start, rng.End)).Scan(ctx, &votes); err != nil {
		return nil, fmt.Errorf("knowledge votes: %w", err)
	}
	for _, c := range articles {
		row(c.ServiceID, c.ProviderID).Articles = c.N
	}
	for _, c := range views {
		row(c.ServiceID, c.ProviderID).Views = c.N
	}
	for _, c := range votes {
		r := row(c.ServiceID, c.ProviderID)
		r.Helpful, r.NotHelpful = c.N, c.M
	}
	if err := needsAnswered(ctx, idb, rng, now, rows); err != nil {
		return nil, err
	}
	var unitIDs, serviceIDs []int64
	for id := range rows {
		serviceIDs = append(serviceIDs, id)
		unitIDs = append(unitIDs, provider[id])
	}
	names, err := loadNames(ctx, idb, unitIDs, serviceIDs)
	if err != nil {
		return nil, err
	}
	for id, r := range rows {
		r.Service, r.Provider = names.service(id), names.unit(provider[id])
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ServiceKnowledge) int {
		return cmp.Or(a.Provider.compare(b.Provider), cmp.Compare(a.Service.Code, b.Service.Code), cmp.Compare(a.Service.ID, b.Service.ID))
	})
	return out, nil
}

// needsAnswered counts, for the services in rows, the openings from the
// order form in the range whose window has passed without an order by the
// same person for the same service. The matching is done here rather than
// in SQL, since the two engines add intervals to times differently.
func needsAnswered(ctx context.Context, idb bun.IDB, rng Range, now time.Time, rows map[int64]*ServiceKnowledge) error {
	if len(rows) == 0 {
		return nil
	}
	serviceIDs := make([]int64, 0, len(rows))
	for id := range rows {
		serviceIDs = append(serviceIDs, id)
	}
	end := rng.End
	if cutoff := now.Add(-AnsweredWindow); cutoff.Before(end) {
		end = cutoff
	}
	if !end.After(rng.Start) {
		return nil
	}
	type opening struct {
		UserID    int64     `bun:"user_id"`
		ServiceID int64     `bun:"service_id"`
		At        time.Time `bun:"at"`
	}
	var opened, ordered []opening
	if err := idb.NewSelect().TableExpr("article_views").ColumnExpr("user_id, service_id, at").
		Where("source = 'order_form' AND service_id IN (?) AND at >= ? AND at < ?", bun.In(serviceIDs), rng.Start, end).
		Scan(ctx, &opened); err != nil {
		return fmt.Errorf("knowledge openings: %w", err)
	}
	if len(opened) == 0 {
		return nil
	}
	if err := idb.NewSelect().TableExpr("requests").ColumnExpr("requester_id AS user_id, service_id, created_at AS at").
		Where("service_id IN (?) AND created_at >= ? AND created_at < ?", bun.In(serviceIDs), rng.Start, end.Add(AnsweredWindow)).
		Scan(ctx, &ordered); err != nil {
		return fmt.Errorf("knowledge orders: %w", err)
	}
	type who struct{ user, service int64 }
	orders := map[who][]time.Time{}
	for _, o := range ordered {
		k := who{o.UserID, o.ServiceID}
		orders[k] = append(orders[k], o.At)
	}
	for _, v := range opened {
		followed := slices.ContainsFunc(orders[who{v.UserID, v.ServiceID}], func(at time.Time) bool {
			return !at.Before(v.At) && at.Before(v.At.Add(AnsweredWindow))
		})
		if !followed {
			rows[v.ServiceID].NeedsAnswered++
		}
	}
	return nil
}
