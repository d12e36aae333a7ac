package money

import (
	"strconv"
	"strings"

	"github.com/tiski/tiski/fault"
)

// ParseDecimalAmount reads a human-typed amount such as "1234.56" or "-12.5"
// in the given currency. Only -?digits(.digits)? is accepted, with at most the
// currency's minor digits: no grouping, no comma, no exponent, no NaN, so an
// ambiguous input is refused instead of guessed. Surrounding spaces are trimmed.
func ParseDecimalAmount(s string, currency string) (Money, error) {
	digits, err := MinorDigits(currency)
	if err != nil {
		return Money{}, err
	}
	in := strings.TrimSpace(s)
	body, neg := strings.CutPrefix(in, "-")
	whole, frac, hasPoint := strings.Cut(body, ".")
	if !allDigits(whole) || (hasPoint && !allDigits(frac)) {
		return Money{}, fault.Invalid("amount", "amount %q must look like 1234.56", s)
	}
	if len(frac) > digits {
		return Money{}, fault.Invalid("amount", "amount %q has more than %d decimals for %s", s, digits, currency)
	}
	// Scale to minor units by padding the fraction, then let ParseInt do the
	// overflow check, which also covers math.MinInt64 exactly.
	lit := whole + frac + strings.Repeat("0", digits-len(frac))
	if neg {
		lit = "-" + lit
	}
	minor, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return Money{}, fault.Invalid("amount", "amount %q is out of range", s)
	}
	return Money{Minor: minor, Currency: currency}, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
