package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
)

// TestPostThatLosesTheRaceForAKeyComparesWhatTheWinnerPosted: two posters
// ask for one key at once; the second blocks on the key's unique index
// until the first commits, and then its INSERT ... ON CONFLICT DO NOTHING
// writes nothing. Before, the loser returned the winner's entry whatever
// the winner had posted; now it compares as any replay does: other lines
// are an idempotency_mismatch, the same lines get the winner's entry back.
// PostgreSQL only: SQLite's write transactions run one at a time, so the
// second poster never reaches the insert while the first is uncommitted.
func TestPostThatLosesTheRaceForAKeyComparesWhatTheWinnerPosted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Engine != db.Postgres {
			t.Skip("SQLite serialises writers (BEGIN IMMEDIATE): a second poster cannot wait on the key's index")
		}
		ctx := context.Background()
		b := newBooks(t, d, "")
		now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		entry := func(key string, amount int64) billing.Entry {
			return billing.Entry{Key: key, Month: "2026-05", Date: "2026-05-02", Kind: "charge", Memo: "REQ-000007", Currency: "EUR",
				CreatedBy: b.user, Lines: []billing.Line{{UnitID: b.consumer, AmountMinor: amount}, {UnitID: b.provider, AmountMinor: -amount}}}
		}
		// The month's period row and both accounts exist beforehand, so the
		// loser waits on nothing but the key.
		if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, _, err := billing.Post(ctx, tx, entry("setup", 100), now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name        string
			loserAmount int64
			mismatch    bool
		}{
			{"other lines", 18000, true},
			{"same lines", 6000, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := "request:7:race:" + tc.name
				winner, err := d.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = winner.Rollback() }()
				won, created, err := billing.Post(ctx, winner, entry(key, 6000), now)
				if err != nil || !created {
					t.Fatalf("winner: %v, created %v", err, created)
				}
				type outcome struct {
					je      *billing.JournalEntry
					created bool
					err     error
				}
				pid, done := make(chan int64, 1), make(chan outcome, 1)
				go func() {
					var o outcome
					defer func() { done <- o }()
					loser, err := d.BeginTx(ctx, nil)
					if err != nil {
						o.err = err
						close(pid)
						return
					}
					defer func() { _ = loser.Rollback() }()
					var p int64
					if o.err = loser.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &p); o.err != nil {
						close(pid)
						return
					}
					pid <- p
					o.je, o.created, o.err = billing.Post(ctx, loser, entry(key, tc.loserAmount), now)
					if o.err == nil {
						o.err = loser.Commit()
					}
				}()
				p, ok := <-pid
				if !ok {
					t.Fatalf("loser: %v", (<-done).err)
				}
				waitOnLock(t, d, p)
				if err := winner.Commit(); err != nil {
					t.Fatal(err)
				}
				var o outcome
				select {
				case o = <-done:
				case <-time.After(30 * time.Second):
					t.Fatal("the loser did not return after the winner committed")
				}
				fe, isFault := fault.As(o.err)
				switch {
				case tc.mismatch && (!isFault || fe.Code != "idempotency_mismatch" || fe.Details["key"] != key || fe.Details["differs"] != "lines"):
					t.Fatalf("loser with other lines: %v (%+v), entry %+v; want idempotency_mismatch on lines", o.err, fe, o.je)
				case !tc.mismatch && (o.err != nil || o.created || o.je == nil || o.je.ID != won.ID):
					t.Fatalf("loser with the same lines: entry %+v created %v err %v; want the winner's entry %d", o.je, o.created, o.err, won.ID)
				}
				var entries, postings int
				if err := d.NewRaw("SELECT COUNT(*) FROM journal_entries WHERE idempotency_key = ?", key).Scan(ctx, &entries); err != nil {
					t.Fatal(err)
				}
				if err := d.NewRaw("SELECT COUNT(*) FROM postings p JOIN journal_entries e ON e.id = p.entry_id WHERE e.idempotency_key = ?", key).
					Scan(ctx, &postings); err != nil {
					t.Fatal(err)
				}
				if entries != 1 || postings != 2 {
					t.Fatalf("key %s holds %d entries and %d postings; want the winner's alone", key, entries, postings)
				}
			})
		}
		if got := b.balance(t, b.consumer); got != 100+6000+6000 {
			t.Fatalf("consumer balance %d; want the setup and the two winners only", got)
		}
	})
}

// waitOnLock polls until the PostgreSQL backend pid waits on a lock, and
// fails the test if it does not within a generous deadline.
func waitOnLock(t *testing.T, d *db.DB, pid int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waits []string
		if err := d.NewRaw("SELECT COALESCE(wait_event_type, '') FROM pg_stat_activity WHERE pid = ?", pid).Scan(context.Background(), &waits); err != nil {
			t.Fatal(err)
		}
		if len(waits) == 1 && waits[0] == "Lock" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d never waited on a lock (wait event %v)", pid, waits)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
