package calendar

import (
	"slices"
	"time"
)

// Interval is a span of real time during which an SLA clock is paused, for
// example while waiting for the requester. A zero To means still paused.
type Interval struct {
	From, To time.Time
}

func (i Interval) open() bool { return i.To.IsZero() }

// Due returns the instant at which target business time has elapsed since
// start, not counting business time inside pauses. If the clock is still
// paused (an open pause) before the target is reached, the due instant is
// unknown and Due returns the zero Time; a target reached before an open
// pause began is still reported. A non-positive target returns start.
func (s *Schedule) Due(start time.Time, target time.Duration, pauses []Interval) time.Time {
	if target <= 0 {
		return start
	}
	cursor := start
	for _, p := range mergePauses(pauses) {
		if !p.open() && !p.To.After(cursor) {
			continue
		}
		if p.From.After(cursor) {
			worked := s.Business(cursor, p.From)
			if worked >= target {
				return s.AddBusiness(cursor, target)
			}
			target -= worked
		}
		if p.open() {
			return time.Time{}
		}
		cursor = later(cursor, p.To)
	}
	return s.AddBusiness(cursor, target)
}

// Elapsed returns the business time between start and now minus the business
// time spent paused; an open pause counts as paused until now.
func (s *Schedule) Elapsed(start, now time.Time, pauses []Interval) time.Duration {
	total := s.Business(start, now)
	for _, p := range mergePauses(pauses) {
		to := p.To
		if p.open() || to.After(now) {
			to = now
		}
		total -= s.Business(later(p.From, start), to)
	}
	return total
}

// mergePauses sorts pauses and joins overlapping or touching ones, so that
// business time inside overlapping pauses is subtracted only once. Empty or
// reversed closed pauses are dropped; at most the last result is open.
func mergePauses(pauses []Interval) []Interval {
	sorted := make([]Interval, 0, len(pauses))
	for _, p := range pauses {
		if p.open() || p.To.After(p.From) {
			sorted = append(sorted, p)
		}
	}
	slices.SortFunc(sorted, func(a, b Interval) int { return a.From.Compare(b.From) })
	merged := sorted[:0]
	for _, p := range sorted {
		n := len(merged)
		if n == 0 || (!merged[n-1].open() && p.From.After(merged[n-1].To)) {
			merged = append(merged, p)
			continue
		}
		if last := &merged[n-1]; !last.open() && (p.open() || p.To.After(last.To)) {
			last.To = p.To
		}
	}
	return merged
}
