package money

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tiski/tiski/fault"
)

// wireMoney is the API shape: {"amount_minor": 123450, "currency": "EUR"}.
type wireMoney struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
}

// MarshalJSON writes the API shape. It does not validate: values are checked
// when they enter (New, ParseDecimalAmount, UnmarshalJSON), not when they leave.
func (m Money) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireMoney{AmountMinor: m.Minor, Currency: m.Currency})
}

// UnmarshalJSON reads the API shape strictly: encoding/json alone would ignore
// unknown fields, take the last of duplicate keys, default missing fields to
// zero and answer 1e3 or 1.5 with a type error no user understands. A JSON
// null is refused too: an optional amount belongs in a *Money field.
func (m *Money) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fault.Invalid("amount", "money must be an object like {\"amount_minor\": 123450, \"currency\": \"EUR\"}")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fault.Invalid("amount", "money is not valid JSON")
		}
		key, _ := tok.(string)
		if key != "amount_minor" && key != "currency" {
			return fault.Invalid(key, "unknown money field %q", key)
		}
		if _, dup := fields[key]; dup {
			return fault.Invalid(key, "money field %q given twice", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fault.Invalid(key, "money field %q is not valid JSON", key)
		}
		fields[key] = raw
	}
	rawAmount, okA := fields["amount_minor"]
	rawCurrency, okC := fields["currency"]
	if !okA {
		return fault.Invalid("amount_minor", "amount_minor is required")
	}
	if !okC {
		return fault.Invalid("currency", "currency is required")
	}
	minor, err := parseJSONInt64(rawAmount)
	if err != nil {
		return err
	}
	if len(rawCurrency) == 0 || rawCurrency[0] != '"' {
		return fault.Invalid("currency", "currency must be a string such as \"EUR\"")
	}
	var currency string
	if err := json.Unmarshal(rawCurrency, &currency); err != nil {
		return fault.Invalid("currency", "currency must be a string such as \"EUR\"")
	}
	v, err := New(minor, currency)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// parseJSONInt64 accepts only a JSON integer literal that fits int64.
// The decoder has already checked JSON number grammar, so any '.', 'e' or 'E'
// marks a fraction or exponent and anything not starting with '-' or a digit
// is a string, bool, null or container.
func parseJSONInt64(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, fault.Invalid("amount_minor", "amount_minor must be a JSON integer in minor units (cents), not %s", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return 0, fault.Invalid("amount_minor", "amount_minor must be a whole number of minor units, not %s", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fault.Invalid("amount_minor", "amount_minor %s is out of range", s)
	}
	return n, nil
}
