package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// TestDemoRunsOnHelsinkiTime loads `tiski demo` into a fresh database: the
// organisation is created in Europe/Helsinki (not TISKI_TIMEZONE's UTC
// default), every unit's calendar carries the Finnish holidays, and a
// request resolved at 23:30 UTC on the last day of a month, already the
// first of the next month in Helsinki, is charged to the next month.
func TestDemoRunsOnHelsinkiTime(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t, engine)
			if out, err := runCmd(t, "", "demo", "--db", url); err != nil {
				t.Fatalf("tiski demo: %v\n%s", err, out)
			}
			d := dbtest.OpenURL(t, url)
			org := checkHelsinkiDemo(t, d)

			now := time.Now().UTC()
			monthEnd := time.Date(now.Year(), now.Month()+1, 0, 23, 30, 0, 0, time.UTC)
			charge := resolveDemoRequest(t, d, org, monthEnd)
			want := billing.MonthOf(monthEnd.Add(24*time.Hour), time.UTC)
			if charge.Period != want || charge.LateFrom != nil {
				t.Fatalf("resolved at %s: charged to %s (late from %v), want %s", monthEnd.Format(time.RFC3339), charge.Period, charge.LateFrom, want)
			}
		})
	}
}

// checkHelsinkiDemo asserts the stored organisation and the units'
// calendars are the demo's and returns the organisation.
func checkHelsinkiDemo(t *testing.T, d *db.DB) *units.Organisation {
	t.Helper()
	ctx := context.Background()
	org, err := units.LoadOrganisation(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if org.TimeZone != demo.TimeZone || org.Currency != demo.Currency {
		t.Fatalf("organisation = %s %s, want %s %s", org.Currency, org.TimeZone, demo.Currency, demo.TimeZone)
	}
	var ids []int64
	if err := d.NewSelect().Table("units").Column("id").Scan(ctx, &ids); err != nil || len(ids) == 0 {
		t.Fatalf("demo units: %v %v", ids, err)
	}
	for _, id := range ids {
		cal, custom, err := units.CalendarOf(ctx, d, id, org.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		if !custom || cal.TimeZone != demo.TimeZone || cal.Preset != demo.HolidayPreset {
			t.Fatalf("unit %d calendar = %+v (own: %v), want %s with preset %q", id, cal, custom, demo.TimeZone, demo.HolidayPreset)
		}
	}
	return org
}

// resolveDemoRequest has the assignee of an uncharged, fixed-price demo
// request in progress resolve it at the given time and returns its charge.
func resolveDemoRequest(t *testing.T, d *db.DB, org *units.Organisation, at time.Time) billing.Charge {
	t.Helper()
	ctx := context.Background()
	var r requests.Request
	if err := d.NewSelect().Model(&r).
		Where("status = ? AND pricing_model IN ('fixed', 'per_unit') AND assignee_id IS NOT NULL", requests.InProgress).
		Where("NOT EXISTS (SELECT 1 FROM charges AS c WHERE c.request_id = r.id)").
		OrderExpr("r.id").Limit(1).Scan(ctx); err != nil {
		t.Fatalf("an uncharged demo request in progress: %v", err)
	}
	authz, err := policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	v := requests.Viewer{UserID: *r.AssigneeID, Authz: authz}
	if _, err := requests.Perform(ctx, d, v, *org, r.ID,
		requests.Action{Name: "resolve", Version: r.Version}, at); err != nil {
		t.Fatalf("resolve demo request %d: %v", r.ID, err)
	}
	var charges []billing.Charge
	if err := d.NewSelect().Model(&charges).Where("request_id = ?", r.ID).Scan(ctx); err != nil || len(charges) != 1 {
		t.Fatalf("charges of request %d: %+v %v, want one", r.ID, charges, err)
	}
	return charges[0]
}
