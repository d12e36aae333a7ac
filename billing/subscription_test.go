package billing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// subscribe fulfils a monthly request resolved at the given time.
func (b *books) subscribe(t *testing.T, monthlyMinor int64, at time.Time) int64 {
	t.Helper()
	id := b.requestPriced(t, "monthly", "1", monthlyMinor)
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
		charges, err := billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: id, Number: "REQ", Title: "Network",
			ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, ServiceID: b.service, RateID: b.rate, PricingModel: "monthly",
			Quantity: "1", UnitPriceMinor: monthlyMinor, Currency: "EUR", ResolvedAt: at}, helsinki)
		if len(charges) != 0 {
			t.Errorf("resolving a monthly request charged at once: %+v", charges)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBillingRunProratesAndChargesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		// Starts 2026-04-19 in Helsinki: 12 of April's 30 days.
		b.subscribe(t, 3000, time.Date(2026, 4, 19, 6, 0, 0, 0, time.UTC))
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		res, err := billing.BillingRun(ctx, d, "2026-04", helsinki, now)
		if err != nil || res.Charged != 1 {
			t.Fatalf("April run = %+v, %v", res, err)
		}
		res, err = billing.BillingRun(ctx, d, "2026-04", helsinki, now)
		if err != nil || res.Charged != 0 || res.Skipped != 1 {
			t.Fatalf("April rerun = %+v, %v", res, err)
		}
		if _, err := billing.BillingRun(ctx, d, "2026-03", helsinki, now); err != nil {
			t.Fatal(err)
		}
		// Two runs of May at once post May once.
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := billing.BillingRun(ctx, d, "2026-05", helsinki, now); err != nil {
					t.Errorf("concurrent run: %v", err)
				}
			}()
		}
		wg.Wait()
		var amounts []int64
		if err := d.NewSelect().Table("charges").Column("amount_minor").OrderExpr("period").Scan(ctx, &amounts); err != nil {
			t.Fatal(err)
		}
		if len(amounts) != 2 || amounts[0] != 1200 || amounts[1] != 3000 {
			t.Fatalf("subscription charges = %v, want [1200 3000]", amounts)
		}
		if breaches, err := billing.Verify(ctx, d); err != nil || len(breaches) != 0 {
			t.Fatalf("verify: %v %v", breaches, err)
		}
		if _, err := billing.BillingRun(ctx, d, "2026-13", helsinki, now); err == nil {
			t.Fatal("month 13 accepted")
		}
	})
}

func TestVerifyNamesWhatBroke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		c := b.charge(t, b.request(t, "2"), "2", time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC))[0]
		if breaches, err := billing.Verify(ctx, d); err != nil || len(breaches) != 0 {
			t.Fatalf("clean books: %v %v", breaches, err)
		}
		// Tamper with the charge behind Tiski's back.
		dbtest.Tamper(t, d, fmt.Sprintf("UPDATE charges SET amount_minor = amount_minor + 1 WHERE id = %d", c.ID))
		breaches, err := billing.Verify(ctx, d)
		if err != nil || !names(breaches, "charges match their entries", fmt.Sprintf("charge %d", c.ID)) {
			t.Fatalf("after tampering: %v %v", breaches, err)
		}
	})
}
