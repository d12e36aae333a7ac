package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// TestConstraintFailuresAreClassifiedByCode makes each engine fail a real
// unique, primary-key and foreign-key constraint and checks that the
// helpers name each failure by its code, not by its message: a plain error
// that merely says the same words is none of them.
func TestConstraintFailuresAreClassifiedByCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		insertUnit := `INSERT INTO units (code, name, parent_id, created_at, updated_at) VALUES (?, 'Unit', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`
		if _, err := d.ExecContext(ctx, insertUnit, "CC-1", nil); err != nil {
			t.Fatal(err)
		}
		_, unique := d.ExecContext(ctx, insertUnit, "CC-1", nil)
		_, primaryKey := d.ExecContext(ctx, `INSERT INTO policy_state (id, version) VALUES (1, 2)`)
		_, foreignKey := d.ExecContext(ctx, insertUnit, "CC-2", 999)
		for _, c := range []struct {
			name                   string
			err                    error
			unique, foreign, retry bool
		}{
			{"unique index", unique, true, false, false},
			{"primary key", primaryKey, true, false, false},
			{"foreign key", foreignKey, false, true, false},
			{"unique words only", errors.New("UNIQUE constraint failed: units.code"), false, false, false},
			{"foreign key words only", errors.New("FOREIGN KEY constraint failed"), false, false, false},
			{"nil", nil, false, false, false},
		} {
			if c.err == nil && c.name != "nil" {
				t.Fatalf("%s: the statement succeeded", c.name)
			}
			if got := db.IsUniqueViolation(c.err); got != c.unique {
				t.Errorf("%s: IsUniqueViolation(%v) = %v", c.name, c.err, got)
			}
			if got := db.IsForeignKeyViolation(c.err); got != c.foreign {
				t.Errorf("%s: IsForeignKeyViolation(%v) = %v", c.name, c.err, got)
			}
			if got := db.IsRetryable(c.err); got != c.retry {
				t.Errorf("%s: IsRetryable(%v) = %v", c.name, c.err, got)
			}
		}
	})
}

// TestLostRacesAreRetryable makes each engine refuse a write because another
// transaction got there first (SQLite: the database is busy; PostgreSQL: a
// serialization failure) and checks that IsRetryable says so, while an
// error that only carries the words does not.
func TestLostRacesAreRetryable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('race', 'a')`); err != nil {
			t.Fatal(err)
		}
		var lost error
		if d.Engine == db.SQLite {
			lost = sqliteBusy(t, d)
		} else {
			lost = serializationFailure(t, d)
		}
		if lost == nil {
			t.Fatal("the losing write succeeded")
		}
		if !db.IsRetryable(lost) {
			t.Errorf("IsRetryable(%v) = false", lost)
		}
		if db.IsUniqueViolation(lost) || db.IsForeignKeyViolation(lost) {
			t.Errorf("%v classified as a constraint failure", lost)
		}
		for _, words := range []string{"database is locked (5) (SQLITE_BUSY)", "could not serialize access"} {
			if db.IsRetryable(errors.New(words)) {
				t.Errorf("IsRetryable(%q) = true for a plain error", words)
			}
		}
	})
}

// sqliteBusy holds the write lock on one connection and writes on another
// that does not wait for it.
func sqliteBusy(t *testing.T, d *db.DB) error {
	ctx := context.Background()
	holder, writer := conn(t, d), conn(t, d)
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, "ROLLBACK")
	if _, err := writer.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	_, err := writer.ExecContext(ctx, `UPDATE settings SET value = 'b' WHERE key = 'race'`)
	return err
}

// serializationFailure updates a row under a repeatable-read snapshot taken
// before another transaction changed it.
func serializationFailure(t *testing.T, d *db.DB) error {
	ctx := context.Background()
	tx, err := d.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var value string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'race'`).Scan(&value); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `UPDATE settings SET value = 'b' WHERE key = 'race'`); err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE settings SET value = 'c' WHERE key = 'race'`)
	return err
}

func conn(t *testing.T, d *db.DB) bun.Conn {
	t.Helper()
	c, err := d.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
