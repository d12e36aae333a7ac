package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

func TestLoadIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cheap := auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}
		if err := demo.Load(ctx, d, cheap); err != nil {
			t.Fatal(err)
		}
		counts := func() [15]int {
			var c [15]int
			for i, table := range []string{"units", "users", "unit_roles", "services", "service_rates", "requests",
				"time_entries", "request_feedback", "journal_entries", "postings", "charges", "subscriptions",
				"periods", "disputes", "budgets"} {
				n, err := d.NewSelect().Table(table).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				c[i] = int(n)
			}
			return c
		}
		first := counts()
		audited, err := d.NewSelect().Table("audit_events").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.Load(ctx, d, cheap); err != nil {
			t.Fatalf("second load: %v", err)
		}
		if second := counts(); second != first {
			t.Fatalf("second load changed counts %v → %v", first, second)
		}
		if again, err := d.NewSelect().Table("audit_events").Count(ctx); err != nil || again != audited {
			t.Fatalf("second load wrote audit events: %d → %d (%v)", audited, again, err)
		}
		if first[0] != 11 || first[1] != len(demo.People) {
			t.Fatalf("units, users = %d, %d", first[0], first[1])
		}
		u, err := units.GetUserByEmail(ctx, d, demo.People[0].Email)
		if err != nil || !auth.VerifyPassword(demo.Password, u.PasswordHash) {
			t.Fatalf("demo user cannot sign in with the demo password: %v", err)
		}
		legal, err := units.GetUnitByCode(ctx, d, "CC-1600")
		if err != nil || legal.ChargebackMode != units.ModeShowback {
			t.Fatalf("Legal = %+v, %v", legal, err)
		}
		if first[3] != 10 || first[5] < 60 || first[5] > 120 {
			t.Fatalf("services, requests = %d, %d; want the 10 demo services and 60–120 requests", first[3], first[5])
		}
	})
}

func TestLoadSeedsCatalogAndRequestHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cheap := auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}
		for range 2 {
			if err := demo.Load(ctx, d, cheap); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		loc, _ := time.LoadLocation(demo.TimeZone)
		today := catalog.Today(now, loc)
		services, err := catalog.ListServices(ctx, d, catalog.ServiceFilter{Limit: 100})
		if err != nil || len(services) != 10 {
			t.Fatalf("services = %d, %v", len(services), err)
		}
		changed := 0
		for _, s := range services {
			if _, err := catalog.RateOn(ctx, d, s.ID, today); err != nil {
				t.Errorf("service %s has no rate in force today: %v", s.Code, err)
			}
			rates, err := catalog.Rates(ctx, d, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rates) > 1 {
				changed++
			}
		}
		if changed != 2 {
			t.Errorf("%d services have a rate history, want 2", changed)
		}
		laptop, err := catalog.ListServices(ctx, d, catalog.ServiceFilter{Query: "IT-LAPTOP", Limit: 1})
		if err != nil || len(laptop) != 1 {
			t.Fatalf("laptop = %v, %v", laptop, err)
		}
		rate, err := catalog.RateOn(ctx, d, laptop[0].ID, today)
		if err != nil || rate.PriceMinor != 145000 || laptop[0].PricingModel != "fixed" || len(laptop[0].Fields()) != 2 {
			t.Fatalf("laptop = %+v at %+v, %v", laptop[0], rate, err)
		}

		var rows []struct {
			Status string `bun:"status"`
			N      int    `bun:"n"`
		}
		if err := d.NewSelect().Table("requests").ColumnExpr("status, COUNT(*) AS n").Group("status").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		byStatus := map[requests.Status]int{}
		for _, r := range rows {
			byStatus[requests.Status(r.Status)] = r.N
		}
		for _, s := range []requests.Status{requests.PendingApproval, requests.Open, requests.InProgress, requests.WaitingOnCustomer,
			requests.Resolved, requests.Closed, requests.Rejected, requests.Cancelled} {
			if byStatus[s] == 0 {
				t.Errorf("no demo request is %s (have %v)", s, byStatus)
			}
		}

		// The history is spread over months, in the past, and obeys the
		// lifecycle's clocks.
		var oldest, newest time.Time
		if err := d.NewSelect().Table("requests").ColumnExpr("MIN(created_at), MAX(updated_at)").Scan(ctx, &oldest, &newest); err != nil {
			t.Fatal(err)
		}
		if now.Sub(oldest) < 60*24*time.Hour || newest.After(now) {
			t.Errorf("requests span %s to %s; want months of history ending before now", oldest, newest)
		}
		var badClock int
		if err := d.NewSelect().Table("requests").ColumnExpr("COUNT(*)").
			Where("updated_at < created_at OR (resolved_at IS NOT NULL AND resolved_at < created_at)").
			Scan(ctx, &badClock); err != nil || badClock != 0 {
			t.Errorf("%d requests changed before they were filed (%v)", badClock, err)
		}
		var unquoted int
		if err := d.NewSelect().Table("requests").ColumnExpr("COUNT(*)").
			Where("rate_id NOT IN (SELECT id FROM service_rates)").Scan(ctx, &unquoted); err != nil || unquoted != 0 {
			t.Errorf("%d requests without a quoted rate (%v)", unquoted, err)
		}
		var oldLaptopPrice int
		if err := d.NewSelect().Table("requests").ColumnExpr("COUNT(*)").
			Where("service_id = ? AND unit_price_minor = ?", laptop[0].ID, 139000).Scan(ctx, &oldLaptopPrice); err != nil || oldLaptopPrice == 0 {
			t.Errorf("no laptop was ordered at the earlier price (%d, %v)", oldLaptopPrice, err)
		}
	})
}
