package calendar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tiski/tiski/calendar"
)

func TestDue(t *testing.T) {
	s := compile(t, officeHours())
	start := hel(3, 2, 9, 0) // Monday
	tests := []struct {
		name   string
		target time.Duration
		pauses []calendar.Interval
		want   time.Time
	}{
		{"no pauses", 4 * time.Hour, nil, hel(3, 2, 13, 0)},
		{"zero target", 0, nil, start},
		{"closed pause in hours", 4 * time.Hour, []calendar.Interval{{hel(3, 2, 10, 0), hel(3, 2, 11, 0)}}, hel(3, 2, 14, 0)},
		// Paused 15:00–09:00 hides 1h on Monday and 1h on Tuesday morning.
		{"pause overnight", 8 * time.Hour, []calendar.Interval{{hel(3, 2, 15, 0), hel(3, 3, 9, 0)}}, hel(3, 3, 11, 0)},
		{"pause on a weekend costs nothing", 16 * time.Hour, []calendar.Interval{{hel(3, 7, 10, 0), hel(3, 8, 10, 0)}}, hel(3, 4, 9, 0)},
		{"overlapping pauses count once", 4 * time.Hour, []calendar.Interval{
			{hel(3, 2, 10, 30), hel(3, 2, 12, 0)},
			{hel(3, 2, 10, 0), hel(3, 2, 11, 0)},
		}, hel(3, 2, 15, 0)},
		{"pause begun before start", 4 * time.Hour, []calendar.Interval{{hel(3, 2, 7, 0), hel(3, 2, 10, 0)}}, hel(3, 2, 14, 0)},
		{"pause ended before start", 4 * time.Hour, []calendar.Interval{{hel(2, 27, 10, 0), hel(2, 27, 12, 0)}}, hel(3, 2, 13, 0)},
		{"pause after due", 4 * time.Hour, []calendar.Interval{{hel(3, 2, 14, 0), hel(3, 2, 15, 0)}}, hel(3, 2, 13, 0)},
		{"pause begins at due", 4 * time.Hour, []calendar.Interval{{hel(3, 2, 13, 0), hel(3, 2, 15, 0)}}, hel(3, 2, 13, 0)},
		{"empty pause ignored", 4 * time.Hour, []calendar.Interval{{hel(3, 2, 10, 0), hel(3, 2, 10, 0)}}, hel(3, 2, 13, 0)},
		{"still paused", 4 * time.Hour, []calendar.Interval{{From: hel(3, 2, 11, 0)}}, time.Time{}},
		{"still paused since before start", 4 * time.Hour, []calendar.Interval{{From: hel(3, 1, 11, 0)}}, time.Time{}},
		{"still paused, overlapping a closed pause", 4 * time.Hour, []calendar.Interval{
			{hel(3, 2, 10, 0), hel(3, 2, 12, 0)},
			{From: hel(3, 2, 11, 0)},
		}, time.Time{}},
		{"still paused, but due was reached first", 4 * time.Hour, []calendar.Interval{{From: hel(3, 3, 9, 0)}}, hel(3, 2, 13, 0)},
		{"closed pause then open pause", 4 * time.Hour, []calendar.Interval{
			{From: hel(3, 3, 9, 0)},
			{hel(3, 2, 10, 0), hel(3, 2, 11, 0)},
		}, hel(3, 2, 14, 0)},
	}
	for _, tt := range tests {
		if got := s.Due(start, tt.target, tt.pauses); !got.Equal(tt.want) {
			t.Errorf("%s: Due = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestElapsed(t *testing.T) {
	s := compile(t, officeHours())
	start, now := hel(3, 2, 9, 0), hel(3, 3, 12, 0) // 7h Monday + 4h Tuesday
	tests := []struct {
		name   string
		pauses []calendar.Interval
		want   time.Duration
	}{
		{"no pauses", nil, 11 * time.Hour},
		{"pause overnight", []calendar.Interval{{hel(3, 2, 15, 0), hel(3, 3, 9, 0)}}, 9 * time.Hour},
		{"still paused", []calendar.Interval{{From: hel(3, 3, 10, 0)}}, 9 * time.Hour},
		{"pause straddling start", []calendar.Interval{{hel(3, 2, 7, 0), hel(3, 2, 10, 0)}}, 10 * time.Hour},
		{"pause ending after now", []calendar.Interval{{hel(3, 3, 11, 0), hel(3, 3, 15, 0)}}, 10 * time.Hour},
		{"overlapping pauses count once", []calendar.Interval{
			{hel(3, 2, 10, 0), hel(3, 2, 12, 0)},
			{hel(3, 2, 11, 0), hel(3, 2, 13, 0)},
			{From: hel(3, 2, 12, 30)},
		}, time.Hour},
		{"pause begun after now", []calendar.Interval{{From: hel(3, 4, 9, 0)}}, 11 * time.Hour},
	}
	for _, tt := range tests {
		if got := s.Elapsed(start, now, tt.pauses); got != tt.want {
			t.Errorf("%s: Elapsed = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := s.Elapsed(now, start, nil); got != 0 {
		t.Errorf("now before start: Elapsed = %v, want 0", got)
	}
}

// Elapsed at the due instant is exactly the target, whatever the pauses.
func TestDueInvertsElapsed(t *testing.T) {
	s := compile(t, officeHours())
	rng := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, helsinki)
	span := func(max time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(max))) }
	for range 300 {
		start := base.Add(span(360 * 24 * time.Hour))
		target := span(60 * time.Hour)
		var pauses []calendar.Interval
		for range rng.IntN(4) {
			from := start.Add(span(10*24*time.Hour) - 24*time.Hour)
			pauses = append(pauses, calendar.Interval{From: from, To: from.Add(span(72 * time.Hour))})
		}
		due := s.Due(start, target, pauses)
		if got := s.Elapsed(start, due, pauses); got != target {
			t.Fatalf("Elapsed(%v, Due = %v, %v) = %v, want %v", start, due, pauses, got, target)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	s := compile(b, officeHours())
	start := hel(3, 2, 9, 0)
	pauses := []calendar.Interval{{hel(3, 3, 10, 0), hel(3, 4, 12, 0)}}
	for b.Loop() {
		if s.Due(start, 5*8*time.Hour, pauses).IsZero() {
			b.Fatal("unreached target")
		}
	}
}
