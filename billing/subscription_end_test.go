package billing_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/testkit"
)

// subscriptionOf returns the id of the subscription a monthly request started.
func (b *books) subscriptionOf(t *testing.T, requestID int64) int64 {
	t.Helper()
	var id int64
	if err := b.d.NewSelect().Table("subscriptions").Column("id").Where("request_id = ?", requestID).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (b *books) run(t *testing.T, month string, now time.Time) {
	t.Helper()
	if _, err := billing.BillingRun(context.Background(), b.d, month, helsinki, now); err != nil {
		t.Fatalf("billing run %s: %v", month, err)
	}
}

func (b *books) end(t *testing.T, v billing.Viewer, subID int64, date string, now time.Time) error {
	t.Helper()
	return audit.InTx(context.Background(), b.d, func(tx bun.Tx) error {
		_, err := billing.EndSubscription(context.Background(), tx, v, subID, date, helsinki, now)
		return err
	})
}

// charged sums the subscription's charges (credits included) by month.
func (b *books) charged(t *testing.T, requestID int64) map[string]int64 {
	t.Helper()
	var rows []struct {
		SourceKey   string `bun:"source_key"`
		AmountMinor int64  `bun:"amount_minor"`
	}
	if err := b.d.NewSelect().Table("charges").Column("source_key", "amount_minor").Where("request_id = ?", requestID).
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.SourceKey[len(r.SourceKey)-7:]] += r.AmountMinor
	}
	return out
}

func (b *books) refusals(t *testing.T, subID int64) int {
	t.Helper()
	var n int
	if err := b.d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE object_type = 'subscription' AND object_id = ? AND action = 'refuse'",
		strconv.FormatInt(subID, 10)).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubscriptionEndedMidMonthChargesProratedDaysThenNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		may := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
		manager := billing.Viewer{UserID: b.People.Manager, Authz: b.Authz}
		// Billed before its end: March from the 10th (22 of 31 days),
		// April and May whole; ended on 15 May, May owes 15 of 31 days.
		billed := b.subscribe(t, 3100, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
		// Runs on: charged every month.
		running := b.subscribe(t, 3100, time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
		for _, m := range []string{"2026-03", "2026-04", "2026-05"} {
			b.run(t, m, may)
		}
		if err := b.end(t, manager, b.subscriptionOf(t, billed), "2026-05-15", may); err != nil {
			t.Fatalf("end the billed subscription: %v", err)
		}
		testkit.Step(t, "a month charged whole gets its unused days back", func(t *testing.T) {
			got := b.charged(t, billed)
			if got["2026-03"] != 2200 || got["2026-04"] != 3100 || got["2026-05"] != 1500 {
				t.Fatalf("charged by month = %v, want March 2200, April 3100, May 1500", got)
			}
			var credit billing.Charge
			if err := d.NewSelect().Model(&credit).Where("c.source_key = ?", fmt.Sprintf("subscription-end:%d:2026-05", b.subscriptionOf(t, billed))).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if credit.AmountMinor != -1600 || credit.Quantity != "-0.5161" || credit.Period != "2026-05" || credit.EntryID == nil {
				t.Fatalf("credit = %+v", credit)
			}
		})
		testkit.Step(t, "a subscription ended before the month's run is charged the days it ran", func(t *testing.T) {
			third := b.subscribe(t, 3100, time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
			b.run(t, "2026-04", may)
			if err := b.end(t, manager, b.subscriptionOf(t, third), "2026-05-10", may); err != nil {
				t.Fatal(err)
			}
			b.run(t, "2026-05", may)
			if got := b.charged(t, third); got["2026-04"] != 3100 || got["2026-05"] != 1000 || len(got) != 2 {
				t.Fatalf("charged by month = %v, want April 3100, May 1000", got)
			}
		})
		testkit.Step(t, "nothing is charged after the end", func(t *testing.T) {
			july := time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC)
			b.run(t, "2026-06", july)
			b.run(t, "2026-07", july)
			b.run(t, "2026-05", july)
			if got := b.charged(t, billed); len(got) != 3 || got["2026-05"] != 1500 {
				t.Fatalf("charged after the end: %v", got)
			}
			if got := b.charged(t, running); got["2026-06"] != 3100 {
				t.Fatalf("the subscription still running was not charged for June: %v", got)
			}
			list, err := billing.ListSubscriptions(ctx, d, manager, b.consumer)
			if err != nil || len(list) != 3 {
				t.Fatalf("list = %+v, %v", list, err)
			}
			if list[0].NextMonth != "" || list[1].NextMonth != "2026-08" || list[1].NextAmountMinor != 3100 {
				t.Fatalf("next charges = %q / %q %d", list[0].NextMonth, list[1].NextMonth, list[1].NextAmountMinor)
			}
			if breaches, err := billing.Verify(ctx, d); err != nil || len(breaches) != 0 {
				t.Fatalf("verify: %v %v", breaches, err)
			}
		})
	})
}

func TestSubscriptionEndRefusalsWriteNothingAndAreAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		may := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
		req := b.subscribe(t, 3100, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
		sub := b.subscriptionOf(t, req)
		b.run(t, "2026-03", may)
		b.run(t, "2026-04", may)
		for _, action := range []string{"review", "close"} {
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), "2026-03", action, helsinki, may)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		manager := billing.Viewer{UserID: b.People.Manager, Authz: b.Authz}
		cases := []struct {
			name   string
			v      billing.Viewer
			date   string
			kind   fault.Kind
			audits bool
		}{
			{"an end before the start", manager, "2026-03-09", fault.KindInvalid, true},
			{"an end in a closed month", manager, "2026-03-20", fault.KindConflict, true},
			{"a malformed date", manager, "2026-04-31", fault.KindInvalid, true},
			{"finance, who does not own the order", billing.Viewer{UserID: b.People.Finance2, Authz: b.Authz}, "2026-04-15", fault.KindForbidden, true},
			{"an auditor", billing.Viewer{UserID: b.People.Auditor, Authz: b.Authz}, "2026-04-15", fault.KindForbidden, true},
			{"a member who did not order it", billing.Viewer{UserID: b.People.Member, Authz: b.Authz}, "2026-04-15", fault.KindNotFound, false},
		}
		for _, c := range cases {
			testkit.Step(t, c.name+" is refused", func(t *testing.T) {
				before := b.refusals(t, sub)
				err := b.end(t, c.v, sub, c.date, may)
				if !fault.Is(err, c.kind) {
					t.Fatalf("end = %v, want kind %d", err, c.kind)
				}
				if got := b.refusals(t, sub) - before; (got == 1) != c.audits {
					t.Fatalf("%d refusals audited", got)
				}
				s, err := billing.GetSubscription(ctx, d, billing.Operator(0), sub)
				if err != nil || s.EndDate != nil {
					t.Fatalf("subscription after a refused end = %+v, %v", s, err)
				}
				if got := b.charged(t, req); len(got) != 2 || got["2026-04"] != 3100 {
					t.Fatalf("charges after a refused end = %v", got)
				}
			})
		}
		testkit.Step(t, "the provider's manager ends it, once", func(t *testing.T) {
			provider := billing.Viewer{UserID: b.People.ITManager, Authz: b.Authz}
			if err := b.end(t, provider, sub, "2026-04-30", may); err != nil {
				t.Fatal(err)
			}
			if err := b.end(t, provider, sub, "2026-05-10", may); !fault.Is(err, fault.KindConflict) {
				t.Fatalf("ending twice = %v", err)
			}
			b.run(t, "2026-05", may)
			if got := b.charged(t, req); len(got) != 2 {
				t.Fatalf("charged after an end on April's last day: %v", got)
			}
		})
	})
}
