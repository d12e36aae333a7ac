package requests

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// Sorts are the orders a list may ask for; the key is the API's name.
var Sorts = map[string]sortOrder{
	"-created": {"id", true},
	"created":  {"id", false},
	"-updated": {"updated_at", true},
	"updated":  {"updated_at", false},
}

// sortOrder is a column to order by, ties broken by id in the same direction.
type sortOrder struct {
	column string
	desc   bool
}

// DefaultSort is newest first.
const DefaultSort = "-created"

// Filter selects requests for List. Zero values do not filter.
type Filter struct {
	Statuses       []Status
	ConsumerUnitID int64
	ProviderUnitID int64
	AssigneeID     int64
	Unassigned     bool
	RequesterID    int64
	ServiceID      int64
	Query          string
	SLA            string // "at_risk" or "breached"
	Sort           string
	Limit          int
	After          *Cursor
}

// Cursor is the position after the last row of a page.
type Cursor struct {
	ID        int64     `json:"i"`
	UpdatedAt time.Time `json:"u,omitzero"`
}

// maxBranches is the most visibility branches List unions for an id-ordered
// page. A viewer with more (a manager high in the tree, who reads many units)
// gets the plain OR rule: each branch costs an index seek and up to f.Limit
// ids, and SQLite allows at most 500 terms in a compound SELECT.
const maxBranches = 64

// List returns up to f.Limit requests the viewer may see, in f.Sort order,
// after f.After.
//
// For id-ordered sorts the viewer's visibility rule is not one OR but a
// union: each branch (their own requests, each managed unit as consumer and
// as provider, each queue unit) takes its own first page, with the list's
// filters and cursor, through its (column, id) index, and the page is the
// first f.Limit of their union. Any row of the page is among the first
// f.Limit of every branch it belongs to, so the result is the OR's. It keeps
// a page's cost independent of how many requests the viewer can see, where
// the OR makes SQLite read and sort all of them.
func List(ctx context.Context, idb bun.IDB, v Viewer, f Filter) ([]Request, error) {
	return list(ctx, idb, v, f, true)
}

// list is List; with union false it always uses the plain OR rule.
func list(ctx context.Context, idb bun.IDB, v Viewer, f Filter, union bool) ([]Request, error) {
	sort, ok := Sorts[f.Sort]
	if !ok {
		return nil, fault.Invalid("sort", "sort must be one of created, -created, updated, -updated")
	}
	var rows []Request
	q := idb.NewSelect().Model(&rows)
	s := v.scope()
	branches := s.branches()
	switch {
	case s.all:
		q = page(q, f, sort)
	case union && sort.column == "id" && f.Limit > 0 && len(branches) <= maxBranches:
		parts := make([]string, len(branches))
		args := make([]any, len(branches))
		for i, b := range branches {
			bq := idb.NewSelect().Model((*Request)(nil)).ColumnExpr("r.id").Where(b.where, b.value)
			// SQLite takes no parenthesised SELECT with its own ORDER BY and
			// LIMIT as a UNION ALL term: each branch is a FROM subquery.
			parts[i] = fmt.Sprintf("SELECT id FROM (?) AS v%d", i)
			args[i] = page(bq, f, sort)
		}
		q = q.Where("r.id IN ("+strings.Join(parts, " UNION ALL ")+")", args...)
		q = order(q, sort).Limit(int64(f.Limit))
	default:
		q = page(s.or(q), f, sort)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return rows, nil
}

// page adds f's filters, cursor, order and limit to a query on requests
// (aliased r).
func page(q *bun.SelectQuery, f Filter, sort sortOrder) *bun.SelectQuery {
	if len(f.Statuses) > 0 {
		q = q.Where("r.status IN (?)", bun.In(f.Statuses))
	}
	for _, c := range []struct {
		column string
		value  int64
	}{
		{"r.consumer_unit_id", f.ConsumerUnitID}, {"r.provider_unit_id", f.ProviderUnitID},
		{"r.assignee_id", f.AssigneeID}, {"r.requester_id", f.RequesterID}, {"r.service_id", f.ServiceID},
	} {
		if c.value != 0 {
			q = q.Where("? = ?", bun.Ident(c.column), c.value)
		}
	}
	switch f.SLA {
	case "at_risk":
		q = q.Where("(r.resolution_at_risk_at IS NOT NULL OR (r.first_response_at_risk_at IS NOT NULL AND r.first_responded_at IS NULL))")
	case "breached":
		q = q.Where("(r.resolution_breached_at IS NOT NULL OR r.first_response_breached_at IS NOT NULL)")
	}
	if f.Unassigned {
		q = q.Where("r.assignee_id IS NULL")
	}
	if f.Query != "" {
		term := strings.ToLower(strings.TrimSpace(f.Query))
		like := "%" + db.EscapeLike(term) + "%"
		if id, ok := parseNumber(term); ok {
			// "2026" may be a request number or words in a title: match both.
			q = q.Where("(r.id = ? OR r.search_text LIKE ? ESCAPE '\\')", id, like)
		} else {
			q = q.Where("r.search_text LIKE ? ESCAPE '\\'", like)
		}
	}
	cmp := ">"
	if sort.desc {
		cmp = "<"
	}
	if f.After != nil {
		if sort.column == "id" {
			q = q.Where("r.id "+cmp+" ?", f.After.ID)
		} else {
			q = q.Where("(r.updated_at "+cmp+" ? OR (r.updated_at = ? AND r.id "+cmp+" ?))",
				f.After.UpdatedAt, f.After.UpdatedAt, f.After.ID)
		}
	}
	return order(q, sort).Limit(int64(f.Limit))
}

// order adds the sort's ORDER BY.
func order(q *bun.SelectQuery, sort sortOrder) *bun.SelectQuery {
	dir := "ASC"
	if sort.desc {
		dir = "DESC"
	}
	if sort.column == "id" {
		return q.OrderExpr("r.id " + dir)
	}
	return q.OrderExpr("r.updated_at " + dir + ", r.id " + dir)
}

// CursorAfter returns the cursor that continues after r in the given sort.
func CursorAfter(r *Request, sort string) Cursor {
	c := Cursor{ID: r.ID}
	if Sorts[sort].column == "updated_at" {
		c.UpdatedAt = r.UpdatedAt
	}
	return c
}

// parseNumber reads "REQ-000123" or "123" as a request id.
func parseNumber(term string) (int64, bool) {
	term = strings.TrimPrefix(term, "req-")
	var id int64
	if _, err := fmt.Sscanf(term, "%d", &id); err != nil || fmt.Sprint(id) != strings.TrimLeft(term, "0") || id <= 0 {
		return 0, false
	}
	return id, true
}
