package billing_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// benchLedger is an organisation of 500 units, 20 of them providers with a
// per-unit service each, and the requests waiting to be charged.
type benchLedger struct {
	d        *db.DB
	units    []int64
	services []catalog.Service
	rates    []catalog.Rate
	user     int64
}

func newBenchLedger(b *testing.B, engine db.Engine) *benchLedger {
	b.Helper()
	l := &benchLedger{d: dbtest.Open(b, engine)}
	ctx := context.Background()
	err := l.d.InTx(ctx, func(tx bun.Tx) error {
		for i := range 500 {
			u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: fmt.Sprintf("CC-%04d", i), Name: fmt.Sprint("Unit ", i)})
			if err != nil {
				return err
			}
			l.units = append(l.units, u.ID)
		}
		for i := range 20 {
			s, r, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: l.units[i*25], Code: fmt.Sprintf("SVC-%d", i),
				Name: "Service", PricingModel: "per_unit", ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600},
				nil, catalog.Rate{PriceMinor: 1999 + int64(i), Currency: "EUR", EffectiveFrom: "2025-01-01"})
			if err != nil {
				return err
			}
			l.services, l.rates = append(l.services, *s), append(l.rates, *r)
		}
		u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "bench@example.org", Name: "Bench"})
		l.user = u.ID
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// fulfilments stores n resolved requests (in bulk: fixture, not measure)
// spread over the units and month, and returns them as billing sees them.
func (l *benchLedger) fulfilments(b *testing.B, n int, month time.Time) []billing.Fulfilment {
	b.Helper()
	ctx := context.Background()
	out := make([]billing.Fulfilment, 0, n)
	const chunk = 500
	for from := 0; from < n; from += chunk {
		reqs := make([]requests.Request, 0, chunk)
		for i := from; i < min(from+chunk, n); i++ {
			svc := i % len(l.services)
			consumer := l.units[(i*7+1)%len(l.units)]
			if consumer == l.services[svc].ProviderUnitID {
				consumer = l.units[(i*7+2)%len(l.units)]
			}
			reqs = append(reqs, requests.Request{ServiceID: l.services[svc].ID, ConsumerUnitID: consumer,
				ProviderUnitID: l.services[svc].ProviderUnitID, RequesterID: l.user, CreatedBy: l.user, Title: "Bench order",
				Quantity: fmt.Sprint(1 + i%4), FieldsJSON: "{}", Channel: "api", Status: requests.Resolved, Version: 1,
				RateID: l.rates[svc].ID, PricingModel: "per_unit", UnitPriceMinor: l.rates[svc].PriceMinor, Currency: "EUR",
				SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: month, UpdatedAt: month})
		}
		if _, err := l.d.NewInsert().Model(&reqs).Returning("id").Exec(ctx); err != nil {
			b.Fatal(err)
		}
		for i, r := range reqs {
			out = append(out, billing.Fulfilment{RequestID: r.ID, Number: r.Number(), Title: r.Title, ConsumerUnitID: r.ConsumerUnitID,
				ProviderUnitID: r.ProviderUnitID, ServiceID: r.ServiceID, RateID: r.RateID, PricingModel: r.PricingModel,
				Quantity: r.Quantity, UnitPriceMinor: r.UnitPriceMinor, Currency: "EUR",
				ResolvedAt: month.Add(time.Duration(int64(27*24*time.Hour) / int64(n) * int64(from+i))), ActorID: l.user})
		}
	}
	return out
}

var errRollback = errors.New("roll back")

// BenchmarkPostCharges posts charges across 500 units, one resolution
// transaction each (billing.ChargeFulfilment), then times closing that
// month, exporting its GL journal and every unit's statement beside a plain
// SQL aggregate over the same charges. 20,000 charges by default; TISKI_BENCH_LARGE=1 posts
// 1,000,000. One posting iteration is the whole workload, so the default
// benchtime runs it once and the reads as often as a second allows.
func BenchmarkPostCharges(b *testing.B) {
	size := 20_000
	if os.Getenv("TISKI_BENCH_LARGE") == "1" {
		size = 1_000_000
	}
	for _, engine := range dbtest.Engines() {
		b.Run(fmt.Sprintf("%s/%d", engine, size), func(b *testing.B) {
			l := newBenchLedger(b, engine)
			ctx := context.Background()
			const month = "2026-03"
			first, _ := time.Parse("2006-01", month)
			iteration := 0
			b.Run("post", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					// Each iteration charges a month of its own, the first 2026-03.
					fs := l.fulfilments(b, size, first.AddDate(0, iteration, 0).Add(12*time.Hour))
					iteration++
					b.StartTimer()
					for _, f := range fs {
						err := l.d.InTx(ctx, func(tx bun.Tx) error {
							_, err := billing.ChargeFulfilment(ctx, tx, f, time.UTC)
							return err
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "charges/s")
			})
			var charges int
			if err := l.d.NewRaw("SELECT COUNT(*) FROM charges WHERE period = ?", month).Scan(ctx, &charges); err != nil || charges != size {
				b.Fatalf("%s holds %d charges, want %d (%v)", month, charges, size, err)
			}
			b.Run("aggregate", func(b *testing.B) {
				for b.Loop() {
					var rows []struct {
						Unit int64 `bun:"consumer_unit_id"`
						Sum  int64 `bun:"sum"`
					}
					if err := l.d.NewRaw("SELECT consumer_unit_id, SUM(amount_minor) AS sum FROM charges WHERE period = ? GROUP BY 1", month).
						Scan(ctx, &rows); err != nil || len(rows) == 0 {
						b.Fatal(len(rows), err)
					}
				}
			})
			b.Run("export", func(b *testing.B) {
				for b.Loop() {
					w := export.NewCSV(io.Discard)
					if err := billing.WriteJournal(ctx, l.d, w, month); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("statements", func(b *testing.B) {
				// Every unit's statement of the month, as CSV: what finance
				// sends out after the close.
				for b.Loop() {
					var lines int64
					for _, unit := range l.units {
						w := export.NewCSV(io.Discard)
						totals, err := billing.WriteStatement(ctx, l.d, w, billing.ConsumerSide, unit, month, "EUR")
						if err != nil {
							b.Fatal(err)
						}
						if err := w.Close(); err != nil {
							b.Fatal(err)
						}
						lines += totals.Lines
					}
					if lines != int64(size) {
						b.Fatalf("statements hold %d lines, want %d", lines, size)
					}
				}
			})
			b.Run("close", func(b *testing.B) {
				// Each close is rolled back so the next iteration closes the
				// same month of the same size again.
				for b.Loop() {
					err := l.d.InTx(ctx, func(tx bun.Tx) error {
						if _, err := billing.MovePeriod(ctx, tx, billing.Operator(l.user), month, "close", helsinki, time.Now().UTC()); err != nil {
							return err
						}
						return errRollback
					})
					if !errors.Is(err, errRollback) {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
