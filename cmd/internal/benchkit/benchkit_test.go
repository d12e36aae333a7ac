package benchkit

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1 // 1..100 ms
	}
	twoHundred := make([]int, 200)
	for i := range twoHundred {
		twoHundred[i] = i + 1
	}
	thousand := make([]int, 1000)
	for i := range thousand {
		thousand[i] = i + 1
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   int // ms
	}{
		// The textbook example: 15, 20, 35, 40, 50.
		{"wiki p5", ms(15, 20, 35, 40, 50), 5, 15},
		{"wiki p30", ms(15, 20, 35, 40, 50), 30, 20},
		{"wiki p40", ms(15, 20, 35, 40, 50), 40, 20},
		{"wiki p50", ms(15, 20, 35, 40, 50), 50, 35},
		{"wiki p100", ms(15, 20, 35, 40, 50), 100, 50},
		{"1..100 p50", ms(hundred...), 50, 50},
		{"1..100 p95", ms(hundred...), 95, 95},
		{"1..100 p99", ms(hundred...), 99, 99},
		{"1..200 p50", ms(twoHundred...), 50, 100},
		{"1..200 p95", ms(twoHundred...), 95, 190},
		{"1..200 p99", ms(twoHundred...), 99, 198},
		{"1..1000 p99.9", ms(thousand...), 99.9, 999},
		{"single", ms(7), 95, 7},
		{"p0 is the minimum", ms(3, 4, 5), 0, 3},
		{"above 100 is the maximum", ms(3, 4, 5), 120, 5},
		{"ten values p95", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10},
		{"ten values p90", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9},
	}
	for _, c := range cases {
		if got := Percentile(c.sorted, c.p); got != time.Duration(c.want)*time.Millisecond {
			t.Errorf("%s: Percentile(p=%v) = %v, want %d ms", c.name, c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("empty: got %v, want 0", got)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:18080", "http://[::1]:8080/", "http://localhost:1"} {
		if _, err := LoopbackBase(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:80", "http://example.com", "ftp://127.0.0.1", "127.0.0.1:80"} {
		if _, err := LoopbackBase(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
