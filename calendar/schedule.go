package calendar

import (
	"slices"
	"time"
)

// maxDays bounds the day-by-day search of AddBusiness: a target not reached
// within ten years of calendar days is treated as never reached, so a
// calendar whose every working day is a holiday cannot loop forever.
const maxDays = 10*366 + 1

// Schedule is a compiled Calendar. It is immutable after Compile and safe for
// concurrent use.
type Schedule struct {
	loc      *time.Location
	week     [7][]span     // opening spans indexed by time.Weekday, sorted
	holidays map[Date]bool // explicit holidays; read-only after Compile
	preset   func(year int) []Date
}

// window is one opening as real instants, [from, to).
type window struct{ from, to time.Time }

// AddBusiness returns the instant at which d of business time has elapsed
// after start. Counting begins at start if it is inside opening hours, else
// at the next opening; the result is the earliest such instant, so a target
// that runs out exactly at closing time is due at closing, not at the next
// opening. A non-positive d returns start. The result is in the calendar's
// time zone, or the zero Time if d is not reached within ten years.
func (s *Schedule) AddBusiness(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	days := s.walk(start)
	for range maxDays {
		for _, w := range days.next() {
			from := later(w.from, start)
			if !w.to.After(from) {
				continue
			}
			if open := w.to.Sub(from); d > open {
				d -= open
				continue
			}
			return from.Add(d).In(s.loc)
		}
	}
	return time.Time{}
}

// Business returns the business time between from and to, or 0 if to is not
// after from. Its cost is linear in the calendar days spanned.
func (s *Schedule) Business(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	last := dateOf(to.In(s.loc))
	for days := s.walk(from); days.date.Compare(last) <= 0; {
		for _, w := range days.next() {
			if a, b := later(w.from, from), earlier(w.to, to); b.After(a) {
				total += b.Sub(a)
			}
		}
	}
	return total
}

// walk returns a cursor over the days that can hold business time at or
// after t. It starts one day early: in zones that skip midnight, the
// previous day's "24:00" closing can land after t's local midnight.
func (s *Schedule) walk(t time.Time) *dayCursor {
	return &dayCursor{s: s, date: dateOf(t.In(s.loc)).AddDays(-1)}
}

// dayCursor yields the openings of successive local dates. It caches the
// preset holidays of the current year, which is why it lives per call and
// not on the shared Schedule.
type dayCursor struct {
	s          *Schedule
	date       Date
	presetYear int
	preset     []Date
	buf        []window
}

// next returns the openings of the current date, then advances a day. The
// returned slice is reused by the following call.
func (c *dayCursor) next() []window {
	d := c.date
	c.date = d.AddDays(1)
	c.buf = c.buf[:0]
	if c.holiday(d) {
		return c.buf
	}
	var prev time.Time
	for _, sp := range c.s.week[d.Weekday()] {
		// Wall-clock times through time.Date, so an 08:00–16:00 day stays 8h
		// on DST days and an interval spanning the switch is an hour
		// shorter or longer, as it is for the people working it.
		from, to := c.s.at(d, sp.start), c.s.at(d, sp.end)
		from = later(from, prev) // a normalised time inside a DST gap must not overlap the previous span
		if !to.After(from) {
			continue
		}
		c.buf = append(c.buf, window{from, to})
		prev = to
	}
	return c.buf
}

func (c *dayCursor) holiday(d Date) bool {
	if c.s.holidays[d] {
		return true
	}
	if c.s.preset == nil {
		return false
	}
	if c.preset == nil || c.presetYear != d.Year {
		c.presetYear, c.preset = d.Year, c.s.preset(d.Year)
	}
	return slices.Contains(c.preset, d)
}

// at returns the instant of minute m (0..1440) of local date d.
func (s *Schedule) at(d Date, m int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, m/60, m%60, 0, 0, s.loc)
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}
