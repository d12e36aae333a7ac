package portal

import (
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/money"
)

// FuzzSafeNext: whatever a sign-in's next= or a form's back= holds, the
// place it sends the browser is a path of this site: it starts with one
// slash, holds no backslash or control character (which browsers drop or
// read as a slash) and parses without a scheme, host or user.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/requests?status=open", "//evil.example", "/\t/evil.example", "/\\evil.example",
		"https://evil.example", "http:/evil.example", "/%09/evil.example", "/\u2028/x", "", "/a#b", "/x?next=//y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", next, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
			t.Fatalf("safeNext(%q) = %q holds a backslash or control character", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q parses as %+v, %v", next, got, u, err)
		}
	})
}

// FuzzLocaleAmount: an amount typed in a money form is read the locale's
// way or refused, never guessed. Whatever is accepted is written back by
// formAmount as text that reads to the same amount, and every amount
// formAmount writes reads back to itself.
func FuzzLocaleAmount(f *testing.F) {
	cat, err := i18n.New()
	if err != nil {
		f.Fatal(err)
	}
	formats := map[string]i18n.Format{"en": cat.Format("en"), "fi": cat.Format("fi")}
	for _, s := range []string{"12.50", "1,234.56", "1 234,56", "12,5", "-0,01", "€ 3", "12,345", "1e3", "1.2.3", "", "-", "٣",
		"1\u00a0234,56", "1\u202f234,56", "0.001", "99999999999999999999"} {
		f.Add("en", "EUR", s)
		f.Add("fi", "EUR", s)
	}
	f.Add("en", "JPY", "1,234")
	f.Add("fi", "KWD", "1,234")
	f.Fuzz(func(t *testing.T, locale, currency, raw string) {
		fm, ok := formats[locale]
		if !ok {
			return
		}
		switch currency {
		case "EUR", "JPY", "KWD":
		default:
			currency = "EUR"
		}
		if m, ok := parseLocaleAmount(fm, raw, currency); ok {
			if m.Currency != currency {
				t.Fatalf("%s %q → currency %q", locale, raw, m.Currency)
			}
			back := formAmount(fm, m.Minor, currency)
			if again, ok := parseLocaleAmount(fm, back, currency); !ok || again != m {
				t.Fatalf("%s %q → %+v → %q → %+v, %v", locale, raw, m, back, again, ok)
			}
		}
		for _, minor := range []int64{int64(len(raw)), -int64(len(raw)) * 1013, 123456789} {
			text := formAmount(fm, minor, currency)
			if m, ok := parseLocaleAmount(fm, text, currency); !ok || m != (money.Money{Minor: minor, Currency: currency}) {
				t.Fatalf("%s %d %s → %q → %+v, %v", locale, minor, currency, text, m, ok)
			}
		}
	})
}
