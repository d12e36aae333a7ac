package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
)

// The tests in this file each tamper in SQL as issue 10 found possible
// ("the database does not guard the books it holds") and check that the
// database refuses it and that the rows are as they were, while the moves
// Tiski makes still succeed. Rows are written in raw SQL, the way Tiski's
// stores write them.

// books is the standard organisation (testkit) with accounts for MKT (the
// consumer) and IT (the provider), one posted entry and one audit event.
type books struct {
	*testkit.Kit
	d                  *db.DB
	consumer, provider int64 // unit ids
	debit, credit      int64 // their account ids
	entry              int64
	postings           [2]int64
	audit              int64
}

func newBooks(t *testing.T, d *db.DB) *books {
	t.Helper()
	k := testkit.New(t, d)
	b := &books{Kit: k, d: d, consumer: k.Units.MKT, provider: k.Units.IT}
	b.debit = b.insert(t, `INSERT INTO accounts (unit_id, created_at) VALUES (?, CURRENT_TIMESTAMP) RETURNING id`, b.consumer)
	b.credit = b.insert(t, `INSERT INTO accounts (unit_id, created_at) VALUES (?, CURRENT_TIMESTAMP) RETURNING id`, b.provider)
	if err := d.InTx(context.Background(), func(tx bun.Tx) error {
		var err error
		b.entry, b.postings, err = b.post(tx, "request:1:rate:1", 145000)
		return err
	}); err != nil {
		t.Fatalf("post the first entry: %v", err)
	}
	b.audit = b.insert(t, `INSERT INTO audit_events (at, object_type, object_id, action) VALUES (CURRENT_TIMESTAMP, 'charge', '1', 'posted') RETURNING id`)
	return b
}

func (b *books) insert(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := b.d.NewRaw(query, args...).Scan(context.Background(), &id); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return id
}

// post writes an entry as billing.Post does: the entry, its postings, then
// its seal.
func (b *books) post(tx bun.Tx, key string, amount int64) (int64, [2]int64, error) {
	ctx := context.Background()
	entry, legs, err := b.entryWith(tx, key, amount, -amount)
	if err != nil {
		return 0, legs, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO journal_entry_seals (entry_id) VALUES (?)`, entry)
	return entry, legs, err
}

// entryWith writes an unsealed entry with a debit and, if credit is not
// zero, a credit posting.
func (b *books) entryWith(tx bun.Tx, key string, debit, credit int64) (int64, [2]int64, error) {
	ctx := context.Background()
	var entry int64
	var legs [2]int64
	err := tx.NewRaw(`INSERT INTO journal_entries (idempotency_key, period, entry_date, kind, created_at)
		VALUES (?, '2026-11', '2026-11-12', 'charge', CURRENT_TIMESTAMP) RETURNING id`, key).Scan(ctx, &entry)
	if err != nil {
		return 0, legs, err
	}
	for i, leg := range []struct{ account, amount int64 }{{b.debit, debit}, {b.credit, credit}} {
		if leg.amount == 0 {
			continue
		}
		if err := tx.NewRaw(`INSERT INTO postings (entry_id, account_id, amount_minor, currency) VALUES (?, ?, ?, 'EUR') RETURNING id`,
			entry, leg.account, leg.amount).Scan(ctx, &legs[i]); err != nil {
			return 0, legs, err
		}
	}
	return entry, legs, nil
}

// fingerprint is what a tampering would change: every ledger row's content
// and how many rows there are.
func (b *books) fingerprint(t *testing.T) string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT id || ':' || idempotency_key || ':' || memo || ':' || period FROM journal_entries ORDER BY id`,
		`SELECT id || ':' || entry_id || ':' || account_id || ':' || amount_minor FROM postings ORDER BY id`,
		`SELECT CAST(entry_id AS TEXT) FROM journal_entry_seals ORDER BY entry_id`,
		`SELECT id || ':' || object_type || ':' || action FROM audit_events ORDER BY id`,
	} {
		var rows []string
		if err := b.d.NewRaw(q).Scan(context.Background(), &rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, fmt.Sprint(rows))
	}
	return fmt.Sprint(out)
}

// refuse runs each statement in its own transaction and fails the test if
// one commits or leaves a trace.
func refuse(t *testing.T, d *db.DB, fingerprint func(*testing.T) string, statements ...string) {
	t.Helper()
	before := fingerprint(t)
	for _, stmt := range statements {
		err := d.InTx(context.Background(), func(tx bun.Tx) error {
			_, err := tx.ExecContext(context.Background(), stmt)
			return err
		})
		if err == nil {
			t.Errorf("accepted: %s", stmt)
		}
	}
	if after := fingerprint(t); after != before {
		t.Errorf("the rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestLedgerRowsCannotBeUpdatedOrDeleted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d)
		refuse(t, d, b.fingerprint,
			fmt.Sprintf(`UPDATE postings SET amount_minor = 1 WHERE id = %d`, b.postings[0]),
			`DELETE FROM postings`,
			`UPDATE journal_entries SET memo = 'x'`,
			`DELETE FROM journal_entries`,
			`UPDATE journal_entry_seals SET entry_id = entry_id`,
			`DELETE FROM journal_entry_seals`,
			`UPDATE audit_events SET action = 'x'`,
			`DELETE FROM audit_events`,
		)
	})
}

// TestInsertOrReplaceCannotRewriteTheLedger: SQLite's INSERT OR REPLACE
// deleted the old row without firing the DELETE triggers; an upsert's DO
// UPDATE is refused as an UPDATE on both engines.
func TestInsertOrReplaceCannotRewriteTheLedger(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d)
		entry := fmt.Sprintf(`INTO journal_entries (id, idempotency_key, period, entry_date, kind, memo, created_at)
			VALUES (%d, 'request:1:rate:1', '2026-10', '2026-10-01', 'charge', 'rewritten', CURRENT_TIMESTAMP)`, b.entry)
		byKey := `INTO journal_entries (idempotency_key, period, entry_date, kind, memo, created_at)
			VALUES ('request:1:rate:1', '2026-10', '2026-10-01', 'charge', 'rewritten', CURRENT_TIMESTAMP)`
		posting := fmt.Sprintf(`INTO postings (id, entry_id, account_id, amount_minor, currency) VALUES (%d, %d, %d, 1, 'EUR')`,
			b.postings[0], b.entry, b.debit)
		audit := fmt.Sprintf(`INTO audit_events (id, at, object_type, object_id, action) VALUES (%d, CURRENT_TIMESTAMP, 'charge', '1', 'rewritten')`, b.audit)
		seal := fmt.Sprintf(`INTO journal_entry_seals (entry_id) VALUES (%d)`, b.entry)
		statements := []string{
			"INSERT " + entry + " ON CONFLICT (id) DO UPDATE SET memo = 'rewritten'",
			"INSERT " + byKey + " ON CONFLICT (idempotency_key) DO UPDATE SET memo = excluded.memo",
			"INSERT " + posting + " ON CONFLICT (id) DO UPDATE SET amount_minor = excluded.amount_minor",
			"INSERT " + audit + " ON CONFLICT (id) DO UPDATE SET action = excluded.action",
			"INSERT " + seal + " ON CONFLICT (entry_id) DO UPDATE SET entry_id = excluded.entry_id",
		}
		if d.Engine == db.SQLite {
			for _, row := range []string{entry, byKey, posting, audit, seal} {
				statements = append(statements, "INSERT OR REPLACE "+row, "REPLACE "+row)
			}
		}
		refuse(t, d, b.fingerprint, statements...)
	})
}

// TestTruncateCannotEmptyTheLedger: PostgreSQL's TRUNCATE fires no row
// trigger. SQLite has no TRUNCATE; its truncate optimisation of an
// unqualified DELETE must not skip the triggers either.
func TestTruncateCannotEmptyTheLedger(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d)
		tables := []string{"postings", "journal_entry_seals", "journal_entries", "audit_events"}
		var statements []string
		for _, table := range tables {
			if d.Engine == db.Postgres {
				statements = append(statements, "TRUNCATE "+table, "TRUNCATE "+table+" CASCADE")
			} else {
				statements = append(statements, "DELETE FROM "+table)
			}
		}
		refuse(t, d, b.fingerprint, statements...)
	})
}

func TestPostingCannotJoinAPostedEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d)
		leg := func(account, amount int64) string {
			return fmt.Sprintf(`INSERT INTO postings (entry_id, account_id, amount_minor, currency) VALUES (%d, %d, %d, 'EUR')`,
				b.entry, account, amount)
		}
		refuse(t, d, b.fingerprint, leg(b.debit, 100), leg(b.credit, -100))
		// A balanced pair is an extra posting too.
		before := b.fingerprint(t)
		err := d.InTx(context.Background(), func(tx bun.Tx) error {
			for _, stmt := range []string{leg(b.debit, 100), leg(b.credit, -100)} {
				if _, err := tx.ExecContext(context.Background(), stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || b.fingerprint(t) != before {
			t.Fatalf("a balanced pair joined the posted entry: %v", err)
		}
	})
}

// TestPostingCannotJoinAnEntryBeingWritten: on PostgreSQL another
// transaction may know the id of an entry not yet committed; its posting
// must not wait for the commit and then join the entry.
func TestPostingCannotJoinAnEntryBeingWritten(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Engine != db.Postgres {
			t.Skip("SQLite has one writer at a time: no other transaction writes while an entry is being written")
		}
		b := newBooks(t, d)
		ctx := context.Background()
		writer, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer writer.Rollback()
		entry, _, err := b.entryWith(writer, "request:2:rate:1", 500, -500)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.ExecContext(ctx, fmt.Sprintf(`INSERT INTO postings (entry_id, account_id, amount_minor, currency)
			VALUES (%d, %d, 100, 'EUR')`, entry, b.debit))
		if err == nil {
			t.Fatal("another transaction posted into an entry being written")
		}
		if _, err := writer.ExecContext(ctx, `INSERT INTO journal_entry_seals (entry_id) VALUES (?)`, entry); err != nil {
			t.Fatal(err)
		}
		if err := writer.Commit(); err != nil {
			t.Fatalf("the writer could not commit its balanced entry: %v", err)
		}
	})
}

func TestUnbalancedEntryCannotCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d)
		seal := func(tx bun.Tx, entry int64) error {
			_, err := tx.ExecContext(context.Background(), `INSERT INTO journal_entry_seals (entry_id) VALUES (?)`, entry)
			return err
		}
		for _, c := range []struct {
			name          string
			debit, credit int64
			seal          bool
		}{
			{"postings that sum to 100, sealed", 600, -500, true},
			{"one posting, sealed", 600, 0, true},
			{"postings that sum to 100, unsealed", 600, -500, false},
			{"balanced postings, unsealed", 500, -500, false},
			{"no postings, unsealed", 0, 0, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := b.fingerprint(t)
				err := d.InTx(context.Background(), func(tx bun.Tx) error {
					entry, _, err := b.entryWith(tx, "unbalanced", c.debit, c.credit)
					if err != nil || !c.seal {
						return err
					}
					return seal(tx, entry)
				})
				if err == nil {
					t.Fatal("the entry committed")
				}
				if after := b.fingerprint(t); after != before {
					t.Fatalf("the rows changed:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
		t.Run("mixed currencies, sealed", func(t *testing.T) {
			err := d.InTx(context.Background(), func(tx bun.Tx) error {
				entry, legs, err := b.entryWith(tx, "two currencies", 500, 0)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(context.Background(), `INSERT INTO postings (entry_id, account_id, amount_minor, currency)
					VALUES (?, ?, -500, 'SEK')`, entry, b.credit); err != nil {
					return fmt.Errorf("posting %v: %w", legs, err)
				}
				return seal(tx, entry)
			})
			if err == nil {
				t.Fatal("an entry in two currencies committed")
			}
		})
		t.Run("balanced, sealed", func(t *testing.T) {
			if err := d.InTx(context.Background(), func(tx bun.Tx) error {
				_, _, err := b.post(tx, "balanced", 700)
				return err
			}); err != nil {
				t.Fatalf("a balanced entry was refused: %v", err)
			}
		})
	})
}

// TestTamperGetsPastTheGuards: tests of `tiski verify` tamper through
// dbtest.Tamper; it must really change the rows, and leave the guards in
// place afterwards.
func TestTamperGetsPastTheGuards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d)
		dbtest.Tamper(t, d, fmt.Sprintf(`UPDATE postings SET amount_minor = 1 WHERE id = %d`, b.postings[0]))
		var amount int64
		if err := d.NewRaw(`SELECT amount_minor FROM postings WHERE id = ?`, b.postings[0]).Scan(context.Background(), &amount); err != nil || amount != 1 {
			t.Fatalf("tampered amount = %d, %v", amount, err)
		}
		refuse(t, d, b.fingerprint, `UPDATE postings SET amount_minor = 2`, `DELETE FROM audit_events`)
	})
}
