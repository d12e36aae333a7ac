package billing_test

import (
	"context"
	"testing"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
)

// TestChargeFilterValidatesItself reads charge filters as typed and lists
// with them: each bad field is one fault naming it, and ListCharges refuses
// a filter that no parser checked.
func TestChargeFilterValidatesItself(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		rows := []struct {
			name   string
			query  billing.ChargeQuery
			fields []string
		}{
			{"nothing", billing.ChargeQuery{}, nil},
			{"every field", billing.ChargeQuery{Period: "2026-05", Status: billing.ChargeDisputed, ConsumerUnitID: "1",
				ProviderUnitID: "2", ServiceID: "3"}, nil},
			{"a day for a month", billing.ChargeQuery{Period: "2026-05-01"}, []string{"period"}},
			{"a status of another list", billing.ChargeQuery{Status: "open"}, []string{"status"}},
			{"ids that are not ids", billing.ChargeQuery{ConsumerUnitID: "x", ProviderUnitID: "-1", ServiceID: "0"},
				[]string{"consumer_unit_id", "provider_unit_id", "service_id"}},
			{"all wrong", billing.ChargeQuery{Period: "May", Status: "paid", ServiceID: "1.5"}, []string{"period", "status", "service_id"}},
		}
		for _, r := range rows {
			f, faults := r.query.Filter()
			var fields []string
			for _, e := range faults {
				if e.Kind != fault.KindInvalid {
					t.Errorf("%s: fault %v is not invalid", r.name, e)
				}
				fields = append(fields, e.Details["field"].(string))
			}
			if len(fields) != len(r.fields) {
				t.Fatalf("%s: faults on %v, want %v", r.name, fields, r.fields)
			}
			for i := range fields {
				if fields[i] != r.fields[i] {
					t.Errorf("%s: faults on %v, want %v", r.name, fields, r.fields)
				}
			}
			// What is left of the filter lists.
			f.Limit = 10
			if _, err := billing.ListCharges(context.Background(), d, k.viewer("finance"), f); err != nil {
				t.Errorf("%s: the parsed filter does not list: %v", r.name, err)
			}
		}
		for name, f := range map[string]billing.ChargeFilter{
			"period": {Period: "2026-13", Limit: 10}, "status": {Status: "open", Limit: 10}, "limit": {Limit: 0},
			"cursor": {AfterID: -1, Limit: 10}, "service_id": {ServiceID: -4, Limit: billing.MaxChargeLimit + 1},
		} {
			_, err := billing.ListCharges(context.Background(), d, k.viewer("finance"), f)
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindInvalid || fe.Details["field"] != name {
				t.Errorf("listing with a bad %s: %v", name, err)
			}
		}
		if got := billing.ChargeStatuses(); len(got) != 3 || got[0] != billing.ChargePosted {
			t.Errorf("statuses %v", got)
		}
	})
}
