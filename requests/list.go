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
var Sorts = map[string]struct {
	column string
	desc   bool
}{
	"-created": {"id", true},
	"created":  {"id", false},
	"-updated": {"updated_at", true},
	"updated":  {"updated_at", false},
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

// List returns up to f.Limit requests the viewer may see, in f.Sort order,
// after f.After.
func List(ctx context.Context, idb bun.IDB, v Viewer, f Filter) ([]Request, error) {
	sort, ok := Sorts[f.Sort]
	if !ok {
		return nil, fault.Invalid("sort", "sort must be one of created, -created, updated, -updated")
	}
	var rows []Request
	q := idb.NewSelect().Model(&rows).Limit(int64(f.Limit))
	q = v.visibility(q)
	if len(f.Statuses) > 0 {
		q = q.Where("r.status IN (?)", bun.In(f.Statuses))
	}
	for column, value := range map[string]int64{
		"r.consumer_unit_id": f.ConsumerUnitID, "r.provider_unit_id": f.ProviderUnitID,
		"r.assignee_id": f.AssigneeID, "r.requester_id": f.RequesterID, "r.service_id": f.ServiceID,
	} {
		if value != 0 {
			q = q.Where("? = ?", bun.Ident(column), value)
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
	dir, cmp := "ASC", ">"
	if sort.desc {
		dir, cmp = "DESC", "<"
	}
	if sort.column == "id" {
		if f.After != nil {
			q = q.Where("r.id "+cmp+" ?", f.After.ID)
		}
		q = q.OrderExpr("r.id " + dir)
	} else {
		if f.After != nil {
			q = q.Where("(r.updated_at "+cmp+" ? OR (r.updated_at = ? AND r.id "+cmp+" ?))",
				f.After.UpdatedAt, f.After.UpdatedAt, f.After.ID)
		}
		q = q.OrderExpr("r.updated_at " + dir + ", r.id " + dir)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return rows, nil
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
