// Package reports answers the quality and spend questions finance and managers ask, from
// requests, feedback and charges: what providers received and resolved, how
// fast against their service levels, how satisfied their customers were, what
// they recovered, and what each consumer unit spent. Definitions are in
// docs/reports.md.
package reports

import (
	"strconv"
	"time"

	"github.com/tiski/tiski/fault"
)

// MaxMonths is the longest range a report covers.
const MaxMonths = 24

const monthLayout = "2006-01"

// Range is whole months From..To (inclusive, YYYY-MM) of the organisation's
// time zone, and the instants [Start, End) they cover.
type Range struct {
	From, To   string
	Start, End time.Time
}

// NewRange checks a range of months and places it in loc. Both ends are
// YYYY-MM; To may not precede From, and the range spans at most MaxMonths.
func NewRange(from, to string, loc *time.Location) (Range, error) {
	first, err := time.ParseInLocation(monthLayout, from, loc)
	if err != nil || first.Format(monthLayout) != from {
		return Range{}, fault.Invalid("from", "from must be a month such as 2026-11")
	}
	last, err := time.ParseInLocation(monthLayout, to, loc)
	if err != nil || last.Format(monthLayout) != to {
		return Range{}, fault.Invalid("to", "to must be a month such as 2026-11")
	}
	if last.Before(first) {
		return Range{}, fault.Invalid("to", "to (%s) is before from (%s)", to, from)
	}
	months := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
	if months > MaxMonths {
		return Range{}, fault.Invalid("to", "a report covers at most %d months; %s to %s is %d", MaxMonths, from, to, months)
	}
	return Range{From: from, To: to, Start: first, End: last.AddDate(0, 1, 0)}, nil
}

// Month is the range of one month.
func Month(month string, loc *time.Location) (Range, error) {
	r, err := NewRange(month, month, loc)
	if err != nil {
		return Range{}, fault.Invalid("month", "month must be a month such as 2026-11")
	}
	return r, nil
}

// Query is a report's range and filters as typed in a query string or a
// form: one month, or From and To, or neither for the current month; and
// optionally one provider or consumer unit.
type Query struct {
	Month, From, To                string
	ProviderUnitID, ConsumerUnitID string
}

// Narrow checks the query, places its range in loc (an empty range is the
// month of now) and narrows scope to its unit filters. The fault names the
// first bad field.
func (q Query) Narrow(scope Scope, loc *time.Location, now time.Time) (Scope, Range, error) {
	var rng Range
	var err error
	switch {
	case q.Month != "" && (q.From != "" || q.To != ""):
		err = fault.Invalid("month", "give either month or from and to, not both")
	case q.Month != "":
		rng, err = Month(q.Month, loc)
	case q.From != "" || q.To != "":
		rng, err = NewRange(q.From, q.To, loc)
	default:
		rng, err = Month(now.In(loc).Format(monthLayout), loc)
	}
	if err != nil {
		return scope, Range{}, err
	}
	for _, f := range []struct {
		field, raw string
		into       *int64
	}{{"provider_unit_id", q.ProviderUnitID, &scope.ProviderUnitID}, {"consumer_unit_id", q.ConsumerUnitID, &scope.ConsumerUnitID}} {
		if f.raw == "" {
			continue
		}
		id, err := strconv.ParseInt(f.raw, 10, 64)
		if err != nil || id <= 0 {
			return scope, Range{}, fault.Invalid(f.field, "%s must be an id such as \"42\"", f.field)
		}
		*f.into = id
	}
	return scope, rng, nil
}
