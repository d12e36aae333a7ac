package money_test

import (
	"math"
	"testing"

	"github.com/tiski/tiski/money"
)

func TestFormat(t *testing.T) {
	const nb = "\u00a0" // the no-break space FormatFI uses
	tests := []struct {
		minor    int64
		currency string
		en, fi   string
	}{
		{123456, "EUR", "€1,234.56", "1" + nb + "234,56" + nb + "€"},
		{-500, "EUR", "-€5.00", "-5,00" + nb + "€"},
		{5, "EUR", "€0.05", "0,05" + nb + "€"},
		{-5, "EUR", "-€0.05", "-0,05" + nb + "€"},
		{0, "EUR", "€0.00", "0,00" + nb + "€"},
		{99999, "EUR", "€999.99", "999,99" + nb + "€"},
		{100000, "EUR", "€1,000.00", "1" + nb + "000,00" + nb + "€"},
		{100000000, "USD", "$1,000,000.00", "1" + nb + "000" + nb + "000,00" + nb + "$"},
		{99, "GBP", "£0.99", "0,99" + nb + "£"},
		{123456, "SEK", "SEK 1,234.56", "1" + nb + "234,56" + nb + "SEK"},
		{-123456, "SEK", "-SEK 1,234.56", "-1" + nb + "234,56" + nb + "SEK"},
		{123, "CHF", "CHF 1.23", "1,23" + nb + "CHF"},
		{1234567, "JPY", "JPY 1,234,567", "1" + nb + "234" + nb + "567" + nb + "JPY"},
		{-12, "ISK", "-ISK 12", "-12" + nb + "ISK"},
		{1234567, "KWD", "KWD 1,234.567", "1" + nb + "234,567" + nb + "KWD"},
		{math.MinInt64, "EUR", "-€92,233,720,368,547,758.08",
			"-92" + nb + "233" + nb + "720" + nb + "368" + nb + "547" + nb + "758,08" + nb + "€"},
		// An unknown currency has no decimal point to place, so raw units show.
		{5, "XYZ", `5 minor units of "XYZ"`, `5 minor units of "XYZ"`},
	}
	for _, tt := range tests {
		m := money.Money{Minor: tt.minor, Currency: tt.currency}
		if got := money.FormatEN(m); got != tt.en {
			t.Errorf("FormatEN(%+v) = %q, want %q", m, got, tt.en)
		}
		if got := money.FormatFI(m); got != tt.fi {
			t.Errorf("FormatFI(%+v) = %q, want %q", m, got, tt.fi)
		}
	}
}
