package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// TestDisputesAndAdjustmentsTellFinanceAndTheConsumerSide: a raised
// dispute reaches finance; its settlement reaches the raiser and the
// consumer unit's managers; an adjustment waiting for a second approver
// reaches every finance user but its maker.
func TestDisputesAndAdjustmentsTellFinanceAndTheConsumerSide(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 10, 10, 9, 0, 0, 0, time.UTC)
		var fin1, fin2, manager int64
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			for _, p := range []struct {
				id   *int64
				name string
			}{{&fin1, "fin1"}, {&fin2, "fin2"}, {&manager, "mgr"}} {
				u, err := units.CreateUser(ctx, tx, 0, units.User{Email: p.name + "@example.org", Name: p.name})
				if err != nil {
					return err
				}
				*p.id = u.ID
			}
			for _, id := range []int64{fin1, fin2} {
				if _, err := tx.NewRaw("INSERT INTO org_roles (user_id, role, granted_at) VALUES (?, 'finance', ?)", id, now).Exec(ctx); err != nil {
					return err
				}
			}
			_, err := units.GrantUnitRole(ctx, tx, 0, b.consumer, manager, "manager")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		heard := func(user int64) []notify.Kind {
			t.Helper()
			got, err := notify.List(context.Background(), d, user, 0, 50, false)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []notify.Kind
			for _, n := range got {
				kinds = append([]notify.Kind{n.Event.Kind}, kinds...)
			}
			return kinds
		}
		c := b.charge(t, b.request(t, "1"), "1", now)[0]
		var dispute *billing.Dispute
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			dispute, err = billing.RaiseDispute(ctx, tx, billing.Operator(manager), c.ID, "never ordered", now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := heard(fin1); len(got) != 1 || got[0] != notify.DisputeRaised {
			t.Fatalf("finance heard %v of a raised dispute", got)
		}
		if got := heard(manager); len(got) != 0 {
			t.Fatalf("the raiser heard %v of their own dispute", got)
		}
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := billing.SettleDispute(ctx, tx, billing.Operator(fin1), billing.Settlement{DisputeID: dispute.ID, Action: "reject", Note: "delivered"}, helsinki, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := heard(manager); len(got) != 1 || got[0] != notify.DisputeSettled {
			t.Fatalf("the raiser and manager heard %v of the settlement", got)
		}
		if _, err := b.adjust(t, fin1, b.credit(adjustmentLimit+1), now); err != nil {
			t.Fatal(err)
		}
		if got := heard(fin2); len(got) != 2 || got[1] != notify.AdjustmentWaiting {
			t.Fatalf("the second finance user heard %v", got)
		}
		if got := heard(fin1); len(got) != 1 {
			t.Fatalf("the maker heard %v, want only the dispute", got)
		}
	})
}
