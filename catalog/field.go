package catalog

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/govalues/decimal"

	"github.com/tiski/tiski/fault"
)

// Field is one input of a service's request form.
type Field struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"`
}

// FieldTypes are the kinds of input a form can ask for.
var FieldTypes = []string{"text", "number", "choice", "date"}

const (
	maxFields         = 30
	maxFieldTextRunes = 2000
)

var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CheckFields validates a form definition.
func CheckFields(fields []Field) error {
	if len(fields) > maxFields {
		return fault.Invalid("fields", "a form has at most %d fields", maxFields)
	}
	seen := map[string]bool{}
	for i, f := range fields {
		name := fmt.Sprintf("fields[%d]", i)
		if !fieldKey.MatchString(f.Key) {
			return fault.Invalid(name+".key", "field keys are 1–40 lower-case letters, digits or '_', starting with a letter")
		}
		if seen[f.Key] {
			return fault.Invalid(name+".key", "field key %s appears twice", f.Key)
		}
		seen[f.Key] = true
		if err := fault.Text(name+".label", f.Label, 1, 100, false); err != nil {
			return err
		}
		if !slices.Contains(FieldTypes, f.Type) {
			return fault.Invalid(name+".type", "field type must be one of text, number, choice, date")
		}
		if f.Type == "choice" {
			if len(f.Options) == 0 {
				return fault.Invalid(name+".options", "a choice field needs options")
			}
			for _, o := range f.Options {
				if err := fault.Text(name+".options", o, 1, 100, false); err != nil {
					return err
				}
			}
			if len(slices.Compact(slices.Sorted(slices.Values(f.Options)))) != len(f.Options) {
				return fault.Invalid(name+".options", "options must be distinct")
			}
		} else if len(f.Options) > 0 {
			return fault.Invalid(name+".options", "only choice fields have options")
		}
	}
	return nil
}

// ValidateValues checks submitted form values against the service's fields
// and returns them normalised (numbers as decimal strings, text trimmed).
func ValidateValues(fields []Field, values map[string]json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	for key := range values {
		if !slices.ContainsFunc(fields, func(f Field) bool { return f.Key == key }) {
			return nil, fault.Invalid("fields."+key, "the form has no field %s", key)
		}
	}
	for _, f := range fields {
		field := "fields." + f.Key
		raw, present := values[f.Key]
		if !present || string(raw) == "null" {
			if f.Required {
				return nil, fault.Invalid(field, "%s is required", f.Label)
			}
			continue
		}
		var value string
		switch f.Type {
		case "number":
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil {
				var s string
				if json.Unmarshal(raw, &s) != nil {
					return nil, fault.Invalid(field, "%s must be a number", f.Label)
				}
				n = json.Number(s)
			}
			d, err := decimal.Parse(string(n))
			if err != nil || strings.ContainsAny(string(n), "eE") {
				return nil, fault.Invalid(field, "%s must be a number such as 12.5", f.Label)
			}
			value = d.String()
		default:
			if err := json.Unmarshal(raw, &value); err != nil {
				return nil, fault.Invalid(field, "%s must be text", f.Label)
			}
			value = strings.TrimSpace(value)
		}
		if value == "" {
			if f.Required {
				return nil, fault.Invalid(field, "%s is required", f.Label)
			}
			continue
		}
		switch f.Type {
		case "text":
			if err := fault.Text(field, value, 1, maxFieldTextRunes, true); err != nil {
				return nil, err
			}
		case "choice":
			if !slices.Contains(f.Options, value) {
				return nil, fault.Invalid(field, "%s must be one of: %s", f.Label, strings.Join(f.Options, ", "))
			}
		case "date":
			if _, err := time.Parse(DateLayout, value); err != nil {
				return nil, fault.Invalid(field, "%s must be a date such as 2026-12-01", f.Label)
			}
		}
		out[f.Key] = value
	}
	return out, nil
}
