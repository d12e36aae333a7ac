package calendar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiski/tiski/calendar"
)

var helsinki = mustLoad("Europe/Helsinki")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// hel is a wall-clock time in Helsinki.
func hel(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, helsinki) }

func compile(t testing.TB, c calendar.Calendar) *calendar.Schedule {
	t.Helper()
	s, err := c.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// everyDay is open 08:00–16:00 seven days a week, Finnish holidays apart.
func everyDay() calendar.Calendar {
	c := calendar.Calendar{TimeZone: "Europe/Helsinki", Preset: "fi"}
	for wd := 1; wd <= 7; wd++ {
		c.Hours = append(c.Hours, calendar.Hours{Weekday: wd, Start: "08:00", End: "16:00"})
	}
	return c
}

// nightShift works Sundays 02:00–06:00, across Helsinki's DST switch hour.
func nightShift() calendar.Calendar {
	return calendar.Calendar{TimeZone: "Europe/Helsinki", Hours: []calendar.Hours{{Weekday: 7, Start: "02:00", End: "06:00"}}}
}

type addCase struct {
	name  string
	cal   calendar.Calendar
	start time.Time
	d     time.Duration
	want  time.Time
}

func addCases() []addCase {
	office, daily, night := officeHours(), everyDay(), nightShift()
	return []addCase{
		{"within a day", office, hel(3, 2, 9, 0), 2 * time.Hour, hel(3, 2, 11, 0)},
		{"zero duration", office, hel(3, 7, 9, 0), 0, hel(3, 7, 9, 0)},
		{"ends at closing, not next opening", office, hel(3, 2, 8, 0), 8 * time.Hour, hel(3, 2, 16, 0)},
		{"across a night", office, hel(3, 2, 15, 0), 2 * time.Hour, hel(3, 3, 9, 0)},
		{"before opening", office, hel(3, 2, 6, 0), time.Hour, hel(3, 2, 9, 0)},
		{"after closing", office, hel(3, 2, 17, 30), time.Hour, hel(3, 3, 9, 0)},
		{"across a weekend", office, hel(3, 6, 15, 0), 2 * time.Hour, hel(3, 9, 9, 0)},
		{"from a Saturday", office, hel(3, 7, 10, 0), time.Hour, hel(3, 9, 9, 0)},
		{"five business days", office, hel(3, 2, 8, 0), 40 * time.Hour, hel(3, 6, 16, 0)},
		{"thirty business days", office, hel(3, 2, 8, 0), 30 * 8 * time.Hour, hel(4, 14, 16, 0)}, // skips Easter Friday and Monday
		{"over Easter", office, hel(4, 2, 15, 0), 2 * time.Hour, hel(4, 7, 9, 0)},
		{"over Midsummer Eve", office, hel(6, 18, 15, 0), 2 * time.Hour, hel(6, 22, 9, 0)},
		{"over All Saints' Day", daily, hel(10, 30, 15, 0), 2 * time.Hour, hel(11, 1, 9, 0)},
		{"over Ascension Day", daily, hel(5, 13, 15, 0), 2 * time.Hour, hel(5, 15, 9, 0)},
		{"explicit holiday before Christmas", office, hel(12, 22, 15, 0), 2 * time.Hour, hel(12, 28, 9, 0)},
		{"over New Year", office, hel(12, 31, 15, 0), 2 * time.Hour, time.Date(2027, 1, 4, 9, 0, 0, 0, helsinki)}, // Jan 1 Fri holiday
		{"weekend with spring DST switch", office, hel(3, 27, 15, 0), 2 * time.Hour, hel(3, 30, 9, 0)},
		{"weekend with autumn DST switch", office, hel(10, 23, 15, 0), 2 * time.Hour, hel(10, 26, 9, 0)},
		{"full day on spring DST day", daily, hel(3, 29, 8, 0), 8 * time.Hour, hel(3, 29, 16, 0)},
		{"full day on autumn DST day", daily, hel(10, 25, 8, 0), 8 * time.Hour, hel(10, 25, 16, 0)},
		// 02:00 EET is 00:00 UTC; 06:00 EEST is 03:00 UTC: the shift is 3h.
		{"spring shift ends at closing", night, hel(3, 29, 2, 0), 3 * time.Hour, hel(3, 29, 6, 0)},
		{"spring shift past the switch", night, hel(3, 29, 2, 0), 90 * time.Minute, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
		{"spring shift spills to next week", night, hel(3, 29, 2, 0), 4 * time.Hour, hel(4, 5, 3, 0)},
		// 02:00 EEST is 23:00 UTC the day before; 06:00 EET is 04:00 UTC: the shift is 5h.
		{"autumn shift ends at closing", night, hel(10, 25, 2, 0), 5 * time.Hour, hel(10, 25, 6, 0)},
		{"autumn shift reaches the repeated hour", night, hel(10, 25, 2, 0), 2 * time.Hour, time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)},
	}
}

func TestAddBusiness(t *testing.T) {
	for _, tt := range addCases() {
		t.Run(tt.name, func(t *testing.T) {
			s := compile(t, tt.cal)
			if got := s.AddBusiness(tt.start, tt.d); !got.Equal(tt.want) {
				t.Fatalf("AddBusiness(%v, %v) = %v, want %v", tt.start, tt.d, got, tt.want)
			}
			// The same expectations read backwards.
			if got := s.Business(tt.start, tt.want); got != tt.d {
				t.Fatalf("Business(%v, %v) = %v, want %v", tt.start, tt.want, got, tt.d)
			}
		})
	}
}

func TestBusiness(t *testing.T) {
	office, daily, night := compile(t, officeHours()), compile(t, everyDay()), compile(t, nightShift())
	tests := []struct {
		name     string
		s        *calendar.Schedule
		from, to time.Time
		want     time.Duration
	}{
		{"reversed", office, hel(3, 3, 12, 0), hel(3, 2, 12, 0), 0},
		{"empty", office, hel(3, 2, 12, 0), hel(3, 2, 12, 0), 0},
		{"inside hours", office, hel(3, 2, 9, 15), hel(3, 2, 10, 0), 45 * time.Minute},
		{"night only", office, hel(3, 2, 16, 0), hel(3, 3, 8, 0), 0},
		{"whole week", office, hel(3, 2, 0, 0), hel(3, 9, 0, 0), 40 * time.Hour},
		{"Easter week", office, hel(3, 30, 0, 0), hel(4, 6, 23, 0), 32 * time.Hour},
		{"Christmas week", office, hel(12, 21, 0, 0), hel(12, 28, 0, 0), 16 * time.Hour},
		{"year 2026", office, time.Date(2026, 1, 1, 0, 0, 0, 0, helsinki), time.Date(2027, 1, 1, 0, 0, 0, 0, helsinki), 251 * 8 * time.Hour}, // 261 weekdays, 10 of them holidays,
		{"spring DST Sunday, 8h day", daily, hel(3, 29, 0, 0), hel(3, 30, 0, 0), 8 * time.Hour},
		{"autumn DST Sunday, 8h day", daily, hel(10, 25, 0, 0), hel(10, 26, 0, 0), 8 * time.Hour},
		{"spring shift is 3h", night, hel(3, 28, 0, 0), hel(3, 30, 0, 0), 3 * time.Hour},
		{"autumn shift is 5h", night, hel(10, 24, 0, 0), hel(10, 26, 0, 0), 5 * time.Hour},
		{"ordinary shift is 4h", night, hel(3, 21, 0, 0), hel(3, 23, 0, 0), 4 * time.Hour},
		{"instants in another zone", office, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC), 6 * time.Hour}, // 09:00–15:00 EET,
	}
	for _, tt := range tests {
		if got := tt.s.Business(tt.from, tt.to); got != tt.want {
			t.Errorf("%s: Business = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A target beyond ten years of business time is reported as never reached
// rather than searched for without end.
func TestAddBusinessGivesUpAfterTenYears(t *testing.T) {
	s := compile(t, officeHours())
	if got := s.AddBusiness(hel(1, 5, 8, 0), 11*52*40*time.Hour); !got.IsZero() {
		t.Fatalf("got %v, want the zero time", got)
	}
	c := officeHours()
	c.Hours = []calendar.Hours{{Weekday: 1, Start: "08:00", End: "16:00"}}
	for y := 2026; y < 2040; y++ { // every day of fourteen years is a holiday
		for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
			c.Holidays = append(c.Holidays, d.Format(time.DateOnly))
		}
	}
	if got := compile(t, c).AddBusiness(hel(1, 5, 8, 0), time.Hour); !got.IsZero() {
		t.Fatalf("closed calendar: got %v, want the zero time", got)
	}
}

// AddBusiness and Business are inverses: the instant AddBusiness returns is
// the earliest one at which Business reaches the duration.
func TestAddBusinessInvertsBusiness(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 3))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, helsinki)
	for _, c := range []calendar.Calendar{officeHours(), everyDay(), nightShift()} {
		s := compile(t, c)
		for range 500 {
			start := base.Add(time.Duration(rng.Int64N(int64(366 * 24 * time.Hour))))
			d := time.Duration(rng.Int64N(int64(300 * time.Hour)))
			end := s.AddBusiness(start, d)
			if got := s.Business(start, end); got != d {
				t.Fatalf("%s: Business(%v, AddBusiness(%v, %v) = %v) = %v", c.TimeZone, start, start, d, end, got)
			}
			if d > 0 && s.Business(start, end.Add(-time.Nanosecond)) >= d {
				t.Fatalf("AddBusiness(%v, %v) = %v is not the earliest instant", start, d, end)
			}
		}
	}
}

func TestScheduleIsSafeForConcurrentUse(t *testing.T) {
	s := compile(t, officeHours())
	done := make(chan time.Time)
	for i := range 8 {
		go func() { done <- s.AddBusiness(hel(3, 2, 8, 0).AddDate(0, 0, i*40), 200*time.Hour) }()
	}
	for range 8 {
		if (<-done).IsZero() {
			t.Error("unreached target")
		}
	}
}
