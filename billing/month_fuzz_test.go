package billing_test

import (
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
)

// FuzzMonth: a month arrives in paths, forms and the command line. Whatever
// CheckMonth accepts is a calendar month that reads and writes back the
// same, and the month after it is again a month, later in text order (the
// ledger compares months as text), until the year 9999 runs out.
func FuzzMonth(f *testing.F) {
	for _, s := range []string{"2026-11", "2026-12", "0000-01", "9999-11", "2026-13", "2026-00", "2026-1", "26-11", "2026-11-01",
		"２０２６-11", "2026-11\n", " 2026-11", "2026/11", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, month string) {
		if billing.CheckMonth(month) != nil {
			return
		}
		m, err := time.Parse("2006-01", month)
		if err != nil || m.Format("2006-01") != month {
			t.Fatalf("CheckMonth accepted %q, which reads as %v, %v", month, m, err)
		}
		if month == "9999-12" {
			return
		}
		next := billing.NextMonth(month)
		if billing.CheckMonth(next) != nil || next <= month {
			t.Fatalf("NextMonth(%q) = %q", month, next)
		}
		if n, _ := time.Parse("2006-01", next); n.AddDate(0, -1, 0) != m {
			t.Fatalf("NextMonth(%q) = %q is not the month after", month, next)
		}
	})
}
