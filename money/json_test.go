package money_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

func TestMarshalJSON(t *testing.T) {
	got, err := json.Marshal(struct {
		Price money.Money `json:"price"`
	}{money.Money{Minor: 123450, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"price":{"amount_minor":123450,"currency":"EUR"}}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	got, _ = json.Marshal(money.Money{Minor: math.MinInt64, Currency: "JPY"})
	if want := `{"amount_minor":-9223372036854775808,"currency":"JPY"}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestUnmarshalJSONAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want money.Money
	}{
		{`{"amount_minor": 123450, "currency": "EUR"}`, money.Money{Minor: 123450, Currency: "EUR"}},
		{`{"currency":"JPY","amount_minor":-5}`, money.Money{Minor: -5, Currency: "JPY"}},
		{"\n{ \"amount_minor\" : 0 ,\t\"currency\" : \"KWD\" }\n", money.Money{Minor: 0, Currency: "KWD"}},
		{`{"amount_minor": -0, "currency": "EUR"}`, money.Money{Minor: 0, Currency: "EUR"}},
		{`{"amount_minor": 9223372036854775807, "currency": "USD"}`, money.Money{Minor: math.MaxInt64, Currency: "USD"}},
		{`{"amount_minor": -9223372036854775808, "currency": "USD"}`, money.Money{Minor: math.MinInt64, Currency: "USD"}},
	}
	for _, tt := range tests {
		var got money.Money
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestUnmarshalJSONRefuses(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"fraction", `{"amount_minor": 1.5, "currency": "EUR"}`, "amount_minor"},
		{"three decimals", `{"amount_minor": 1234.567, "currency": "EUR"}`, "amount_minor"},
		{"whole-valued fraction", `{"amount_minor": 100.0, "currency": "EUR"}`, "amount_minor"},
		{"exponent", `{"amount_minor": 1e3, "currency": "EUR"}`, "amount_minor"},
		{"upper exponent", `{"amount_minor": 1E3, "currency": "EUR"}`, "amount_minor"},
		{"negative exponent", `{"amount_minor": 100e-2, "currency": "EUR"}`, "amount_minor"},
		{"just over int64", `{"amount_minor": 9223372036854775808, "currency": "EUR"}`, "amount_minor"},
		{"just under int64", `{"amount_minor": -9223372036854775809, "currency": "EUR"}`, "amount_minor"},
		{"huge", `{"amount_minor": 100000000000000000000000000000, "currency": "EUR"}`, "amount_minor"},
		{"string amount", `{"amount_minor": "123", "currency": "EUR"}`, "amount_minor"},
		{"NaN string", `{"amount_minor": "NaN", "currency": "EUR"}`, "amount_minor"},
		{"null amount", `{"amount_minor": null, "currency": "EUR"}`, "amount_minor"},
		{"bool amount", `{"amount_minor": true, "currency": "EUR"}`, "amount_minor"},
		{"object amount", `{"amount_minor": {}, "currency": "EUR"}`, "amount_minor"},
		{"lower-case currency", `{"amount_minor": 1, "currency": "eur"}`, "currency"},
		{"unknown currency", `{"amount_minor": 1, "currency": "XYZ"}`, "currency"},
		{"long currency", `{"amount_minor": 1, "currency": "EURO"}`, "currency"},
		{"empty currency", `{"amount_minor": 1, "currency": ""}`, "currency"},
		{"numeric currency", `{"amount_minor": 1, "currency": 978}`, "currency"},
		{"null currency", `{"amount_minor": 1, "currency": null}`, "currency"},
		{"missing amount", `{"currency": "EUR"}`, "amount_minor"},
		{"missing currency", `{"amount_minor": 1}`, "currency"},
		{"empty object", `{}`, "amount_minor"},
		{"unknown field", `{"amount_minor": 1, "currency": "EUR", "amount": 1}`, "amount"},
		{"wrong-case field", `{"Amount_Minor": 1, "currency": "EUR"}`, "Amount_Minor"},
		{"duplicate field", `{"amount_minor": 1, "currency": "EUR", "amount_minor": 2}`, "amount_minor"},
		{"null", `null`, "amount"},
		{"array", `[1, "EUR"]`, "amount"},
		{"bare number", `123`, "amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m money.Money
			wantInvalid(t, json.Unmarshal([]byte(tt.in), &m), tt.field)
		})
	}
}

// NaN and Infinity are not JSON: encoding/json rejects them before our
// decoder runs, and our decoder rejects them when called directly.
func TestUnmarshalJSONRefusesNonJSONNumbers(t *testing.T) {
	for _, lit := range []string{"NaN", "Infinity", "-Infinity", "+1", "0x10", "01"} {
		in := `{"amount_minor": ` + lit + `, "currency": "EUR"}`
		var m money.Money
		if err := json.Unmarshal([]byte(in), &m); err == nil {
			t.Errorf("json.Unmarshal(%s) accepted %+v", in, m)
		}
		if _, ok := fault.As(m.UnmarshalJSON([]byte(in))); !ok {
			t.Errorf("UnmarshalJSON(%s) did not return a fault", in)
		}
	}
}

func TestUnmarshalJSONLeavesTargetOnError(t *testing.T) {
	m := money.Money{Minor: 7, Currency: "SEK"}
	if err := json.Unmarshal([]byte(`{"amount_minor": 1, "currency": "eur"}`), &m); err == nil {
		t.Fatal("accepted lower-case currency")
	}
	if m != (money.Money{Minor: 7, Currency: "SEK"}) {
		t.Fatalf("target changed to %+v", m)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, in := range []money.Money{
		{Minor: 0, Currency: "EUR"}, {Minor: -1, Currency: "ISK"},
		{Minor: math.MaxInt64, Currency: "KWD"}, {Minor: math.MinInt64, Currency: "CHF"},
	} {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out money.Money
		if err := json.Unmarshal(b, &out); err != nil || out != in {
			t.Errorf("%+v → %s → %+v, %v", in, b, out, err)
		}
	}
}
