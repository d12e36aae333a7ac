// Package money is Tiski's amount type: int64 minor units plus an ISO 4217
// currency. It never uses float64, rounds once (half-to-even) and reports
// overflow instead of wrapping, so the ledger can rely on exact sums.
package money

import (
	"strconv"
	"strings"
)

// Money is an amount in minor units (cents for EUR) of one currency.
type Money struct {
	Minor    int64
	Currency string
}

// New returns Money after checking the currency is a supported ISO 4217 code.
func New(minor int64, currency string) (Money, error) {
	m := Money{Minor: minor, Currency: currency}
	if err := m.Validate(); err != nil {
		return Money{}, err
	}
	return m, nil
}

// Validate reports a fault when the currency is malformed or unsupported.
func (m Money) Validate() error {
	_, err := MinorDigits(m.Currency)
	return err
}

// Amount renders the amount as a plain decimal ("-1234.56"), the form
// ParseDecimalAmount reads back and exports use. An unsupported currency
// renders the raw minor units.
func (m Money) Amount() string {
	digits, err := MinorDigits(m.Currency)
	if err != nil {
		digits = 0
	}
	neg, whole, frac := split10(m.Minor, digits)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(whole)
	if digits > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// String is for logs and error messages: "1234.56 EUR".
func (m Money) String() string {
	return m.Amount() + " " + m.Currency
}

// split10 splits |minor| into its whole and zero-padded fractional digits.
// It works on the unsigned magnitude so math.MinInt64 needs no special case.
func split10(minor int64, digits int) (neg bool, whole, frac string) {
	mag := uint64(minor)
	if minor < 0 {
		neg = true
		mag = -mag
	}
	s := strconv.FormatUint(mag, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return neg, s[:len(s)-digits], s[len(s)-digits:]
}
