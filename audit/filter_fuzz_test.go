package audit_test

import (
	"testing"
	"time"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/calendar"
)

// FuzzFilterDates: the trail's from and to come from a reader's query. A
// bound is an RFC 3339 time or a calendar date in the organisation's zone;
// whatever is typed is read or refused naming its field, an accepted range
// is never empty or reversed, and a date "to" takes in its whole day.
func FuzzFilterDates(f *testing.F) {
	for _, s := range [][2]string{{"2026-12-01", "2026-12-01"}, {"2026-12-01T08:00:00Z", "2026-12-02"}, {"2026-13-01", ""},
		{"", "2026-02-30"}, {"2026-03-29", "2026-03-29"}, {"2026-10-25", ""}, {"0000-01-01", "9999-12-31"}, {"2026-12-01T08:00:00+02:00", "x"},
		{" 2026-12-01 ", "2026-11-30"}, {"2026-12-01T25:00:00Z", ""}} {
		f.Add(s[0], s[1], "42")
	}
	helsinki, err := calendar.Zone("Europe/Helsinki")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, from, to, actor string) {
		q := audit.FilterQuery{From: from, To: to, ActorID: actor}
		fl, err := q.Parse(helsinki)
		if err != nil {
			return
		}
		if !fl.From.IsZero() && !fl.To.IsZero() && !fl.From.Before(fl.To) {
			t.Fatalf("%q..%q gave the empty range %v..%v", from, to, fl.From, fl.To)
		}
		if fl.ActorID < 0 {
			t.Fatalf("actor %q gave %d", actor, fl.ActorID)
		}
		if day, err := time.ParseInLocation(time.DateOnly, to, helsinki); err == nil {
			if !fl.To.Equal(day.AddDate(0, 0, 1)) {
				t.Fatalf("to %q ends at %v, not the end of that day", to, fl.To)
			}
		}
	})
}
