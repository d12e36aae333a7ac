package money_test

import (
	"testing"

	"github.com/tiski/tiski/money"
)

func TestMinorDigits(t *testing.T) {
	known := map[string]int{
		"EUR": 2, "USD": 2, "GBP": 2, "SEK": 2, "NOK": 2, "DKK": 2, "CHF": 2,
		"JPY": 0, "ISK": 0, "KWD": 3,
	}
	for code, want := range known {
		got, err := money.MinorDigits(code)
		if err != nil || got != want {
			t.Errorf("MinorDigits(%q) = %d, %v; want %d", code, got, err, want)
		}
	}
	for _, code := range []string{"", "eur", "Eur", "EU", "EURO", "XXX", "BTC", "E1R", "ÉUR", " EUR"} {
		_, err := money.MinorDigits(code)
		wantInvalid(t, err, "currency")
	}
}

func TestNew(t *testing.T) {
	m, err := money.New(-42, "SEK")
	if err != nil || m != (money.Money{Minor: -42, Currency: "SEK"}) {
		t.Fatalf("New(-42, SEK) = %v, %v", m, err)
	}
	_, err = money.New(1, "sek")
	wantInvalid(t, err, "currency")
	wantInvalid(t, money.Money{Minor: 1, Currency: "ABC"}.Validate(), "currency")
}
