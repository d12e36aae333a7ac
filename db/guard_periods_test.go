package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

func TestClosedPeriodCannotReopen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		s.move(t, `INSERT INTO periods (month, status, changed_at) VALUES ('2026-10', 'open', CURRENT_TIMESTAMP)`)
		row := func(t *testing.T) string {
			t.Helper()
			m := map[string]any{}
			if err := d.NewRaw(`SELECT * FROM periods WHERE month = '2026-10'`).Scan(context.Background(), &m); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(m)
		}
		// What posting does to every period it posts into or past.
		lock := `UPDATE periods SET month = month WHERE month = '2026-10'`
		create := `INSERT INTO periods (month, status, changed_at) VALUES ('2026-10', 'open', CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING`
		move := func(status, closedAt string) string {
			return fmt.Sprintf(`UPDATE periods SET status = '%s', changed_by = %d, changed_at = CURRENT_TIMESTAMP, closed_at = %s
				WHERE month = '2026-10'`, status, s.user, closedAt)
		}
		t.Run("open", func(t *testing.T) {
			s.move(t, create, lock)
			refuse(t, d, row, move("closed", "NULL"), move("open", "CURRENT_TIMESTAMP"), `UPDATE periods SET month = '2026-09'`)
		})
		t.Run("review", func(t *testing.T) {
			s.move(t, move("review", "NULL"), lock)
			refuse(t, d, row, move("open", "NULL"), move("review", "CURRENT_TIMESTAMP"))
		})
		t.Run("closed", func(t *testing.T) {
			s.move(t, move("closed", "CURRENT_TIMESTAMP"), create, lock)
			statements := []string{move("open", "NULL"), move("review", "NULL"), move("closed", "NULL"),
				`UPDATE periods SET changed_at = '2020-01-01 00:00:00'`, `UPDATE periods SET changed_by = NULL`,
				`DELETE FROM periods`,
				`INSERT INTO periods (month, status, changed_at) VALUES ('2026-10', 'open', CURRENT_TIMESTAMP)
					ON CONFLICT (month) DO UPDATE SET status = excluded.status, closed_at = NULL`}
			if d.Engine == db.SQLite {
				statements = append(statements,
					`INSERT OR REPLACE INTO periods (month, status, changed_at) VALUES ('2026-10', 'open', CURRENT_TIMESTAMP)`,
					`REPLACE INTO periods (month, status, changed_at) VALUES ('2026-10', 'open', CURRENT_TIMESTAMP)`)
			} else {
				statements = append(statements, `TRUNCATE periods`)
			}
			refuse(t, d, row, statements...)
		})
		t.Run("open to closed at once", func(t *testing.T) {
			s.move(t, `INSERT INTO periods (month, status, changed_at) VALUES ('2026-11', 'open', CURRENT_TIMESTAMP)`,
				fmt.Sprintf(`UPDATE periods SET status = 'closed', closed_at = CURRENT_TIMESTAMP, changed_by = %d WHERE month = '2026-11'`, s.user))
		})
	})
}

func TestSubscriptionTermsCannotChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		request := s.insert(t, `INSERT INTO requests (service_id, consumer_unit_id, provider_unit_id, requester_id, created_by, title,
			quantity, channel, status, rate_id, pricing_model, unit_price_minor, estimate_minor, currency,
			sla_first_response_minutes, sla_resolution_minutes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'Network access', '1', 'portal', 'resolved', ?, 'monthly', 4500, 4500, 'EUR', 60, 600,
			CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`, s.service, s.consumer, s.provider, s.user, s.user, s.rate)
		id := s.insert(t, `INSERT INTO subscriptions (request_id, consumer_unit_id, provider_unit_id, service_id, rate_id,
			monthly_price_minor, currency, start_date, created_at)
			VALUES (?, ?, ?, ?, ?, 4500, 'EUR', '2026-09-15', CURRENT_TIMESTAMP) RETURNING id`,
			request, s.consumer, s.provider, s.service, s.rate)
		row := s.row("subscriptions", id)
		terms := []string{
			"UPDATE subscriptions SET monthly_price_minor = 1",
			"UPDATE subscriptions SET rate_id = NULL",
			"UPDATE subscriptions SET start_date = '2026-10-01'",
			fmt.Sprintf("UPDATE subscriptions SET consumer_unit_id = %d", s.provider),
			"UPDATE subscriptions SET currency = 'SEK'",
			"UPDATE subscriptions SET monthly_price_minor = 1, end_date = '2026-12-31'",
			"DELETE FROM subscriptions",
		}
		terms = append(terms, replacements(d, "subscriptions",
			"id, request_id, consumer_unit_id, provider_unit_id, service_id, rate_id, monthly_price_minor, currency, start_date, created_at",
			fmt.Sprintf("%d, %d, %d, %d, %d, %d, 1, 'EUR', '2026-09-15', CURRENT_TIMESTAMP", id, request, s.consumer, s.provider, s.service, s.rate),
			"monthly_price_minor = excluded.monthly_price_minor")...)
		t.Run("running", func(t *testing.T) {
			refuse(t, d, row, append(terms, "UPDATE subscriptions SET end_date = '2026-09-14'")...)
		})
		t.Run("ended", func(t *testing.T) {
			s.move(t, fmt.Sprintf("UPDATE subscriptions SET end_date = '2026-12-31' WHERE id = %d", id))
			refuse(t, d, row, append(terms, "UPDATE subscriptions SET end_date = NULL", "UPDATE subscriptions SET end_date = '2027-01-31'")...)
		})
	})
}

// TestPeriodsCloseInOrderInTheDatabase: billing refuses to close a month
// while an earlier one is open or in review, and the database now refuses
// it too, however the row is written: a period row cannot become closed,
// or be inserted or upserted closed, while an earlier month's row is not
// closed. Review needs no order (finance prepares several ended months at
// once), a row already closed keeps taking posting's lock, and Tamper
// still gets past the guard.
func TestPeriodsCloseInOrderInTheDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newShop(t, d)
		periods := func(t *testing.T) string {
			t.Helper()
			var rows []map[string]any
			if err := d.NewRaw(`SELECT * FROM periods ORDER BY month`).Scan(context.Background(), &rows); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(rows)
		}
		insert := func(month, status, closedAt string) string {
			return fmt.Sprintf(`INSERT INTO periods (month, status, changed_at, closed_at) VALUES ('%s', '%s', CURRENT_TIMESTAMP, %s)`,
				month, status, closedAt)
		}
		move := func(month, status, closedAt string) string {
			return fmt.Sprintf(`UPDATE periods SET status = '%s', changed_by = %d, changed_at = CURRENT_TIMESTAMP, closed_at = %s
				WHERE month = '%s'`, status, s.user, closedAt, month)
		}
		closeNovember := []string{
			move("2026-11", "closed", "CURRENT_TIMESTAMP"),
			`INSERT INTO periods (month, status, changed_at) VALUES ('2026-11', 'open', CURRENT_TIMESTAMP)
				ON CONFLICT (month) DO UPDATE SET status = 'closed', closed_at = CURRENT_TIMESTAMP`,
		}
		s.move(t, insert("2026-10", "open", "NULL"), insert("2026-11", "open", "NULL"))
		t.Run("earlier open", func(t *testing.T) {
			refuse(t, d, periods, append(closeNovember, insert("2026-12", "closed", "CURRENT_TIMESTAMP"))...)
		})
		t.Run("review needs no order", func(t *testing.T) {
			s.move(t, move("2026-11", "review", "NULL"), move("2026-10", "review", "NULL"))
		})
		t.Run("earlier in review", func(t *testing.T) {
			refuse(t, d, periods, append(closeNovember, insert("2026-12", "closed", "CURRENT_TIMESTAMP"))...)
		})
		t.Run("in order", func(t *testing.T) {
			s.move(t, move("2026-10", "closed", "CURRENT_TIMESTAMP"), move("2026-11", "closed", "CURRENT_TIMESTAMP"),
				insert("2026-12", "closed", "CURRENT_TIMESTAMP"))
		})
		t.Run("a later month's own order", func(t *testing.T) {
			s.move(t, insert("2027-01", "open", "NULL"), insert("2027-02", "open", "NULL"))
			refuse(t, d, periods, move("2027-02", "closed", "CURRENT_TIMESTAMP"), insert("2027-03", "closed", "CURRENT_TIMESTAMP"))
		})
		t.Run("tampering gets past", func(t *testing.T) {
			dbtest.Tamper(t, d, move("2027-02", "closed", "CURRENT_TIMESTAMP"))
			var status string
			if err := d.NewRaw(`SELECT status FROM periods WHERE month = '2027-02'`).Scan(context.Background(), &status); err != nil || status != "closed" {
				t.Fatalf("the tampered close left February %q (%v)", status, err)
			}
			// The guard is back, and the closed row still takes posting's lock.
			s.move(t, `UPDATE periods SET month = month WHERE month = '2027-02'`)
			refuse(t, d, periods, insert("2027-03", "closed", "CURRENT_TIMESTAMP"))
		})
	})
}
