package reports

import (
	"cmp"
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// UnitRef names a unit in a report row.
type UnitRef struct {
	ID         int64
	Code, Name string
}

func (u UnitRef) compare(o UnitRef) int {
	return cmp.Or(cmp.Compare(u.Code, o.Code), cmp.Compare(u.ID, o.ID))
}

// ServiceRef names a service in a report row.
type ServiceRef struct {
	ID         int64
	Code, Name string
}

type names struct {
	units    map[int64]UnitRef
	services map[int64]ServiceRef
}

func (n names) unit(id int64) UnitRef {
	if u, ok := n.units[id]; ok {
		return u
	}
	return UnitRef{ID: id}
}

func (n names) service(id int64) ServiceRef {
	if s, ok := n.services[id]; ok {
		return s
	}
	return ServiceRef{ID: id}
}

// loadNames reads the codes and names of the units and services a report
// mentions.
func loadNames(ctx context.Context, idb bun.IDB, unitIDs, serviceIDs []int64) (names, error) {
	n := names{units: map[int64]UnitRef{}, services: map[int64]ServiceRef{}}
	if len(unitIDs) > 0 {
		var rows []UnitRef
		if err := idb.NewSelect().Table("units").Column("id", "code", "name").
			Where("id IN (?)", bun.In(unitIDs)).Scan(ctx, &rows); err != nil {
			return n, fmt.Errorf("report unit names: %w", err)
		}
		for _, u := range rows {
			n.units[u.ID] = u
		}
	}
	if len(serviceIDs) > 0 {
		var rows []ServiceRef
		if err := idb.NewSelect().Table("services").Column("id", "code", "name").
			Where("id IN (?)", bun.In(serviceIDs)).Scan(ctx, &rows); err != nil {
			return n, fmt.Errorf("report service names: %w", err)
		}
		for _, s := range rows {
			n.services[s.ID] = s
		}
	}
	return n, nil
}
