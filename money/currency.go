package money

import "github.com/tiski/tiski/fault"

// minorDigits is the ISO 4217 minor-unit exponent of each currency Tiski
// accepts. The list is deliberately short: an unknown code is refused rather
// than guessed, because a wrong exponent misprices every charge by 10^n.
var minorDigits = map[string]int{
	"EUR": 2, "USD": 2, "GBP": 2, "SEK": 2, "NOK": 2, "DKK": 2, "CHF": 2,
	"JPY": 0, "ISK": 0,
	"KWD": 3,
}

// MinorDigits returns how many decimal places the currency's minor unit has
// (2 for EUR, 0 for JPY, 3 for KWD), or a fault for an unknown or malformed code.
func MinorDigits(currency string) (int, error) {
	if !isCurrencyShape(currency) {
		return 0, fault.Invalid("currency", "currency %q must be three upper-case letters (ISO 4217)", currency)
	}
	d, ok := minorDigits[currency]
	if !ok {
		return 0, fault.Invalid("currency", "currency %q is not supported", currency)
	}
	return d, nil
}

func isCurrencyShape(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
