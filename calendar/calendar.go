// Package calendar turns a provider unit's business hours, time zone and
// holidays into a Schedule that counts SLA clocks in business time.
package calendar

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	// Validation and SLA clocks must not depend on whether the host has a
	// zoneinfo database; minimal container images often do not.
	_ "time/tzdata"

	"github.com/tiski/tiski/fault"
)

// Calendar is the editable, JSON form of a unit's business calendar.
type Calendar struct {
	TimeZone string   `json:"time_zone"`
	Hours    []Hours  `json:"hours"`
	Holidays []string `json:"holidays"` // YYYY-MM-DD, local dates in TimeZone
	Preset   string   `json:"preset"`   // "" or a key of presets, e.g. "fi"
}

// Hours is one opening interval on one ISO weekday (1 = Monday .. 7 = Sunday).
// Start and End are wall-clock "HH:MM"; End may be "24:00" so a desk can be
// open until midnight. Intervals never cross midnight: split them instead.
type Hours struct {
	Weekday int    `json:"weekday"`
	Start   string `json:"start"`
	End     string `json:"end"`
}

// presets are the named public-holiday rules a calendar can include.
var presets = map[string]func(year int) []Date{
	"fi": FinnishHolidays,
}

// Validate reports the first rule the calendar breaks as a fault.KindInvalid
// error whose "field" detail names the offending input.
func (c Calendar) Validate() error {
	_, err := c.Compile()
	return err
}

// Compile validates the calendar and returns its immutable Schedule.
func (c Calendar) Compile() (*Schedule, error) {
	loc, err := loadLocation(c.TimeZone)
	if err != nil {
		return nil, err
	}
	preset, ok := presets[c.Preset]
	if !ok && c.Preset != "" {
		return nil, fault.Invalid("preset", "unknown holiday preset %q", c.Preset)
	}
	week, err := weekSpans(c.Hours)
	if err != nil {
		return nil, err
	}
	holidays := make(map[Date]bool, len(c.Holidays))
	for i, s := range c.Holidays {
		d, err := parseDate(s)
		if err != nil {
			return nil, fault.Invalid(fmt.Sprintf("holidays[%d]", i), "holiday %q is not a YYYY-MM-DD date", s)
		}
		holidays[d] = true
	}
	return &Schedule{loc: loc, week: week, holidays: holidays, preset: preset}, nil
}

func loadLocation(name string) (*time.Location, error) {
	// "" and "Local" would silently mean UTC or the server's zone, so a
	// calendar must name its zone explicitly.
	if name == "" || name == "Local" {
		return nil, fault.Invalid("time_zone", "time zone must be an IANA name such as Europe/Helsinki")
	}
	loc, err := Zone(name)
	if err != nil {
		return nil, fault.Invalid("time_zone", "unknown time zone %q", name)
	}
	return loc, nil
}

// span is an opening interval in minutes since local midnight, [start, end).
type span struct{ start, end int }

// weekSpans parses hours into sorted spans indexed by time.Weekday.
func weekSpans(hours []Hours) ([7][]span, error) {
	var week [7][]span
	if len(hours) == 0 {
		return week, fault.Invalid("hours", "a calendar needs at least one interval of working hours")
	}
	type indexed struct {
		span
		i int
	}
	var byDay [7][]indexed
	for i, h := range hours {
		field := fmt.Sprintf("hours[%d]", i)
		if h.Weekday < 1 || h.Weekday > 7 {
			return week, fault.Invalid(field+".weekday", "weekday %d is outside 1 (Monday) .. 7 (Sunday)", h.Weekday)
		}
		start, ok := parseClock(h.Start, false)
		if !ok {
			return week, fault.Invalid(field+".start", "start %q is not a HH:MM time", h.Start)
		}
		end, ok := parseClock(h.End, true)
		if !ok {
			return week, fault.Invalid(field+".end", "end %q is not a HH:MM time", h.End)
		}
		if start >= end {
			return week, fault.Invalid(field, "start %s must be before end %s", h.Start, h.End)
		}
		wd := h.Weekday % 7 // ISO 7 (Sunday) is time.Sunday (0)
		byDay[wd] = append(byDay[wd], indexed{span{start, end}, i})
	}
	for wd, spans := range byDay {
		slices.SortFunc(spans, func(a, b indexed) int { return cmp.Compare(a.start, b.start) })
		for k, s := range spans {
			if k > 0 && s.start < spans[k-1].end {
				later := max(s.i, spans[k-1].i)
				return week, fault.Invalid(fmt.Sprintf("hours[%d]", later),
					"hours %d and %d overlap on weekday %d", min(s.i, spans[k-1].i), later, hours[later].Weekday)
			}
			week[wd] = append(week[wd], s.span)
		}
	}
	return week, nil
}

// parseClock reads a strict "HH:MM" into minutes since midnight; "24:00" is
// accepted only as an end of day.
func parseClock(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if end && h == 24 && m == 0 {
		return 24 * 60, true
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
