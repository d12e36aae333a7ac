package fault

import (
	"reflect"
	"testing"
)

func TestFaultsCarryTheirFormatAndArguments(t *testing.T) {
	cases := []struct {
		name          string
		err           *Error
		code, message string
		format        string
		args          []any
	}{
		{"text names its field", Text("body", "", 1, 100, true),
			"invalid", "body is required", "%s is required", []any{Field("body")}},
		{"limits are arguments", Text("title", "abcdef", 1, 3, false),
			"invalid", "title must be at most 3 characters", "%s must be at most %d characters", []any{Field("title"), 3}},
		{"a value that is not the field stays a value", Invalid("code", "code %q is taken", "x"),
			"invalid", `code "x" is taken`, "code %q is taken", []any{"x"}},
		{"not found names the object", NotFound("request"),
			"not_found", "request not found", "request not found", nil},
		{"conflict keeps its code", Conflict("period_closed", "period %s is closed", "2026-11"),
			"period_closed", "period 2026-11 is closed", "period %s is closed", []any{"2026-11"}},
		{"forbidden", Forbidden("you may not %s this request", "close"),
			"forbidden", "you may not close this request", "you may not %s this request", []any{"close"}},
		{"unauthorized", Unauthorized("e-mail or password is wrong"),
			"unauthorized", "e-mail or password is wrong", "e-mail or password is wrong", nil},
		{"with keeps the message", Conflict("x", "a %d", 1).With("k", "v"),
			"x", "a 1", "a %d", []any{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.err
			if e.Code != c.code || e.Message != c.message || e.Format != c.format {
				t.Errorf("got code %q message %q format %q", e.Code, e.Message, e.Format)
			}
			if len(e.Args) != len(c.args) || (len(c.args) > 0 && !reflect.DeepEqual(e.Args, c.args)) {
				t.Errorf("args = %#v, want %#v", e.Args, c.args)
			}
		})
	}
}

func TestInvalidLeavesTheCallersArgumentsAlone(t *testing.T) {
	args := []any{"body"}
	e := Invalid("body", "%s is required", args...)
	if _, ok := args[0].(string); !ok {
		t.Errorf("caller's args became %#v", args)
	}
	if e.Details["field"] != "body" {
		t.Errorf("details = %v", e.Details)
	}
}
