package requests_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
)

// TestPerformResolvePostsOneCharge resolves through the entry point the API
// and the portal share: the request is resolved and exactly one charge for
// the quote is posted, and a retry of the same resolution charges nothing
// more.
func TestPerformResolvePostsOneCharge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.started(t, at)

		resolved, err := requests.Perform(ctx, d, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "resolve", Version: r.Version}, at)
		if err != nil {
			t.Fatalf("resolve: %v", err)
		}
		if resolved.Status != requests.Resolved {
			t.Fatalf("status = %s, want resolved", resolved.Status)
		}
		if _, err := requests.Perform(ctx, d, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "resolve", Version: r.Version}, at); err == nil {
			t.Fatal("a second resolve with the old version succeeded")
		}
		charges := k.charges(t, r.ID)
		if len(charges) != 1 || charges[0].AmountMinor != 120000 || charges[0].Period != "2026-03" {
			t.Fatalf("charges = %+v, want one of 1200.00 in 2026-03", charges)
		}
	})
}

// TestPerformResolveRollsBackWhenTheChargeCannotPost makes the charge fail
// after its journal entry is written (a charge row already holds the
// request's source key, so recording the charge breaks its unique index):
// the resolution must not survive without its charge, nor the entry
// without its charge.
func TestPerformResolveRollsBackWhenTheChargeCannotPost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.started(t, at)
		key := fmt.Sprintf("request:%d:rate:%d", r.ID, r.RateID)
		stray := billing.Charge{SourceKey: key, ConsumerUnitID: r.ConsumerUnitID, ProviderUnitID: r.ProviderUnitID,
			ServiceID: r.ServiceID, Period: "2026-03", Quantity: "1", UnitPriceMinor: 1, AmountMinor: 1, Currency: "EUR",
			Status: billing.ChargePosted, CreatedAt: at}
		if _, err := d.NewInsert().Model(&stray).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		if _, err := requests.Perform(ctx, d, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "resolve", Version: r.Version}, at); err == nil {
			t.Fatal("resolve succeeded although its charge could not be recorded")
		}
		after := k.reload(t, r.ID)
		if after.Status != requests.InProgress || after.Version != r.Version || after.ResolvedAt != nil {
			t.Fatalf("after the failed resolve: %s v%d resolved_at %v, want in_progress v%d", after.Status, after.Version, after.ResolvedAt, r.Version)
		}
		if n := k.events(t, r.ID, "resolve"); n != 0 {
			t.Fatalf("%d resolve events survived the rollback", n)
		}
		entries, err := d.NewSelect().Model((*billing.JournalEntry)(nil)).Where("idempotency_key = ?", key).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if entries != 0 {
			t.Fatalf("%d journal entries survived the rollback", entries)
		}
	})
}

// started files a laptop order and has the agent start it an hour before at.
func (k *desk) started(t *testing.T, at time.Time) *requests.Request {
	t.Helper()
	ctx := context.Background()
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		if r, err = requests.Submit(ctx, tx, k.viewer(k.People.Member), k.Org,
			requests.Order{ServiceID: k.Services.Laptop.ID, ConsumerUnitID: k.Units.MKT, Title: "Laptop"}, at.Add(-2*time.Hour)); err != nil {
			return err
		}
		r, err = requests.Act(ctx, tx, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "start", Version: r.Version}, at.Add(-time.Hour))
		return err
	})
	if err != nil {
		t.Fatalf("file and start a request: %v", err)
	}
	return r
}

func (k *desk) charges(t *testing.T, requestID int64) []billing.Charge {
	t.Helper()
	var charges []billing.Charge
	if err := k.DB.NewSelect().Model(&charges).Where("request_id = ?", requestID).OrderExpr("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return charges
}
