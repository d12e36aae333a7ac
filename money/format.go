package money

import (
	"fmt"
	"strings"
)

// symbols are the currencies portal users know by sign; others show the code.
var symbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}

// nbsp is U+00A0 NO-BREAK SPACE. Finnish groups digits with a space; we use
// U+00A0 rather than the CLDR's narrow U+202F because every font and every
// spreadsheet paste handles it, and it still keeps "1 234,56 €" on one line.
const nbsp = "\u00a0"

// FormatEN renders m for English pages: "€1,234.56", "SEK 1,234.56",
// "-€5.00". The minus is ASCII so copied amounts paste into any tool.
func FormatEN(m Money) string {
	num, neg, ok := grouped(m, ",", ".")
	if !ok {
		return unknownCurrency(m)
	}
	prefix := m.Currency + " "
	if sym, ok := symbols[m.Currency]; ok {
		prefix = sym
	}
	if neg {
		prefix = "-" + prefix
	}
	return prefix + num
}

// FormatFI renders m for Finnish pages: "1 234,56 €", "-5,00 €",
// "1 234,56 SEK", with U+00A0 between digit groups and before the currency.
func FormatFI(m Money) string {
	num, neg, ok := grouped(m, nbsp, ",")
	if !ok {
		return unknownCurrency(m)
	}
	suffix := m.Currency
	if sym, ok := symbols[m.Currency]; ok {
		suffix = sym
	}
	if neg {
		num = "-" + num
	}
	return num + nbsp + suffix
}

// grouped returns |m| with thousands separators and the currency's decimals.
func grouped(m Money, group, point string) (num string, neg, ok bool) {
	digits, err := MinorDigits(m.Currency)
	if err != nil {
		return "", false, false
	}
	neg, whole, frac := split10(m.Minor, digits)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(c)
	}
	if digits > 0 {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String(), neg, true
}

// unknownCurrency cannot place a decimal point, so it shows raw minor units
// rather than a number that might be off by a power of ten.
func unknownCurrency(m Money) string {
	return fmt.Sprintf("%d minor units of %q", m.Minor, m.Currency)
}
