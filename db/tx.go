package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// InTx runs fn in one write transaction and commits it when fn returns nil.
// On SQLite the transaction begins IMMEDIATE (one writer at a time); on
// PostgreSQL a serialization failure or deadlock rolls back and runs fn again,
// so fn must not have effects outside the transaction.
func (d *DB) InTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		err = d.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
			return fn(tx)
		})
		if err == nil || !IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 10 * time.Millisecond):
		}
	}
	return fmt.Errorf("transaction kept conflicting after %d attempts: %w", attempts, err)
}

// IsRetryable reports whether err means the transaction lost a race and
// would succeed if run again: on PostgreSQL a serialization failure or a
// deadlock, on SQLite a busy database (also after the busy timeout, and
// BUSY_SNAPSHOT when a WAL reader's snapshot went stale before it wrote).
func IsRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine (a primary key counts: PostgreSQL reports it as 23505 too).
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	code := sqliteCode(err)
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// IsForeignKeyViolation reports whether err is a foreign-key failure on either
// engine.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// sqliteCode is the extended result code of a SQLite error (the driver
// turns extended codes on for every connection), or 0 for any other error.
// The primary code is its low byte.
func sqliteCode(err error) int {
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code()
	}
	return 0
}

// EscapeLike escapes LIKE wildcards so user text matches literally; use it
// with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
