package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/units"
)

// envBenchLarge, set to 1, runs the report benchmark at full size.
const envBenchLarge = "TISKI_BENCH_LARGE"

const (
	benchProviders      = 20
	benchConsumers      = 200
	servicesPerProvider = 5
	benchMonths         = 24
	rowsPerStatement    = 1_000
)

// BenchmarkQualityReport times the quality report over every request of a
// database loaded by bulk insert: requests spread over 24 months, 85 %
// resolved with a charge, a third of those rated. The full size (1,000,000
// requests) runs only with TISKI_BENCH_LARGE=1; a 20,000-request variant
// always runs. Each iteration computes the whole 24-month report as finance
// and then one month's.
func BenchmarkQualityReport(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		for _, n := range []int{20_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
				if n > 20_000 && os.Getenv(envBenchLarge) != "1" {
					b.Skipf("set %s=1 to load %d requests", envBenchLarge, n)
				}
				benchQuality(b, engine, n)
			})
		}
	}
}

func benchQuality(b *testing.B, engine db.Engine, n int) {
	ctx := context.Background()
	d := dbtest.Open(b, engine)
	start := time.Now()
	first := loadBenchRequests(b, d, n)
	if engine == db.Postgres {
		for _, table := range []string{"requests", "charges", "request_feedback"} {
			if _, err := d.ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
				b.Fatal(err)
			}
		}
	} else if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: loaded %d requests in %s", engine, n, time.Since(start).Round(time.Second))
	loc := time.UTC
	whole, err := reports.NewRange(first.Format("2006-01"), first.AddDate(0, benchMonths-1, 0).Format("2006-01"), loc)
	if err != nil {
		b.Fatal(err)
	}
	month, err := reports.Month(first.AddDate(0, benchMonths/2, 0).Format("2006-01"), loc)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		rng  reports.Range
	}{{"24-months", whole}, {"one-month", month}} {
		b.Run(c.name, func(b *testing.B) {
			var q *reports.Quality
			for b.Loop() {
				if q, err = reports.QualityReport(ctx, d, reports.Scope{OrgWide: true}, c.rng, "EUR"); err != nil {
					b.Fatal(err)
				}
			}
			var received int64
			for _, p := range q.Providers {
				received += p.Received
			}
			if c.name == "24-months" && received != int64(n) {
				b.Fatalf("received %d of %d", received, n)
			}
			b.ReportMetric(float64(received), "requests")
		})
	}
}

// loadBenchRequests inserts the organisation and n requests and returns
// the first month's start (UTC).
func loadBenchRequests(b *testing.B, d *db.DB, n int) time.Time {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	first := now.AddDate(0, -benchMonths, 0)
	var unitRows []units.Unit
	for i := range benchProviders + benchConsumers {
		unitRows = append(unitRows, units.Unit{ID: int64(i + 1), Code: fmt.Sprintf("CC-%04d", i+1), Name: fmt.Sprintf("Unit %d", i+1),
			BudgetMode: units.BudgetSoft, ChargebackMode: units.ModeChargeback, CreatedAt: now, UpdatedAt: now})
	}
	users := []units.User{{ID: 1, Email: "bench@example.org", EmailKey: "bench@example.org", Name: "Bench", Locale: "en", CreatedAt: now, UpdatedAt: now}}
	var serviceRows []catalog.Service
	var rateRows []catalog.Rate
	for i := range benchProviders * servicesPerProvider {
		id := int64(i + 1)
		serviceRows = append(serviceRows, catalog.Service{ID: id, ProviderUnitID: int64(i/servicesPerProvider + 1), Code: fmt.Sprintf("SVC-%03d", id),
			Name: fmt.Sprintf("Service %d", id), Category: "General", PricingModel: "fixed", ApprovalPolicy: "never",
			SLAFirstResponseMinutes: 240, SLAResolutionMinutes: 2400, FieldsJSON: "[]", Active: true, CreatedAt: now, UpdatedAt: now})
		rateRows = append(rateRows, catalog.Rate{ID: id, ServiceID: id, PriceMinor: 1000 * id, Currency: "EUR", EffectiveFrom: "2020-01-01", CreatedAt: now})
	}
	err := d.InTx(ctx, func(tx bun.Tx) error {
		for _, insert := range []func() error{
			func() error { _, err := tx.NewInsert().Model(&unitRows).Exec(ctx); return err },
			func() error { _, err := tx.NewInsert().Model(&users).Exec(ctx); return err },
			func() error { _, err := tx.NewInsert().Model(&serviceRows).Exec(ctx); return err },
			func() error { _, err := tx.NewInsert().Model(&rateRows).Exec(ctx); return err },
		} {
			if err := insert(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("load organisation: %v", err)
	}

	rng := rand.New(rand.NewPCG(7, 8))
	span := now.Sub(first)
	for lo := 1; lo <= n; lo += 100 * rowsPerStatement {
		err := d.InTx(ctx, func(tx bun.Tx) error {
			for s := lo; s < min(lo+100*rowsPerStatement, n+1); s += rowsPerStatement {
				var reqs, charges, ratings strings.Builder
				reqs.WriteString("INSERT INTO requests (id, service_id, consumer_unit_id, provider_unit_id, requester_id, created_by, " +
					"title, quantity, channel, status, rate_id, pricing_model, unit_price_minor, estimate_minor, currency, " +
					"sla_first_response_minutes, sla_resolution_minutes, first_response_due_at, resolution_due_at, first_responded_at, " +
					"resolved_at, first_response_business_minutes, resolution_business_minutes, created_at, updated_at) VALUES ")
				charges.WriteString("INSERT INTO charges (source_key, request_id, consumer_unit_id, provider_unit_id, service_id, " +
					"period, quantity, unit_price_minor, amount_minor, currency, status, created_at) VALUES ")
				ratings.WriteString("INSERT INTO request_feedback (request_id, author_id, rating, created_at) VALUES ")
				nc, nr := 0, 0
				for id := s; id < min(s+rowsPerStatement, n+1); id++ {
					svc := serviceRows[rng.IntN(len(serviceRows))]
					consumer := int64(benchProviders + 1 + rng.IntN(benchConsumers))
					created := first.Add(time.Duration(float64(span) * float64(id-1) / float64(n))).Truncate(time.Second)
					frMinutes, resMinutes := rng.IntN(480), 60+rng.IntN(4800)
					responded := created.Add(time.Duration(frMinutes) * time.Minute)
					resolved := created.Add(time.Duration(resMinutes) * time.Minute)
					price := rateRows[svc.ID-1].PriceMinor
					status := "in_progress"
					done := rng.IntN(100) < 85 && resolved.Before(now)
					if done {
						status = "resolved"
					}
					if id > s {
						reqs.WriteString(", ")
					}
					reqs.WriteString("(" + strings.Join([]string{itoa(int64(id)), itoa(svc.ID), itoa(consumer), itoa(svc.ProviderUnitID),
						"1", "1", "'Bench'", "'1'", "'portal'", "'" + status + "'", itoa(svc.ID), "'fixed'", itoa(price), itoa(price), "'EUR'",
						"240", "2400", sqlTime(created.Add(240 * time.Minute)), sqlTime(created.Add(2400 * time.Minute)), sqlTime(responded),
						orNull(done, sqlTime(resolved)), strconv.Itoa(frMinutes), orNull(done, strconv.Itoa(resMinutes)),
						sqlTime(created), sqlTime(created)}, ", ") + ")")
					if !done {
						continue
					}
					if nc > 0 {
						charges.WriteString(", ")
					}
					nc++
					charges.WriteString("(" + strings.Join([]string{"'request:" + itoa(int64(id)) + "'", itoa(int64(id)), itoa(consumer),
						itoa(svc.ProviderUnitID), itoa(svc.ID), "'" + resolved.Format("2006-01") + "'", "'1'", itoa(price), itoa(price),
						"'EUR'", "'posted'", sqlTime(resolved)}, ", ") + ")")
					if rng.IntN(3) == 0 {
						if nr > 0 {
							ratings.WriteString(", ")
						}
						nr++
						ratings.WriteString("(" + itoa(int64(id)) + ", 1, " + strconv.Itoa(1+rng.IntN(5)) + ", " + sqlTime(resolved) + ")")
					}
				}
				for _, stmt := range []struct {
					sql  string
					rows int
				}{{reqs.String(), 1}, {charges.String(), nc}, {ratings.String(), nr}} {
					if stmt.rows == 0 {
						continue
					}
					if _, err := tx.ExecContext(ctx, stmt.sql); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("load requests from %d: %v", lo, err)
		}
	}
	return first
}

// sqlTime is a timestamp literal in the layout bun writes, valid on both
// engines.
func sqlTime(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05.999999-07:00") + "'"
}

func orNull(ok bool, literal string) string {
	if !ok {
		return "NULL"
	}
	return literal
}
