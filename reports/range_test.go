package reports_test

import (
	"testing"
	"time"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/reports"
)

// TestQueryNarrowsItself reads report queries as typed: a month, a range or
// nothing (this month), unit filters, and one fault naming the bad field.
func TestQueryNarrowsItself(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC) // already December in Helsinki
	rows := []struct {
		name     string
		query    reports.Query
		from, to string
		field    string
	}{
		{"nothing is this month", reports.Query{}, "2026-12", "2026-12", ""},
		{"one month", reports.Query{Month: "2026-05"}, "2026-05", "2026-05", ""},
		{"a range", reports.Query{From: "2026-01", To: "2026-06", ConsumerUnitID: "7"}, "2026-01", "2026-06", ""},
		{"month and range", reports.Query{Month: "2026-05", From: "2026-01"}, "", "", "month"},
		{"from alone", reports.Query{From: "2026-01"}, "", "", "to"},
		{"to alone", reports.Query{To: "2026-01"}, "", "", "from"},
		{"backwards", reports.Query{From: "2026-06", To: "2026-01"}, "", "", "to"},
		{"too long", reports.Query{From: "2020-01", To: "2026-01"}, "", "", "to"},
		{"a day for a month", reports.Query{Month: "2026-05-01"}, "", "", "month"},
		{"a unit that is no id", reports.Query{Month: "2026-05", ProviderUnitID: "IT"}, "", "", "provider_unit_id"},
	}
	for _, r := range rows {
		scope, rng, err := r.query.Narrow(reports.Scope{OrgWide: true}, helsinki, now)
		if r.field != "" {
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindInvalid || fe.Details["field"] != r.field {
				t.Errorf("%s: %v, want invalid %s", r.name, err, r.field)
			}
			continue
		}
		if err != nil || rng.From != r.from || rng.To != r.to || !scope.OrgWide {
			t.Errorf("%s: %s..%s %v, want %s..%s", r.name, rng.From, rng.To, err, r.from, r.to)
		}
		if r.query.ConsumerUnitID == "7" && scope.ConsumerUnitID != 7 {
			t.Errorf("%s: consumer filter %d", r.name, scope.ConsumerUnitID)
		}
	}
}
