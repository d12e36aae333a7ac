package billing_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// chainedBooks returns books with three charges, each an entry and audit
// events, and the ids of the entries and the events, oldest first.
func chainedBooks(t *testing.T, d *db.DB) (b *books, entries, events []int64) {
	t.Helper()
	b = newBooks(t, d, "")
	for day := 2; day <= 4; day++ {
		b.charge(t, b.request(t, "1"), "1", time.Date(2026, 5, day, 10, 0, 0, 0, time.UTC))
	}
	ctx := context.Background()
	if err := d.NewRaw("SELECT id FROM journal_entries ORDER BY id").Scan(ctx, &entries); err != nil {
		t.Fatal(err)
	}
	if err := d.NewRaw("SELECT id FROM audit_events ORDER BY id").Scan(ctx, &events); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || len(events) < 3 {
		t.Fatalf("%d entries and %d audit events, want 3 and at least 3", len(entries), len(events))
	}
	return b, entries, events
}

// chainBreaches returns the details of the breaches of the hash chains.
func chainBreaches(t *testing.T, d *db.DB) []string {
	t.Helper()
	breaches, err := billing.Verify(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, br := range breaches {
		if strings.HasSuffix(br.Check, "are chained") {
			details = append(details, br.Detail)
		}
	}
	return details
}

// TestHashChainNamesTheTamperedRow: each row edited, deleted or inserted
// behind Tiski's back (past the database guards) makes billing.Verify name
// it, on a ledger that verified clean before.
func TestHashChainNamesTheTamperedRow(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(entries, events []int64) []string
		want   func(entries, events []int64) string
	}{
		{"edited entry memo",
			func(en, ev []int64) []string {
				return []string{fmt.Sprintf("UPDATE journal_entries SET memo = 'lunch' WHERE id = %d", en[1])}
			},
			func(en, ev []int64) string {
				return fmt.Sprintf("journal entry %d: hash does not match its content", en[1])
			}},
		{"edited posting of an entry",
			func(en, ev []int64) []string {
				return []string{fmt.Sprintf("UPDATE postings SET amount_minor = -amount_minor WHERE entry_id = %d", en[0])}
			},
			func(en, ev []int64) string {
				return fmt.Sprintf("journal entry %d: hash does not match its content", en[0])
			}},
		{"inserted entry",
			func(en, ev []int64) []string {
				return []string{fmt.Sprintf(`INSERT INTO journal_entries (id, idempotency_key, period, entry_date, kind, memo, created_at)
					VALUES (%d, 'ghost', '2026-05', '2026-05-05', 'adjustment', 'ghost', CURRENT_TIMESTAMP)`, en[2]+40)}
			},
			func(en, ev []int64) string { return fmt.Sprintf("journal entry %d is not in the chain", en[2]+40) }},
		{"deleted newest entry with its link",
			func(en, ev []int64) []string {
				return []string{fmt.Sprintf("DELETE FROM postings WHERE entry_id = %d", en[2]),
					fmt.Sprintf("DELETE FROM journal_entries WHERE id = %d", en[2]),
					fmt.Sprintf("DELETE FROM chain_links WHERE chain = 'journal_entries' AND row_id = %d", en[2])}
			},
			func(en, ev []int64) string {
				return fmt.Sprintf("chain gap after journal entry %d: the chain's head does not match its newest link", en[1])
			}},
		{"edited audit event",
			func(en, ev []int64) []string {
				return []string{fmt.Sprintf(`UPDATE audit_events SET after_json = '{"name":"Mallory"}' WHERE id = %d`, ev[1])}
			},
			func(en, ev []int64) string {
				return fmt.Sprintf("audit event %d: hash does not match its content", ev[1])
			}},
		{"deleted audit event",
			func(en, ev []int64) []string {
				return []string{fmt.Sprintf("DELETE FROM audit_events WHERE id = %d", ev[2])}
			},
			func(en, ev []int64) string {
				return fmt.Sprintf("chain gap after audit event %d: audit event %d is gone", ev[1], ev[2])
			}},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				d := dbtest.Open(t, d.Engine)
				_, entries, events := chainedBooks(t, d)
				if got := chainBreaches(t, d); len(got) != 0 {
					t.Fatalf("before tampering: %v", got)
				}
				dbtest.Tamper(t, d, c.tamper(entries, events)...)
				want := c.want(entries, events)
				if got := chainBreaches(t, d); !slices.Equal(got, []string{want}) {
					t.Fatalf("breaches %q, want %q", got, want)
				}
			})
		}
	})
}

// TestHashChainTakesInRowsWrittenBeforeIt: rows from before the chains
// existed are passed over until the next append chains them, in id order;
// from then on tampering with them is named too.
func TestHashChainTakesInRowsWrittenBeforeIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b, entries, _ := chainedBooks(t, d)
		// The state the migration leaves on books that had rows already.
		dbtest.Tamper(t, d, "DELETE FROM chain_links",
			fmt.Sprintf("UPDATE chain_heads SET seq = 0, hash = '', backfill_to = %d WHERE name = 'journal_entries'", entries[2]),
			"UPDATE chain_heads SET seq = 0, hash = '', backfill_to = (SELECT MAX(id) FROM audit_events) WHERE name = 'audit_events'")
		if got := chainBreaches(t, d); len(got) != 0 {
			t.Fatalf("rows awaiting the chain: %v", got)
		}
		b.charge(t, b.request(t, "2"), "2", time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC))
		ctx := context.Background()
		var linked []int64
		if err := d.NewRaw("SELECT row_id FROM chain_links WHERE chain = 'journal_entries' ORDER BY seq").Scan(ctx, &linked); err != nil {
			t.Fatal(err)
		}
		if len(linked) != 4 || !slices.Equal(linked[:3], entries) {
			t.Fatalf("chained entries %v, want %v and the new one", linked, entries)
		}
		if got := chainBreaches(t, d); len(got) != 0 {
			t.Fatalf("after the first append: %v", got)
		}
		dbtest.Tamper(t, d, fmt.Sprintf("UPDATE journal_entries SET memo = 'lunch' WHERE id = %d", entries[0]))
		want := fmt.Sprintf("journal entry %d: hash does not match its content", entries[0])
		if got := chainBreaches(t, d); !slices.Equal(got, []string{want}) {
			t.Fatalf("breaches %q, want %q", got, want)
		}
	})
}

// TestHashChainAppendsInCommitOrder: concurrent posts each extend the
// chain from the committed head, so the chain verifies whole.
func TestHashChainAppendsInCommitOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		ctx := context.Background()
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				errs <- b.tx(t, func(ctx context.Context, tx bun.Tx) error {
					_, _, err := billing.Post(ctx, tx, billing.Entry{Key: fmt.Sprintf("concurrent-%d", i), Month: "2026-05", Date: "2026-05-02",
						Kind: "adjustment", Currency: "EUR", Lines: []billing.Line{{UnitID: b.consumer, AmountMinor: 100}, {UnitID: b.provider, AmountMinor: -100}}}, time.Now())
					return err
				})
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var links int
		if err := d.NewRaw("SELECT COUNT(*) FROM chain_links WHERE chain = 'journal_entries'").Scan(ctx, &links); err != nil || links != 8 {
			t.Fatalf("%d links, %v", links, err)
		}
		if got := chainBreaches(t, d); len(got) != 0 {
			t.Fatalf("breaches %q", got)
		}
	})
}

// TestHashChainIsGuarded: the links take no update or delete, and a head
// does not move back, so only someone past the guards can rewrite a chain.
func TestHashChainIsGuarded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		chainedBooks(t, d)
		ctx := context.Background()
		for _, stmt := range []string{
			"UPDATE chain_links SET hash = 'x'", "DELETE FROM chain_links",
			"UPDATE chain_heads SET seq = seq - 1", "UPDATE chain_heads SET hash = 'x'", "DELETE FROM chain_heads",
			"INSERT OR REPLACE INTO chain_links (chain, seq, row_id, prev_hash, hash) SELECT chain, seq, row_id, prev_hash, 'x' FROM chain_links",
		} {
			if d.Engine == db.Postgres && strings.HasPrefix(stmt, "INSERT OR REPLACE") {
				stmt = "TRUNCATE chain_links"
			}
			if _, err := d.ExecContext(ctx, stmt); err == nil {
				t.Errorf("%s was allowed", stmt)
			}
		}
		if got := chainBreaches(t, d); len(got) != 0 {
			t.Fatalf("breaches %q", got)
		}
	})
}
