package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// shop adds to the books what charges, disputes and adjustments need: the
// kit's finance user and laptop service, and a charge on the posted entry.
type shop struct {
	*books
	user, service, rate, charge int64
}

func newShop(t *testing.T, d *db.DB) *shop {
	t.Helper()
	b := newBooks(t, d)
	s := &shop{books: b, user: b.People.Finance, service: b.Services.Laptop.ID, rate: b.Services.Laptop.Rate.ID}
	s.charge = s.newCharge(t, "request:1:rate:1")
	return s
}

func (s *shop) newCharge(t *testing.T, key string) int64 {
	t.Helper()
	return s.insert(t, `INSERT INTO charges (source_key, consumer_unit_id, provider_unit_id, service_id, rate_id, period,
		quantity, unit_price_minor, amount_minor, currency, status, entry_id, created_at)
		VALUES (?, ?, ?, ?, ?, '2026-11', '1', 145000, 145000, 'EUR', 'posted', ?, CURRENT_TIMESTAMP) RETURNING id`,
		key, s.consumer, s.provider, s.service, s.rate, s.entry)
}

// row is the fingerprint of one row of table.
func (s *shop) row(table string, id int64) func(*testing.T) string {
	return func(t *testing.T) string {
		t.Helper()
		m := map[string]any{}
		if err := s.d.NewRaw("SELECT * FROM "+table+" WHERE id = ?", id).Scan(context.Background(), &m); err != nil {
			t.Fatalf("read %s %d: %v", table, id, err)
		}
		return fmt.Sprint(m)
	}
}

// move runs statements that Tiski itself runs; each must succeed.
func (s *shop) move(t *testing.T, statements ...string) {
	t.Helper()
	for _, stmt := range statements {
		if _, err := s.d.ExecContext(context.Background(), stmt); err != nil {
			t.Fatalf("refused: %s: %v", stmt, err)
		}
	}
}

// replacements are the ways to write a row over an existing one: an
// upsert on both engines, and SQLite's REPLACE.
func replacements(d *db.DB, table, columns, values, set string) []string {
	row := fmt.Sprintf("INTO %s (%s) VALUES (%s)", table, columns, values)
	out := []string{"INSERT " + row + " ON CONFLICT (id) DO UPDATE SET " + set}
	if d.Engine == db.SQLite {
		out = append(out, "INSERT OR REPLACE "+row, "REPLACE "+row)
	} else {
		out = append(out, "TRUNCATE "+table+" CASCADE")
	}
	return out
}

func TestChargeAmountAndSnapshotCannotChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		statements := []string{
			"UPDATE charges SET amount_minor = 1",
			"UPDATE charges SET unit_price_minor = 1",
			"UPDATE charges SET quantity = '2'",
			fmt.Sprintf("UPDATE charges SET consumer_unit_id = %d", s.provider),
			"UPDATE charges SET rate_id = NULL",
			"UPDATE charges SET period = '2026-12'",
			"UPDATE charges SET currency = 'SEK'",
			"UPDATE charges SET entry_id = NULL",
			"UPDATE charges SET amount_minor = 1, status = 'credited'",
			"DELETE FROM charges",
		}
		statements = append(statements, replacements(d, "charges",
			"id, source_key, consumer_unit_id, provider_unit_id, service_id, period, quantity, unit_price_minor, amount_minor, currency, status, created_at",
			fmt.Sprintf("%d, 'request:1:rate:1', %d, %d, %d, '2026-11', '1', 1, 1, 'EUR', 'posted', CURRENT_TIMESTAMP", s.charge, s.consumer, s.provider, s.service),
			"amount_minor = excluded.amount_minor")...)
		refuse(t, d, s.row("charges", s.charge), statements...)
		if _, err := d.ExecContext(context.Background(), `INSERT INTO charges (source_key, consumer_unit_id, provider_unit_id, service_id,
			period, quantity, unit_price_minor, amount_minor, currency, status, created_at)
			VALUES ('born credited', ?, ?, ?, '2026-11', '1', 1, 1, 'EUR', 'credited', CURRENT_TIMESTAMP)`, s.consumer, s.provider, s.service); err == nil {
			t.Error("a charge was born credited")
		}
	})
}

func TestChargeStatusFollowsItsDispute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		charge := func(status string) string {
			return fmt.Sprintf("UPDATE charges SET status = '%s' WHERE id = %d", status, s.charge)
		}
		dispute := func(charge int64) int64 {
			return s.insert(t, `INSERT INTO disputes (charge_id, raised_by, reason, status, created_at)
				VALUES (?, ?, 'never delivered', 'open', CURRENT_TIMESTAMP) RETURNING id`, charge, s.user)
		}
		settle := func(id int64, status string, credit int64) string {
			return fmt.Sprintf(`UPDATE disputes SET status = '%s', credit_minor = %d, resolved_by = %d, resolved_at = CURRENT_TIMESTAMP,
				note = 'checked' WHERE id = %d`, status, credit, s.user, id)
		}
		row := s.row("charges", s.charge)
		t.Run("without a dispute", func(t *testing.T) {
			refuse(t, d, row, charge("disputed"), charge("credited"))
		})
		accepted := dispute(s.charge)
		t.Run("raised", func(t *testing.T) {
			s.move(t, charge("disputed"))
			refuse(t, d, row, charge("posted"), charge("credited"))
		})
		t.Run("accepted", func(t *testing.T) {
			s.move(t, settle(accepted, "accepted", 145000), charge("credited"))
			refuse(t, d, row, charge("posted"), charge("disputed"))
		})
		t.Run("rejected", func(t *testing.T) {
			other := s.newCharge(t, "request:2:rate:1")
			rejected := dispute(other)
			s.move(t, fmt.Sprintf("UPDATE charges SET status = 'disputed' WHERE id = %d", other),
				settle(rejected, "rejected", 0), fmt.Sprintf("UPDATE charges SET status = 'posted' WHERE id = %d", other))
			refuse(t, d, s.row("charges", other),
				fmt.Sprintf("UPDATE charges SET status = 'disputed' WHERE id = %d", other),
				fmt.Sprintf("UPDATE charges SET status = 'credited' WHERE id = %d", other))
		})
	})
}

func TestSettledDisputeCannotChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		id := s.insert(t, `INSERT INTO disputes (charge_id, raised_by, reason, status, created_at)
			VALUES (?, ?, 'never delivered', 'open', CURRENT_TIMESTAMP) RETURNING id`, s.charge, s.user)
		row := s.row("disputes", id)
		t.Run("open", func(t *testing.T) {
			refuse(t, d, row, "UPDATE disputes SET reason = 'other'", "UPDATE disputes SET credit_minor = 5",
				"UPDATE disputes SET status = 'accepted'", "DELETE FROM disputes")
		})
		t.Run("accepted", func(t *testing.T) {
			s.move(t, fmt.Sprintf(`UPDATE disputes SET status = 'accepted', credit_minor = 145000, resolved_by = %d,
				resolved_at = CURRENT_TIMESTAMP, note = 'agreed' WHERE id = %d`, s.user, id))
			refuse(t, d, row, "UPDATE disputes SET status = 'open'", "UPDATE disputes SET status = 'rejected'",
				"UPDATE disputes SET credit_minor = 1", "UPDATE disputes SET note = 'x'", "UPDATE disputes SET resolved_by = NULL")
		})
		t.Run("linked to its credit", func(t *testing.T) {
			s.move(t, fmt.Sprintf("UPDATE disputes SET entry_id = %d WHERE id = %d", s.entry, id))
			statements := []string{"UPDATE disputes SET entry_id = NULL", "UPDATE disputes SET status = 'open', entry_id = NULL", "DELETE FROM disputes"}
			statements = append(statements, replacements(d, "disputes", "id, charge_id, raised_by, reason, status, created_at",
				fmt.Sprintf("%d, %d, %d, 'reopened', 'open', CURRENT_TIMESTAMP", id, s.charge, s.user), "status = excluded.status")...)
			refuse(t, d, row, statements...)
		})
		if _, err := d.ExecContext(context.Background(), `INSERT INTO disputes (charge_id, raised_by, reason, status, credit_minor, created_at)
			VALUES (?, ?, 'born settled', 'accepted', 1, CURRENT_TIMESTAMP)`, s.newCharge(t, "request:3:rate:1"), s.user); err == nil {
			t.Error("a dispute was born accepted")
		}
	})
}

func TestPostedAdjustmentCannotChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		adjustment := func() int64 {
			return s.insert(t, `INSERT INTO adjustments (debit_unit_id, credit_unit_id, amount_minor, currency, month, reason, status,
				created_by, created_at) VALUES (?, ?, 5000, 'EUR', '2026-11', 'shared licence', 'pending', ?, CURRENT_TIMESTAMP) RETURNING id`,
				s.consumer, s.provider, s.user)
		}
		id := adjustment()
		row := s.row("adjustments", id)
		decide := func(id int64, status string) string {
			return fmt.Sprintf(`UPDATE adjustments SET status = '%s', decided_by = %d, decided_at = CURRENT_TIMESTAMP WHERE id = %d`,
				status, s.user, id)
		}
		t.Run("pending", func(t *testing.T) {
			refuse(t, d, row, "UPDATE adjustments SET amount_minor = 1", "UPDATE adjustments SET status = 'posted'",
				fmt.Sprintf("UPDATE adjustments SET entry_id = %d", s.entry), "DELETE FROM adjustments")
		})
		t.Run("posted", func(t *testing.T) {
			s.move(t, decide(id, "posted"), fmt.Sprintf("UPDATE adjustments SET entry_id = %d WHERE id = %d", s.entry, id))
			statements := []string{"UPDATE adjustments SET amount_minor = 1", "UPDATE adjustments SET month = '2026-12'",
				"UPDATE adjustments SET status = 'rejected'", "UPDATE adjustments SET status = 'pending'",
				"UPDATE adjustments SET entry_id = NULL", "UPDATE adjustments SET decided_by = NULL", "DELETE FROM adjustments"}
			statements = append(statements, replacements(d, "adjustments",
				"id, debit_unit_id, credit_unit_id, amount_minor, currency, month, reason, status, created_by, created_at",
				fmt.Sprintf("%d, %d, %d, 1, 'EUR', '2026-11', 'x', 'pending', %d, CURRENT_TIMESTAMP", id, s.consumer, s.provider, s.user),
				"amount_minor = excluded.amount_minor")...)
			refuse(t, d, row, statements...)
		})
		t.Run("posted at once, within the approval limit", func(t *testing.T) {
			small := s.insert(t, `INSERT INTO adjustments (debit_unit_id, credit_unit_id, amount_minor, currency, month, reason, status,
				created_by, created_at) VALUES (?, ?, 500, 'EUR', '2026-11', 'postage', 'posted', ?, CURRENT_TIMESTAMP) RETURNING id`,
				s.consumer, s.provider, s.user)
			s.move(t, fmt.Sprintf("UPDATE adjustments SET entry_id = %d WHERE id = %d", s.entry, small))
			refuse(t, d, s.row("adjustments", small), fmt.Sprintf("UPDATE adjustments SET amount_minor = 1 WHERE id = %d", small),
				fmt.Sprintf("UPDATE adjustments SET entry_id = NULL WHERE id = %d", small))
		})
		t.Run("rejected", func(t *testing.T) {
			other := adjustment()
			s.move(t, decide(other, "rejected"))
			refuse(t, d, s.row("adjustments", other), decide(other, "posted"), "UPDATE adjustments SET reason = 'x'")
		})
		if _, err := d.ExecContext(context.Background(), `INSERT INTO adjustments (debit_unit_id, credit_unit_id, amount_minor, currency,
			month, reason, status, created_by, decided_by, created_at) VALUES (?, ?, 5000, 'EUR', '2026-11', 'x', 'rejected', ?, ?, CURRENT_TIMESTAMP)`,
			s.consumer, s.provider, s.user, s.user); err == nil {
			t.Error("an adjustment was born rejected")
		}
	})
}
