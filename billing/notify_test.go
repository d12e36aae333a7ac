package billing_test

import (
	"context"
	"strconv"
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

// TestMoneyNoticesBudgetsAndReview: the charge that takes a hard budget to
// its warning line and its amount tells the consumer unit's managers of
// the line and finance (but the actor) of the amount, once each however
// many charges follow; moving the month to review tells the managers of
// each charged unit, with a link to their statement.
func TestMoneyNoticesBudgetsAndReview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		heard := func(user int64, kind notify.Kind) []notify.Notification {
			t.Helper()
			got, err := notify.List(ctx, d, user, 0, 50, false)
			if err != nil {
				t.Fatal(err)
			}
			var out []notify.Notification
			for _, n := range got {
				if n.Event.Kind == kind {
					out = append(out, n)
				}
			}
			return out
		}
		y, m, _ := time.Now().UTC().Date()
		at := time.Date(y, m-1, 10, 9, 0, 0, 0, time.UTC)
		month := billing.MonthOf(at, helsinki)
		b.charge(t, b.request(t, "2"), "2", at) // 666.66, before any budget
		if _, err := b.setBudget(t, month, 99999, 80, true); err != nil {
			t.Fatal(err)
		}
		manager, finance2 := b.People.Manager, b.People.Finance2
		if n := len(heard(manager, notify.BudgetWarning)) + len(heard(finance2, notify.BudgetReached)); n != 0 {
			t.Fatalf("%d budget notices before a charge crossed anything", n)
		}
		b.charge(t, b.request(t, "1"), "1", at) // 999.99: the line and the amount
		b.charge(t, b.request(t, "1"), "1", at) // past both: nothing new
		if got := heard(manager, notify.BudgetWarning); len(got) != 1 || got[0].Link() != "/budgets" {
			t.Fatalf("the manager heard %d warnings (%+v)", len(got), got)
		}
		if got := heard(finance2, notify.BudgetReached); len(got) != 1 {
			t.Fatalf("finance heard %d hard budgets reached", len(got))
		}
		if got := heard(b.People.Finance, notify.BudgetReached); len(got) != 0 {
			t.Fatal("the finance user who posted heard of it")
		}
		if got := heard(manager, notify.BudgetReached); len(got) != 0 {
			t.Fatal("the consumer side heard finance's notice")
		}
		if err := b.move(t, month, "review", time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		got := heard(manager, notify.PeriodInReview)
		want := "/charges?period=" + month + "&consumer_unit_id=" + strconv.FormatInt(b.consumer, 10) + "#statements"
		if len(got) != 1 || got[0].Link() != want {
			t.Fatalf("the manager heard %+v of the review, want one with %s", got, want)
		}
		if got := heard(b.People.Member, notify.PeriodInReview); len(got) != 0 {
			t.Fatal("a member heard of the review")
		}
	})
}
