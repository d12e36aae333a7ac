package i18n

import (
	"testing"
	"time"

	"github.com/tiski/tiski/money"
)

func TestNumbersAndTimesFollowTheLocale(t *testing.T) {
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
		{"money en", Money("en", m), "€1,234.56"},
		{"money fi", Money("fi", m), "1\u00a0234,56\u00a0€"},
		{"money in a locale without a rule", Money("sv", m), "€1,234.56"},
		{"time en", Time("en", helsinki, at), "23 Nov 2026, 14:05"},
		{"time fi", Time("fi", helsinki, at), "23.11.2026 klo 14.05"},
		{"bytes", Bytes("en", 840), "840 B"},
		{"kibibytes en", Bytes("en", 12800), "12.5 KiB"},
		{"mebibytes fi", Bytes("fi", 3355443), "3,2 MiB"},
		{"minutes", Duration(45), "45 min"},
		{"hours", Duration(480), "8 h"},
		{"hours and minutes", Duration(90), "1 h 30 min"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}
