package money_test

import (
	"testing"

	"github.com/tiski/tiski/fault"
)

// wantInvalid fails unless err is a fault.KindInvalid naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("want *fault.Error for field %q, got %v (%T)", field, err, err)
	}
	if fe.Kind != fault.KindInvalid {
		t.Fatalf("want KindInvalid, got %v: %v", fe.Kind, fe)
	}
	if got := fe.Details["field"]; got != field {
		t.Fatalf("want field %q, got %v (message %q)", field, got, fe.Message)
	}
	if fe.Message == "" {
		t.Fatal("fault has no message")
	}
}
