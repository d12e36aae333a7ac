package i18n

import (
	"testing"
	"time"

	"github.com/tiski/tiski/money"
)

func TestNumbersAndTimesFollowTheLocale(t *testing.T) {
	c := newCatalog(t)
	m, err := money.New(123456, "EUR")
	if err != nil {
		t.Fatal(err)
	}
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 12, 5, 0, 0, time.UTC)
	cases := []struct{ name, got, want string }{
		{"money en", c.Money("en", m), "€1,234.56"},
		{"money fi", c.Money("fi", m), "1\u00a0234,56\u00a0€"},
		{"money in a locale without a rule", c.Money("sv", m), "€1,234.56"},
		{"time en", c.Time("en", helsinki, at), "23 Nov 2026, 14:05"},
		{"time fi", c.Time("fi", helsinki, at), "23.11.2026 klo 14.05"},
		{"bytes", c.Bytes("en", 840), "840 B"},
		{"kibibytes en", c.Bytes("en", 12800), "12.5 KiB"},
		{"mebibytes fi", c.Bytes("fi", 3355443), "3,2 MiB"},
		{"negative money en", c.Money("en", money.Money{Minor: -500, Currency: "EUR"}), "-€5.00"},
		{"negative money fi", c.Money("fi", money.Money{Minor: -500, Currency: "EUR"}), "-5,00\u00a0€"},
		{"money without a sign en", c.Money("en", money.Money{Minor: 123456, Currency: "SEK"}), "SEK 1,234.56"},
		{"money without a sign fi", c.Money("fi", money.Money{Minor: 123456, Currency: "SEK"}), "1\u00a0234,56\u00a0SEK"},
		{"money without decimals", c.Money("en", money.Money{Minor: 1234567, Currency: "JPY"}), "JPY 1,234,567"},
		{"small money", c.Money("fi", money.Money{Minor: 5, Currency: "EUR"}), "0,05\u00a0€"},
		{"date fi", c.Date("fi", at), "23.11.2026"},
		{"month fi", c.MonthName("fi", at), "marras 2026"},
		{"month en", c.MonthName("en", at), "Nov 2026"},
		{"percent fi", c.Percent("fi", "97.5"), "97,5\u00a0%"},
		{"percent en", c.Percent("en", "97.5"), "97.5%"},
		{"minutes", Duration(45), "45 min"},
		{"hours", Duration(480), "8 h"},
		{"hours and minutes", Duration(90), "1 h 30 min"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
