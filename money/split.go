package money

import (
	"cmp"
	"math/bits"
	"slices"

	"github.com/tiski/tiski/fault"
)

// Split allocates m across weights by the largest-remainder method, so the
// parts always add up to m exactly. Each part gets floor(|m|·w/W); the units
// left over go one each to the largest remainders, ties to the lower index.
// A negative amount is split by magnitude and negated, so -100 over 1:1:1 is
// -34, -33, -33. Weights must be non-negative with a positive sum that fits
// int64; a zero weight always receives zero.
func (m Money) Split(weights []int64) ([]Money, error) {
	if len(weights) == 0 {
		return nil, fault.Invalid("weights", "at least one weight is required")
	}
	var total uint64
	for i, w := range weights {
		if w < 0 {
			return nil, fault.Invalid("weights", "weight %d is negative (%d)", i, w)
		}
		total += uint64(w)
		if total > 1<<63-1 {
			return nil, fault.Invalid("weights", "weights add up to more than %d", int64(1<<63-1))
		}
	}
	if total == 0 {
		return nil, fault.Invalid("weights", "weights must not all be zero")
	}

	// Work on the unsigned magnitude so math.MinInt64 splits like any other.
	mag := uint64(m.Minor)
	if m.Minor < 0 {
		mag = -mag
	}
	shares := make([]uint64, len(weights))
	rems := make([]uint64, len(weights))
	var given uint64
	for i, w := range weights {
		// mag·w is a 128-bit product; dividing it by total cannot overflow
		// because w <= total means the quotient is at most mag.
		hi, lo := bits.Mul64(mag, uint64(w))
		shares[i], rems[i] = bits.Div64(hi, lo, total)
		given += shares[i]
	}

	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	// Stable, so equal remainders keep index order: the lower index wins.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	// The left-over is fewer than the number of non-zero remainders, so
	// it never reaches a part whose exact share was already whole.
	for _, i := range order[:mag-given] {
		shares[i]++
	}

	parts := make([]Money, len(weights))
	for i, s := range shares {
		// Negate in uint64 before converting: a share of 2^63 (all of
		// math.MinInt64) has no positive int64 form.
		minor := int64(s)
		if m.Minor < 0 {
			minor = int64(-s)
		}
		parts[i] = Money{Minor: minor, Currency: m.Currency}
	}
	return parts, nil
}
