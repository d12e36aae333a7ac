package reports

import "github.com/uptrace/bun"

// Scope is what a reader may see and what they narrowed the report to.
// Rows are keyed by unit: a provider row shows when its provider unit is
// visible, a consumer row when its consumer unit is, a spend row when either
// is. OrgWide readers (finance, auditors) see every unit.
type Scope struct {
	OrgWide bool
	UnitIDs []int64 // the units whose rows the reader sees, unless OrgWide
	// ProviderUnitID and ConsumerUnitID, when set, restrict the requests and
	// charges every figure is computed from.
	ProviderUnitID int64
	ConsumerUnitID int64
}

// sees reports whether rows of the unit are visible.
func (s Scope) sees(unitID int64) bool {
	if s.OrgWide {
		return true
	}
	for _, id := range s.UnitIDs {
		if id == unitID {
			return true
		}
	}
	return false
}

// empty reports whether the reader sees no unit at all.
func (s Scope) empty() bool { return !s.OrgWide && len(s.UnitIDs) == 0 }

// narrow adds the filters to a query on a table aliased alias (requests r or
// charges c), and limits its rows to visible units in column (the row key).
func (s Scope) narrow(q *bun.SelectQuery, alias, column string) *bun.SelectQuery {
	if s.ProviderUnitID != 0 {
		q = q.Where("?.provider_unit_id = ?", bun.Ident(alias), s.ProviderUnitID)
	}
	if s.ConsumerUnitID != 0 {
		q = q.Where("?.consumer_unit_id = ?", bun.Ident(alias), s.ConsumerUnitID)
	}
	if !s.OrgWide {
		q = q.Where("?.? IN (?)", bun.Ident(alias), bun.Ident(column), bun.In(s.UnitIDs))
	}
	return q
}
