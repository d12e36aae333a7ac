package reports

import (
	"slices"
	"strconv"
	"strings"
)

// Fixed is a non-negative figure with a fixed number of decimals, computed
// from integers and rounded half-to-even once, so every engine and every run
// prints the same digits.
type Fixed struct {
	scaled   int64
	decimals int
}

// ratio returns num/den × factor with the given decimals, or nil when den
// is 0 (a share of nothing is no figure, not 0).
func ratio(num, den, factor int64, decimals int) *Fixed {
	if den == 0 {
		return nil
	}
	scale := int64(1)
	for range decimals {
		scale *= 10
	}
	return &Fixed{scaled: quoHalfEven(num*factor*scale, den), decimals: decimals}
}

// percent is num/den as a percentage with one decimal.
func percent(num, den int64) *Fixed { return ratio(num, den, 100, 1) }

// quoHalfEven is num/den for num >= 0, den > 0, rounded half-to-even.
func quoHalfEven(num, den int64) int64 {
	q, r := num/den, num%den
	if 2*r > den || (2*r == den && q%2 == 1) {
		q++
	}
	return q
}

func (f Fixed) String() string {
	s := strconv.FormatInt(f.scaled, 10)
	if f.decimals == 0 {
		return s
	}
	if len(s) <= f.decimals {
		s = strings.Repeat("0", f.decimals-len(s)+1) + s
	}
	return s[:len(s)-f.decimals] + "." + s[len(s)-f.decimals:]
}

// MarshalJSON writes the figure as a JSON number with its decimals.
func (f Fixed) MarshalJSON() ([]byte, error) { return []byte(f.String()), nil }

// Durations are business minutes: how many requests took each value.
type durations map[int]int64

func (d durations) add(minutes int, n int64) { d[minutes] += n }

func (d durations) merge(o durations) {
	for m, n := range o {
		d[m] += n
	}
}

// percentile is the nearest-rank percentile: the smallest value v such that
// at least p % of the values are <= v, i.e. the value at rank ⌈p/100 × n⌉ in
// ascending order. nil for no values.
func (d durations) percentile(p int64) *int {
	var n int64
	for _, c := range d {
		n += c
	}
	if n == 0 {
		return nil
	}
	rank := (p*n + 99) / 100
	values := make([]int, 0, len(d))
	for m := range d {
		values = append(values, m)
	}
	slices.Sort(values)
	var seen int64
	for _, m := range values {
		if seen += d[m]; seen >= rank {
			return &m
		}
	}
	return nil // unreachable: rank <= n
}

// Times are the median and 90th percentile of a set of business durations,
// in minutes; nil when the set is empty.
type Times struct {
	Median, P90 *int
}

func (d durations) times() Times { return Times{Median: d.percentile(50), P90: d.percentile(90)} }
