package i18n

import (
	"fmt"
	"strings"
	"time"

	"github.com/tiski/tiski/money"
)

// Money formats an amount the locale's way: €1,234.56 or 1 234,56 €.
// Locales without a rule of their own write money the English way.
func Money(locale string, m money.Money) string {
	if locale == "fi" {
		return money.FormatFI(m)
	}
	return money.FormatEN(m)
}

// Time formats an instant in the given zone (the organisation's).
func Time(locale string, loc *time.Location, t time.Time) string {
	t = t.In(loc)
	if locale == "fi" {
		return t.Format("2.1.2006 klo 15.04")
	}
	return t.Format("2 Jan 2006, 15:04")
}

// Bytes renders a file size: 840 B, 12.5 KiB, 3.2 MiB (decimal comma in Finnish).
func Bytes(locale string, n int64) string {
	var out string
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		out = fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		out = fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	if locale == "fi" {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
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
