package billing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
)

// An hourly statement line shows its billed minutes, from which the amount
// is recomputed exactly; its rounded hours cannot always (7 minutes at
// 333.33/h: 0.1167 h × 333.33 = 38.90, charged 38.89).
func TestHourlyLineShowsMinutesThatRecomputeTheAmount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMonthBooks(t, d)
		at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
		rid := m.request(t, "1")
		if _, err := d.NewRaw("UPDATE requests SET pricing_model = 'hourly' WHERE id = ?", rid).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, minutes := range []int{4, 3} {
			e := &requests.TimeEntry{RequestID: rid, AgentID: m.user, Minutes: minutes, WorkDate: "2026-11-20", Billable: true, CreatedAt: at}
			if _, err := d.NewInsert().Model(e).Returning("id").Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var charges []billing.Charge
		if err := m.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			charges, err = billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: rid, Number: requests.Number(rid), Title: "Support",
				ConsumerUnitID: m.consumer, ProviderUnitID: m.provider, ServiceID: m.service, RateID: m.rate, PricingModel: "hourly",
				UnitPriceMinor: 33333, Currency: "EUR", ResolvedAt: at, ActorID: m.user}, helsinki)
			return err
		}); err != nil || len(charges) != 1 {
			t.Fatalf("charge the time: %v %+v", err, charges)
		}
		c := charges[0]
		if c.Quantity != "0.1167" || c.Time() != "0:07" || c.BilledMinutes() == nil || *c.BilledMinutes() != 7 {
			t.Fatalf("hourly charge: quantity %s, time %q", c.Quantity, c.Time())
		}
		var line *billing.StatementLine
		for _, l := range collectLines(t, d, billing.ConsumerSide, m.consumer, "2026-11") {
			if l.ChargeID == c.ID {
				line = &l
			} else if l.Minutes != nil || l.Time() != "" {
				t.Errorf("a per-unit line has minutes: %+v", l)
			}
		}
		if line == nil || line.Minutes == nil || *line.Minutes != 7 || line.Time() != "0:07" {
			t.Fatalf("hourly line = %+v", line)
		}
		price := money.Money{Minor: line.UnitPriceMinor, Currency: "EUR"}
		fromMinutes, err := price.MulRatio(*line.Minutes, 60)
		if err != nil || fromMinutes.Minor != line.AmountMinor {
			t.Errorf("minutes × price / 60 = %v (%v), the line's amount %d", fromMinutes, err, line.AmountMinor)
		}
		if line.AmountMinor != 3889 {
			t.Errorf("amount %d, want 38.89", line.AmountMinor)
		}

		var buf bytes.Buffer
		w := export.NewCSV(&buf)
		if _, err := billing.WriteStatement(ctx, d, w, billing.ConsumerSide, m.consumer, "2026-11", "EUR"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := columnIndex(billing.StatementColumns)
		found := false
		for _, rec := range records[1:] {
			switch rec[col["charge_id"]] {
			case "total", "adjustment":
			case strconv.FormatInt(c.ID, 10):
				found = true
				if rec[col["minutes"]] != "7" || rec[col["unit_price"]] != "333.33" || rec[col["amount"]] != "38.89" {
					t.Errorf("hourly row %q", rec)
				}
			default:
				if rec[col["minutes"]] != "" {
					t.Errorf("a per-unit row has minutes: %q", rec)
				}
			}
		}
		if !found {
			t.Errorf("no row for charge %d in %q", c.ID, records)
		}
	})
}
