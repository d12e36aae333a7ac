package fault

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text checks a human-entered string: valid UTF-8, no control characters
// (tabs and newlines only where multiline is true), and a length in runes
// between min and max. It returns nil when the text is acceptable.
func Text(field, value string, min, max int, multiline bool) *Error {
	if !utf8.ValidString(value) {
		return Invalid(field, "%s is not valid UTF-8", field)
	}
	for _, r := range value {
		if r == 0 || (unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))) {
			return Invalid(field, "%s contains a control character", field)
		}
	}
	n := utf8.RuneCountInString(value)
	if n < min {
		if min == 1 || strings.TrimSpace(value) == "" {
			return Invalid(field, "%s is required", field)
		}
		return Invalid(field, "%s must be at least %d characters", field, min)
	}
	if n > max {
		return Invalid(field, "%s must be at most %d characters", field, max)
	}
	return nil
}
