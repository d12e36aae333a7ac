package money

import (
	"math"
	"math/big"

	"github.com/govalues/decimal"
	"github.com/tiski/tiski/fault"
)

// Add returns m+o. Different currencies or an int64 overflow are faults,
// never a wrapped or converted amount.
func (m Money) Add(o Money) (Money, error) {
	if err := sameCurrency(m, o); err != nil {
		return Money{}, err
	}
	s := m.Minor + o.Minor
	// Signed overflow happened iff both operands share a sign the sum lacks.
	if (m.Minor >= 0) == (o.Minor >= 0) && (s >= 0) != (m.Minor >= 0) {
		return Money{}, overflow(m, "+", o)
	}
	return Money{Minor: s, Currency: m.Currency}, nil
}

// Sub returns m-o with the same checks as Add.
func (m Money) Sub(o Money) (Money, error) {
	if err := sameCurrency(m, o); err != nil {
		return Money{}, err
	}
	d := m.Minor - o.Minor
	// Signed overflow happened iff the operands differ in sign and the
	// difference does not have m's sign.
	if (m.Minor >= 0) != (o.Minor >= 0) && (d >= 0) != (m.Minor >= 0) {
		return Money{}, overflow(m, "-", o)
	}
	return Money{Minor: d, Currency: m.Currency}, nil
}

// Neg returns -m; only math.MinInt64 has no negation.
func (m Money) Neg() (Money, error) {
	if m.Minor == math.MinInt64 {
		return Money{}, fault.Invalid("amount_minor", "amount %s cannot be negated", m)
	}
	return Money{Minor: -m.Minor, Currency: m.Currency}, nil
}

// MulQuantity returns m×q rounded once, half-to-even, to minor units. The
// product is computed exactly (big.Int) because decimal.Mul may round to 19
// digits first, and rounding twice can move a result by one minor unit.
func (m Money) MulQuantity(q decimal.Decimal) (Money, error) {
	num := new(big.Int).SetUint64(q.Coef())
	if q.IsNeg() {
		num.Neg(num)
	}
	num.Mul(num, big.NewInt(m.Minor))
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(q.Scale())), nil)
	minor, ok := quoHalfEven(num, den)
	if !ok {
		return Money{}, fault.Invalid("amount_minor", "%s × %s is out of range", m, q)
	}
	return Money{Minor: minor, Currency: m.Currency}, nil
}

// Prorate returns m×num/den rounded half-to-even, e.g. a monthly fee for the
// 12 of 30 days a subscription ran. num must lie in [0, den] so a swapped
// pair of arguments is caught rather than charged.
func Prorate(m Money, num, den int64) (Money, error) {
	if den <= 0 {
		return Money{}, fault.Invalid("days", "proration denominator must be positive, got %d", den)
	}
	if num < 0 || num > den {
		return Money{}, fault.Invalid("days", "proration %d/%d must be between 0 and 1", num, den)
	}
	n := new(big.Int).Mul(big.NewInt(m.Minor), big.NewInt(num))
	minor, _ := quoHalfEven(n, big.NewInt(den)) // |result| <= |m.Minor|, always fits
	return Money{Minor: minor, Currency: m.Currency}, nil
}

// MulRatio returns m×num/den rounded once, half-to-even, e.g. an hourly
// price for 50 minutes is MulRatio(price, 50, 60). den must be positive.
func (m Money) MulRatio(num, den int64) (Money, error) {
	if den <= 0 {
		return Money{}, fault.Invalid("amount_minor", "ratio denominator must be positive, got %d", den)
	}
	n := new(big.Int).Mul(big.NewInt(m.Minor), big.NewInt(num))
	minor, ok := quoHalfEven(n, big.NewInt(den))
	if !ok {
		return Money{}, fault.Invalid("amount_minor", "%s × %d/%d is out of range", m, num, den)
	}
	return Money{Minor: minor, Currency: m.Currency}, nil
}

// quoHalfEven returns num/den (den > 0) rounded half-to-even and whether it
// fits int64.
func quoHalfEven(num, den *big.Int) (int64, bool) {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int)) // truncates toward zero
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	if c := twice.Cmp(den); c > 0 || (c == 0 && q.Bit(0) == 1) {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func sameCurrency(a, b Money) error {
	if a.Currency != b.Currency {
		return fault.Invalid("currency", "cannot combine %s with %s", a.Currency, b.Currency)
	}
	return nil
}

func overflow(a Money, op string, b Money) error {
	return fault.Invalid("amount_minor", "%s %s %s is out of range", a, op, b)
}
