package billing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// TestPostWithAKnownKeyComparesWhatWasAsked: the same movement under a
// known key is a retry and returns the first entry without writing; another
// movement under it (amount, accounts, currency, month, kind) is an
// idempotency_mismatch conflict naming the key, and writes nothing. Before,
// the ledger returned the first entry whatever was asked, which is how a
// re-resolution's new billable time went uncharged.
func TestPostWithAKnownKeyComparesWhatWasAsked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		asked := func() billing.Entry {
			return billing.Entry{Key: "request:7:rate:1", Month: "2026-05", Date: "2026-05-02", Kind: "charge", Memo: "REQ-000007",
				Currency: "EUR", CreatedBy: b.user, Lines: []billing.Line{{UnitID: b.consumer, AmountMinor: 6000}, {UnitID: b.provider, AmountMinor: -6000}}}
		}
		post := func(e billing.Entry) (*billing.JournalEntry, bool, error) {
			var je *billing.JournalEntry
			var created bool
			err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
				je, created, err = billing.Post(ctx, tx, e, now)
				return err
			})
			return je, created, err
		}
		first, created, err := post(asked())
		if err != nil || !created {
			t.Fatalf("first post: %v, created %v", err, created)
		}
		// A retry may come on another day, with another memo or author.
		retry := asked()
		retry.Date, retry.Memo, retry.CreatedBy = "2026-05-03", "REQ-000007 again", 0
		retry.Lines = []billing.Line{retry.Lines[1], retry.Lines[0]}
		again, created, err := post(retry)
		if err != nil || created || again == nil || again.ID != first.ID {
			t.Fatalf("retry: entry %+v created %v err %v, want entry %d back", again, created, err, first.ID)
		}
		for _, tc := range []struct {
			name, differs string
			change        func(e *billing.Entry)
		}{
			{"more minutes", "lines", func(e *billing.Entry) { e.Lines[0].AmountMinor, e.Lines[1].AmountMinor = 18000, -18000 }},
			{"other units", "lines", func(e *billing.Entry) { e.Lines[0].UnitID, e.Lines[1].UnitID = b.provider, b.consumer }},
			{"three legs", "lines", func(e *billing.Entry) {
				e.Lines = []billing.Line{{UnitID: b.consumer, AmountMinor: 3000}, {UnitID: b.consumer, AmountMinor: 3000}, {UnitID: b.provider, AmountMinor: -6000}}
			}},
			{"other currency", "currency", func(e *billing.Entry) { e.Currency = "SEK" }},
			{"other month", "month", func(e *billing.Entry) { e.Month = "2026-06" }},
			{"other kind", "kind", func(e *billing.Entry) { e.Kind = "adjustment" }},
			{"a reversal", "reversed entry", func(e *billing.Entry) { e.Reverses = first.ID }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := asked()
				tc.change(&e)
				_, created, err := post(e)
				fe, ok := fault.As(err)
				if !ok || fe.Kind != fault.KindConflict || fe.Code != "idempotency_mismatch" || fe.Details["key"] != e.Key || fe.Details["differs"] != tc.differs {
					t.Fatalf("post %s: %v (%+v), created %v; want idempotency_mismatch on %s naming the key", tc.name, err, fe, created, tc.differs)
				}
			})
		}
		var entries, postings int
		if err := d.NewRaw("SELECT COUNT(*) FROM journal_entries").Scan(context.Background(), &entries); err != nil {
			t.Fatal(err)
		}
		if err := d.NewRaw("SELECT COUNT(*) FROM postings").Scan(context.Background(), &postings); err != nil {
			t.Fatal(err)
		}
		if entries != 1 || postings != 2 || b.balance(t, b.consumer) != 6000 {
			t.Fatalf("%d entries, %d postings, consumer balance %d; want the first entry alone", entries, postings, b.balance(t, b.consumer))
		}
	})
}

// TestChargedTimeIsGuarded: the link from a charge to the time entries it
// covers is append-only on both engines, an entry is covered once, a link
// joins a charge and billable time of the same request, and a charged time
// entry no longer changes.
func TestChargedTimeIsGuarded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := newBooks(t, d, "")
		at := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		hourly := b.request(t, "1")
		other := b.request(t, "1")
		if _, err := d.NewRaw("UPDATE requests SET pricing_model = 'hourly' WHERE id IN (?, ?)", hourly, other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		entry := func(requestID int64, billable bool) int64 {
			e := &requests.TimeEntry{RequestID: requestID, AgentID: b.user, Minutes: 60, WorkDate: "2026-05-02", Billable: billable, CreatedAt: at}
			if _, err := d.NewInsert().Model(e).Returning("id").Exec(ctx); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		charged, free, unbillable, elsewhere := entry(hourly, true), entry(hourly, true), entry(hourly, false), entry(other, true)
		if _, err := d.NewRaw("UPDATE time_entries SET minutes = 1 WHERE id = ?", free).Exec(ctx); err != nil {
			t.Fatalf("an uncharged entry cannot change: %v", err)
		}
		var charges []billing.Charge
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			charges, err = billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: hourly, Number: "REQ-1", Title: "Support",
				ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, ServiceID: b.service, RateID: b.rate, PricingModel: "hourly",
				UnitPriceMinor: 33333, Currency: "EUR", ResolvedAt: at, ActorID: b.user}, helsinki)
			return err
		}); err != nil || len(charges) != 1 {
			t.Fatalf("charge the time: %v %+v", err, charges)
		}
		c := charges[0]
		if got, err := billing.ChargedTime(ctx, d, c.ID); err != nil || fmt.Sprint(got) != fmt.Sprint([]int64{charged, free}) {
			t.Fatalf("the charge covers %v (%v), want [%d %d]", got, err, charged, free)
		}
		refused := []string{
			fmt.Sprintf("UPDATE charge_time_entries SET charge_id = charge_id WHERE time_entry_id = %d", charged),
			fmt.Sprintf("DELETE FROM charge_time_entries WHERE time_entry_id = %d", charged),
			fmt.Sprintf("INSERT INTO charge_time_entries (time_entry_id, charge_id) VALUES (%d, %d)", charged, c.ID),
			fmt.Sprintf("INSERT INTO charge_time_entries (time_entry_id, charge_id) VALUES (%d, %d)", unbillable, c.ID),
			fmt.Sprintf("INSERT INTO charge_time_entries (time_entry_id, charge_id) VALUES (%d, %d)", elsewhere, c.ID),
			fmt.Sprintf("UPDATE time_entries SET minutes = 600 WHERE id = %d", charged),
			fmt.Sprintf("UPDATE time_entries SET billable = FALSE WHERE id = %d", free),
			fmt.Sprintf("DELETE FROM time_entries WHERE id = %d", charged),
		}
		if d.Engine == db.SQLite {
			refused = append(refused, fmt.Sprintf("INSERT OR REPLACE INTO charge_time_entries (time_entry_id, charge_id) VALUES (%d, %d)", charged, c.ID))
		} else {
			refused = append(refused, "TRUNCATE charge_time_entries", "TRUNCATE time_entries CASCADE")
		}
		for _, stmt := range refused {
			if _, err := d.ExecContext(ctx, stmt); err == nil {
				t.Errorf("%s was allowed", stmt)
			}
		}
		var links int
		if err := d.NewRaw("SELECT COUNT(*) FROM charge_time_entries").Scan(ctx, &links); err != nil || links != 2 {
			t.Fatalf("%d links (%v), want the two the charge wrote", links, err)
		}
	})
}

// TestChargedTimeBackfillCoversWhatOldChargesBilled replays the migration
// that adds charge_time_entries over an hourly charge posted before it: the
// billable entries logged by the time of that charge are covered by it, the
// time logged after it (which the old code never charged) is not, so the
// next resolution charges that time and nothing twice.
func TestChargedTimeBackfillCoversWhatOldChargesBilled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := newBooks(t, d, "")
		at := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		rid := b.request(t, "1")
		if _, err := d.NewRaw("UPDATE requests SET pricing_model = 'hourly' WHERE id = ?", rid).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		entry := func(billable bool, loggedAt time.Time) int64 {
			e := &requests.TimeEntry{RequestID: rid, AgentID: b.user, Minutes: 60, WorkDate: "2026-05-02", Billable: billable, CreatedAt: loggedAt}
			if _, err := d.NewInsert().Model(e).Returning("id").Exec(ctx); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		billed := entry(true, at.Add(-time.Hour))
		entry(false, at.Add(-time.Hour))
		// The charge as the old code wrote it: one per request and rate, no links.
		key := fmt.Sprintf("request:%d:rate:%d", rid, b.rate)
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			je, _, err := billing.Post(ctx, tx, billing.Entry{Key: key, Month: "2026-05", Date: "2026-05-02", Kind: "charge", Currency: "EUR",
				Lines: []billing.Line{{UnitID: b.consumer, AmountMinor: 33333}, {UnitID: b.provider, AmountMinor: -33333}}}, at)
			if err != nil {
				return err
			}
			c := billing.Charge{SourceKey: key, RequestID: &rid, ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, ServiceID: b.service,
				RateID: &b.rate, Period: "2026-05", Quantity: "1", UnitPriceMinor: 33333, AmountMinor: 33333, Currency: "EUR",
				Status: billing.ChargePosted, EntryID: &je.ID, CreatedAt: at}
			_, err = tx.NewInsert().Model(&c).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		unbilled := entry(true, at.Add(time.Hour))
		undo := []string{"DELETE FROM bun_migrations WHERE name = '20261202000600'"}
		if d.Engine == db.Postgres {
			undo = append(undo, "DROP TABLE charge_time_entries CASCADE", "DROP FUNCTION tiski_charge_time_entry_matches() CASCADE",
				"DROP FUNCTION tiski_charged_time_fixed() CASCADE", "DROP TRIGGER time_entries_no_truncate ON time_entries")
		} else {
			undo = append(undo, "DROP TRIGGER time_entries_charged_no_update", "DROP TRIGGER time_entries_charged_no_delete", "DROP TABLE charge_time_entries")
		}
		for _, stmt := range undo {
			if _, err := d.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		if applied, err := d.Migrate(ctx); err != nil || len(applied) != 1 {
			t.Fatalf("migrate again: %v %v", applied, err)
		}
		var covered []int64
		if err := d.NewRaw("SELECT time_entry_id FROM charge_time_entries ORDER BY time_entry_id").Scan(ctx, &covered); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(covered) != fmt.Sprint([]int64{billed}) {
			t.Fatalf("the old charge covers %v, want [%d]", covered, billed)
		}
		var charges []billing.Charge
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			charges, err = billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: rid, Number: "REQ-1", Title: "Support",
				ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, ServiceID: b.service, RateID: b.rate, PricingModel: "hourly",
				UnitPriceMinor: 33333, Currency: "EUR", ResolvedAt: at.Add(2 * time.Hour), ActorID: b.user}, helsinki)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(charges) != 1 || charges[0].AmountMinor != 33333 {
			t.Fatalf("the next resolution charged %+v, want the hour logged after the old charge", charges)
		}
		if got, err := billing.ChargedTime(ctx, d, charges[0].ID); err != nil || fmt.Sprint(got) != fmt.Sprint([]int64{unbilled}) {
			t.Fatalf("the supplementary charge covers %v (%v), want [%d]", got, err, unbilled)
		}
	})
}

// TestBillingRunSkipsAMonthChargedBeforeItsSubscriptionEnded: a month
// charged in full stands when the subscription later ends within it; a
// rerun skips it instead of asking the ledger for the shorter month under
// the same key (an idempotency_mismatch that would stop the run).
func TestBillingRunSkipsAMonthChargedBeforeItsSubscriptionEnded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := newBooks(t, d, "")
		rid := b.subscribe(t, 3000, time.Date(2026, 3, 20, 6, 0, 0, 0, time.UTC))
		now := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
		if res, err := billing.BillingRun(ctx, d, "2026-04", helsinki, now); err != nil || res.Charged != 1 {
			t.Fatalf("April run = %+v, %v", res, err)
		}
		if _, err := d.NewRaw("UPDATE subscriptions SET end_date = '2026-04-15' WHERE request_id = ?", rid).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if res, err := billing.BillingRun(ctx, d, "2026-04", helsinki, now.Add(24*time.Hour)); err != nil || res.Skipped != 1 || res.Charged != 0 {
			t.Fatalf("April rerun after the end = %+v, %v; want it skipped", res, err)
		}
		if got := b.balance(t, b.consumer); got != 3000 {
			t.Fatalf("consumer balance %d, want April's one charge of 30.00", got)
		}
	})
}
