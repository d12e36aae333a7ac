package billing_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// names reports whether a breach of check (any check when "") names object.
func names(breaches []billing.Breach, check, object string) bool {
	for _, b := range breaches {
		if (check == "" || b.Check == check) && b.Object == object {
			return true
		}
	}
	return false
}

// tamperBooks is a small set of real books, posted through billing: a
// charge, a charge with an accepted partial credit, a subscription's first
// (prorated) month, a posted adjustment and a closed month before them.
type tamperBooks struct {
	*books
	request, charge, entry  int64 // the plain charge
	disputed, dispute       int64 // the credited charge and its dispute
	subscription, subCharge int64
	hourly, hourlyEntry     int64 // an hourly request and one of its time entries
}

func newTamperBooks(t *testing.T, d *db.DB) *tamperBooks {
	t.Helper()
	b := &tamperBooks{books: newBooks(t, d, "")}
	ctx := context.Background()
	op := billing.Operator(b.user)
	at := time.Date(2026, 9, 3, 9, 0, 0, 0, time.UTC)
	for _, action := range []string{"review", "close"} {
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := billing.MovePeriod(ctx, tx, op, "2026-08", action, helsinki, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	b.request = b.books.request(t, "2")
	c := b.books.charge(t, b.request, "2", at)[0]
	b.charge, b.entry = c.ID, *c.EntryID
	b.disputed = b.books.charge(t, b.books.request(t, "1"), "1", at)[0].ID
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
		d, err := billing.RaiseDispute(ctx, tx, op, b.disputed, "one laptop came broken", at)
		if err != nil {
			return err
		}
		b.dispute = d.ID
		_, err = billing.SettleDispute(ctx, tx, op, billing.Settlement{DisputeID: d.ID, Action: "accept", CreditMinor: 10000, Note: "partly"}, helsinki, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.subscribe(t, 3000, time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC))
	if _, err := billing.BillingRun(ctx, d, "2026-09", helsinki, at.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := d.NewSelect().Table("charges").Column("id").Where("source_key LIKE 'subscription:%'").Scan(ctx, &b.subCharge); err != nil {
		t.Fatal(err)
	}
	if err := d.NewSelect().Table("subscriptions").Column("id").Scan(ctx, &b.subscription); err != nil {
		t.Fatal(err)
	}
	b.hourly, b.hourlyEntry = b.chargeHours(t, at)
	adjustment := b.credit(500)
	adjustment.Month = "2026-09"
	if _, err := b.adjust(t, b.user, adjustment, at); err != nil {
		t.Fatal(err)
	}
	b.assertClean(t)
	return b
}

// chargeHours resolves an hourly request with time on two days, one at
// each of the service's rates, and returns it and its first time entry.
func (b *tamperBooks) chargeHours(t *testing.T, at time.Time) (requestID, entryID int64) {
	t.Helper()
	help := b.Services.Help // hourly 60.00, and 90.00 from the second day
	err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
		_, err := catalog.AddRate(ctx, tx, 0, catalog.Rate{ServiceID: help.ID, PriceMinor: 9000, Currency: "EUR", EffectiveFrom: "2026-09-02"}, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	service, rate := b.service, b.rate
	b.service, b.rate = help.ID, help.Rate.ID
	requestID = b.requestPriced(t, "hourly", "1", 6000)
	b.service, b.rate = service, rate
	ctx := context.Background()
	for _, e := range []struct {
		minutes int
		date    string
	}{{50, "2026-09-01"}, {25, "2026-09-02"}} {
		if _, err := b.d.ExecContext(ctx, `INSERT INTO time_entries (request_id, agent_id, minutes, work_date, billable, note, created_at)
			VALUES (?, ?, ?, ?, ?, '', ?)`, requestID, b.user, e.minutes, e.date, true, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.d.NewSelect().Table("time_entries").ColumnExpr("MIN(id)").Where("request_id = ?", requestID).Scan(ctx, &entryID); err != nil {
		t.Fatal(err)
	}
	var charges []billing.Charge
	err = b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		charges, err = billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: requestID, Number: "REQ-H", Title: "Help",
			ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, ServiceID: help.ID, RateID: help.Rate.ID, PricingModel: "hourly",
			Quantity: "1", UnitPriceMinor: 6000, Currency: "EUR", ResolvedAt: at, ActorID: b.user}, helsinki)
		return err
	})
	if err != nil || len(charges) != 2 || charges[0].AmountMinor+charges[1].AmountMinor != 5000+3750 {
		t.Fatalf("hourly charges %+v, %v", charges, err)
	}
	return requestID, entryID
}

// Each tampering done in SQL behind Tiski's back (past the guards) makes
// Verify name the object it broke.
func TestVerifyNamesEachTampering(t *testing.T) {
	tamperings := []struct {
		name   string
		sql    func(b *tamperBooks) []string
		object func(b *tamperBooks) string
	}{
		{"charge amount changed",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE charges SET amount_minor = amount_minor + 1 WHERE id = %d", b.charge)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("charge %d", b.charge) }},
		{"charge unit price changed",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE charges SET unit_price_minor = 30000 WHERE id = %d", b.charge)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("charge %d", b.charge) }},
		{"settled dispute reopened",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE disputes SET status = 'open' WHERE id = %d", b.dispute)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("dispute %d", b.dispute) }},
		{"settled dispute's status changed",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE disputes SET status = 'rejected', credit_minor = 0, entry_id = NULL WHERE id = %d", b.dispute)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("dispute %d", b.dispute) }},
		{"closed period set back to open",
			func(b *tamperBooks) []string {
				return []string{"UPDATE periods SET status = 'open', closed_at = NULL WHERE month = '2026-08'"}
			},
			func(b *tamperBooks) string { return "period 2026-08" }},
		{"subscription price changed",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE subscriptions SET monthly_price_minor = 5000 WHERE id = %d", b.subscription)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("subscription %d", b.subscription) }},
		{"posting amounts changed on both sides",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE postings SET amount_minor = amount_minor * 2 WHERE entry_id = %d", b.entry)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("charge %d", b.charge) }},
		{"journal entry deleted",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("DELETE FROM postings WHERE entry_id = %d", b.entry),
					fmt.Sprintf("DELETE FROM journal_entry_seals WHERE entry_id = %d", b.entry),
					fmt.Sprintf("DELETE FROM journal_entries WHERE id = %d", b.entry)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("charge %d", b.charge) }},
		{"unexplained balanced entry inserted",
			func(b *tamperBooks) []string {
				return []string{"INSERT INTO journal_entries (id, idempotency_key, period, entry_date, kind, created_at) VALUES (9001, 'gift', '2026-09', '2026-09-30', 'adjustment', CURRENT_TIMESTAMP)",
					"INSERT INTO postings (entry_id, account_id, amount_minor, currency) SELECT 9001, id, CASE WHEN id = (SELECT MIN(id) FROM accounts) THEN -700 ELSE 700 END, 'EUR' FROM accounts",
					"INSERT INTO journal_entry_seals (entry_id) VALUES (9001)"}
			},
			func(b *tamperBooks) string { return "journal entry 9001" }},
		{"billable time changed after charging",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("UPDATE time_entries SET minutes = 80 WHERE id = %d", b.hourlyEntry)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("request %d", b.hourly) }},
		{"resolved request's charge deleted",
			func(b *tamperBooks) []string {
				return []string{fmt.Sprintf("DELETE FROM charges WHERE id = %d", b.charge)}
			},
			func(b *tamperBooks) string { return fmt.Sprintf("request %d", b.request) }},
	}
	for _, tc := range tamperings {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				b := newTamperBooks(t, d)
				dbtest.Tamper(t, d, tc.sql(b)...)
				breaches, err := billing.Verify(context.Background(), d)
				if err != nil || !names(breaches, "", tc.object(b)) {
					t.Fatalf("verify does not name %s: %v %v", tc.object(b), breaches, err)
				}
			})
		})
	}
}
