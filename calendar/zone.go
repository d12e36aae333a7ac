package calendar

import (
	"sync"
	"time"
)

// zones holds every time zone resolved so far, by IANA name. Reading a zone
// reads and parses its tzdata each time; the organisation's zone and the
// units' calendar zones are few and are asked for on every SLA clock, so each
// is resolved once per process and shared (a *time.Location is immutable).
var zones sync.Map // string → *time.Location

// Zone resolves an IANA time zone name, once per name: the one place Tiski
// turns a zone's name into a location.
func Zone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
