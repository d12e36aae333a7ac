package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tiski/tiski/money"
)

// Format is one locale's way of writing numbers, amounts and dates, read
// from the "format.*" keys of its message file (a locale that lacks one
// writes that part the fallback locale's way):
//
//	format.decimal, format.group   the decimal and digit-group separators
//	format.money                   an amount of a currency with a sign: {sign}{symbol}{number}
//	format.money.code              one without, by its code: {sign}{code} {number}
//	format.percent                 a percentage: {number}%
//	format.date, format.time       Go layouts of a calendar day and of an instant
//	format.month                   a month: {month} {year}
//	format.month.names             the twelve short month names, separated by spaces
type Format struct {
	Decimal, Group   string
	Money, MoneyCode string
	Percent          string
	Date, Time       string
	Month            string
	MonthNames       []string
}

// formatKeys are the keys Format reads, each with where it goes.
func (f *Format) fields() map[string]*string {
	return map[string]*string{"format.decimal": &f.Decimal, "format.group": &f.Group, "format.money": &f.Money,
		"format.money.code": &f.MoneyCode, "format.percent": &f.Percent, "format.date": &f.Date,
		"format.time": &f.Time, "format.month": &f.Month}
}

// readFormat reads the format of locale from the catalogue, falling back
// key by key; a month name list that is not twelve names is an error.
func (c *Catalog) readFormat(locale string) (Format, error) {
	var f Format
	for key, field := range f.fields() {
		text, ok := c.lookup(locale, key)
		if !ok {
			return f, fmt.Errorf("i18n: %s: no %s", locale, key)
		}
		*field = text
	}
	names, _ := c.lookup(locale, "format.month.names")
	if f.MonthNames = strings.Fields(names); len(f.MonthNames) != 12 {
		return f, fmt.Errorf("i18n: %s: format.month.names has %d names, want 12", locale, len(f.MonthNames))
	}
	return f, nil
}

// Format is the locale's format; an unknown locale has the fallback's.
func (c *Catalog) Format(locale string) Format {
	if f, ok := c.formats[locale]; ok {
		return f
	}
	return c.formats[Fallback]
}

// symbols are the currencies portal users know by sign; others show the code.
var symbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}

// Money formats an amount the locale's way: €1,234.56 or 1 234,56 €.
func (c *Catalog) Money(locale string, m money.Money) string {
	f := c.Format(locale)
	digits, err := money.MinorDigits(m.Currency)
	if err != nil {
		return fmt.Sprintf("%d minor units of %q", m.Minor, m.Currency)
	}
	sign := ""
	if m.Minor < 0 {
		sign = "-" // ASCII, so copied amounts paste into any tool
	}
	pattern, symbol := f.MoneyCode, m.Currency
	if s, ok := symbols[m.Currency]; ok {
		pattern, symbol = f.Money, s
	}
	return strings.NewReplacer("{sign}", sign, "{symbol}", symbol, "{code}", symbol,
		"{number}", f.grouped(m.Minor, digits)).Replace(pattern)
}

// grouped writes |minor| as a number with digits decimals, its whole part
// in groups of three.
func (f Format) grouped(minor int64, digits int) string {
	abs := uint64(minor)
	if minor < 0 {
		abs = uint64(-(minor + 1)) + 1 // no overflow at the smallest int64
	}
	s := strconv.FormatUint(abs, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	whole, frac := s[:len(s)-digits], s[len(s)-digits:]
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(f.Group)
		}
		b.WriteRune(r)
	}
	if digits > 0 {
		b.WriteString(f.Decimal + frac)
	}
	return b.String()
}

// Number writes a plain decimal ("12.5", as strconv and decimal types
// write them) with the locale's decimal separator.
func (c *Catalog) Number(locale, plain string) string {
	return strings.Replace(plain, ".", c.Format(locale).Decimal, 1)
}

// Percent writes a plain decimal as a percentage the locale's way.
func (c *Catalog) Percent(locale, plain string) string {
	return strings.ReplaceAll(c.Format(locale).Percent, "{number}", c.Number(locale, plain))
}

// Time formats an instant in the given zone (the organisation's).
func (c *Catalog) Time(locale string, loc *time.Location, t time.Time) string {
	return t.In(loc).Format(c.Format(locale).Time)
}

// Date formats a calendar day.
func (c *Catalog) Date(locale string, t time.Time) string {
	return t.Format(c.Format(locale).Date)
}

// MonthName names a month briefly: "Nov 2026", "marras 2026".
func (c *Catalog) MonthName(locale string, t time.Time) string {
	f := c.Format(locale)
	return strings.NewReplacer("{month}", f.MonthNames[t.Month()-1], "{year}", strconv.Itoa(t.Year())).Replace(f.Month)
}

// Bytes renders a file size: 840 B, 12.5 KiB, 3.2 MiB (decimal comma in Finnish).
func (c *Catalog) Bytes(locale string, n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return c.Number(locale, strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64)) + " KiB"
	}
	return c.Number(locale, strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64)) + " MiB"
}

// Duration renders an SLA target given in minutes: 45 min, 8 h, 1 h 30 min.
func Duration(minutes int) string {
	h, m := minutes/60, minutes%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}
