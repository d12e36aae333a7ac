package money_test

import (
	"math"
	"testing"

	"github.com/tiski/tiski/money"
)

func TestParseDecimalAmount(t *testing.T) {
	tests := []struct {
		in, currency string
		want         int64
	}{
		{"1234.56", "EUR", 123456},
		{"-12.5", "EUR", -1250},
		{"0", "EUR", 0},
		{"-0", "EUR", 0},
		{"007.10", "EUR", 710},
		{" 5 ", "EUR", 500},
		{"0.01", "USD", 1},
		{"1234", "JPY", 1234},
		{"-7", "ISK", -7},
		{"1.234", "KWD", 1234},
		{"0.5", "KWD", 500},
		{"92233720368547758.07", "EUR", math.MaxInt64},
		{"-92233720368547758.08", "EUR", math.MinInt64},
		{"-9223372036854775808", "JPY", math.MinInt64},
	}
	for _, tt := range tests {
		got, err := money.ParseDecimalAmount(tt.in, tt.currency)
		want := money.Money{Minor: tt.want, Currency: tt.currency}
		if err != nil || got != want {
			t.Errorf("ParseDecimalAmount(%q, %s) = %+v, %v; want %+v", tt.in, tt.currency, got, err, want)
		}
	}
}

func TestParseDecimalAmountRefuses(t *testing.T) {
	tests := []struct {
		in, currency, field string
	}{
		{"1.234", "EUR", "amount"},                 // three decimals for a two-decimal currency
		{"1.0", "JPY", "amount"},                   // JPY has no minor digits at all
		{"1.2345", "KWD", "amount"},                // KWD has three
		{"1e3", "EUR", "amount"},                   // exponent
		{"1E3", "EUR", "amount"},                   // exponent
		{"NaN", "EUR", "amount"},                   // not a number
		{"Inf", "EUR", "amount"},                   // not a number
		{"-Infinity", "EUR", "amount"},             // not a number
		{"+1", "EUR", "amount"},                    // only a minus sign is allowed
		{".5", "EUR", "amount"},                    // digits required before the point
		{"5.", "EUR", "amount"},                    // and after it
		{"1,5", "EUR", "amount"},                   // decimal comma is ambiguous
		{"1 234,56", "EUR", "amount"},              // grouping refused
		{"1,234.56", "EUR", "amount"},              // grouping refused
		{"", "EUR", "amount"},                      // empty
		{"-", "EUR", "amount"},                     // sign only
		{"--1", "EUR", "amount"},                   // double sign
		{"0x10", "EUR", "amount"},                  // hex
		{"１２", "EUR", "amount"},                    // full-width digits
		{"92233720368547758.08", "EUR", "amount"},  // MaxInt64 + 1 minor unit
		{"-92233720368547758.09", "EUR", "amount"}, // MinInt64 - 1 minor unit
		{"99999999999999999999", "JPY", "amount"},  // far beyond int64
		{"1.00", "eur", "currency"},                // lower-case code
		{"1.00", "XYZ", "currency"},                // unknown code
	}
	for _, tt := range tests {
		_, err := money.ParseDecimalAmount(tt.in, tt.currency)
		wantInvalid(t, err, tt.field)
	}
}

func TestAmountAndString(t *testing.T) {
	tests := []struct {
		m            money.Money
		amount, text string
	}{
		{money.Money{Minor: 123456, Currency: "EUR"}, "1234.56", "1234.56 EUR"},
		{money.Money{Minor: -5, Currency: "EUR"}, "-0.05", "-0.05 EUR"},
		{money.Money{Minor: 0, Currency: "USD"}, "0.00", "0.00 USD"},
		{money.Money{Minor: 42, Currency: "JPY"}, "42", "42 JPY"},
		{money.Money{Minor: 1, Currency: "KWD"}, "0.001", "0.001 KWD"},
		{money.Money{Minor: math.MinInt64, Currency: "EUR"}, "-92233720368547758.08", "-92233720368547758.08 EUR"},
		{money.Money{Minor: 250, Currency: "XYZ"}, "250", "250 XYZ"},
	}
	for _, tt := range tests {
		if got := tt.m.Amount(); got != tt.amount {
			t.Errorf("%+v.Amount() = %q, want %q", tt.m, got, tt.amount)
		}
		if got := tt.m.String(); got != tt.text {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.text)
		}
	}
}

// Amount is what exports write and ParseDecimalAmount reads, so every value
// must survive the round trip in every supported exponent.
func FuzzAmountRoundTrip(f *testing.F) {
	for _, minor := range []int64{0, 1, -1, 99, -100, 123456, math.MaxInt64, math.MinInt64} {
		f.Add(minor)
	}
	f.Fuzz(func(t *testing.T, minor int64) {
		for _, currency := range []string{"EUR", "JPY", "KWD"} {
			in := money.Money{Minor: minor, Currency: currency}
			out, err := money.ParseDecimalAmount(in.Amount(), currency)
			if err != nil || out != in {
				t.Fatalf("%+v → %q → %+v, %v", in, in.Amount(), out, err)
			}
		}
	})
}
