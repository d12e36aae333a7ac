package units

import "github.com/tiski/tiski/fault"

// forbidden is a 403 fault with a machine-readable reason, which
// audit.Refuse keeps in the refusal it records.
func forbidden(reason, format string, args ...any) *fault.Error {
	return fault.Forbidden(format, args...).With("reason", reason)
}
