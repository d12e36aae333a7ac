package calendar_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tiski/tiski/calendar"
)

func date(y int, m time.Month, d int) calendar.Date { return calendar.Date{Year: y, Month: m, Day: d} }

func TestEaster(t *testing.T) {
	for _, want := range []calendar.Date{
		date(2000, time.April, 23),
		date(2008, time.March, 23),
		date(2011, time.April, 24),
		date(2019, time.April, 21),
		date(2024, time.March, 31),
		date(2025, time.April, 20),
		date(2026, time.April, 5),
		date(2027, time.March, 28),
		date(2038, time.April, 25),
	} {
		if got := calendar.Easter(want.Year); got != want {
			t.Errorf("Easter(%d) = %s, want %s", want.Year, got, want)
		}
	}
}

func TestFinnishHolidays2026(t *testing.T) {
	want := []calendar.Date{
		date(2026, time.January, 1),
		date(2026, time.January, 6),
		date(2026, time.April, 3), // Good Friday
		date(2026, time.April, 5), // Easter Sunday
		date(2026, time.April, 6), // Easter Monday
		date(2026, time.May, 1),
		date(2026, time.May, 14),     // Ascension Day
		date(2026, time.May, 24),     // Whit Sunday
		date(2026, time.June, 19),    // Midsummer Eve
		date(2026, time.June, 20),    // Midsummer Day
		date(2026, time.October, 31), // All Saints' Day
		date(2026, time.December, 6),
		date(2026, time.December, 24),
		date(2026, time.December, 25),
		date(2026, time.December, 26),
	}
	if got := calendar.FinnishHolidays(2026); !reflect.DeepEqual(got, want) {
		t.Fatalf("FinnishHolidays(2026) =\n%v\nwant\n%v", got, want)
	}
}

func TestFinnishMovableHolidays(t *testing.T) {
	tests := []struct {
		year                               int
		midsummerEve, allSaints, ascension calendar.Date
	}{
		{2024, date(2024, time.June, 21), date(2024, time.November, 2), date(2024, time.May, 9)},
		{2025, date(2025, time.June, 20), date(2025, time.November, 1), date(2025, time.May, 29)},
		{2027, date(2027, time.June, 25), date(2027, time.November, 6), date(2027, time.May, 6)},
		// Easter on March 22 puts Ascension Day on April 30, before May Day.
		{2285, date(2285, time.June, 19), date(2285, time.October, 31), date(2285, time.April, 30)},
	}
	for _, tt := range tests {
		got := calendar.FinnishHolidays(tt.year)
		for _, d := range []calendar.Date{tt.midsummerEve, tt.midsummerEve.AddDays(1), tt.allSaints, tt.ascension} {
			if !slices.Contains(got, d) {
				t.Errorf("FinnishHolidays(%d) lacks %s: %v", tt.year, d, got)
			}
		}
		if !slices.IsSortedFunc(got, calendar.Date.Compare) || len(got) != 15 {
			t.Errorf("FinnishHolidays(%d) is not 15 dates in order: %v", tt.year, got)
		}
		if tt.midsummerEve.Weekday() != time.Friday || tt.allSaints.Weekday() != time.Saturday {
			t.Errorf("%d: test expectation on the wrong weekday", tt.year)
		}
	}
}
