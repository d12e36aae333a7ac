// Package db opens Tiski's database (embedded SQLite or PostgreSQL), owns the
// migrations and the transaction helpers every store runs inside.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// Engine names the database server behind a DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DefaultURL is where `tiski` keeps its data when no --db is given.
const DefaultURL = "sqlite:tiski.db"

// DB is an open, configured database handle.
type DB struct {
	*bun.DB
	Engine Engine
}

// Open connects to url, which is either sqlite:PATH or a postgres:// URL.
// It does not migrate; call Migrate for that.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	engine, dsn, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var d *DB
	switch engine {
	case SQLite:
		sqldb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// Writers queue on the busy timeout; readers run beside them in WAL mode.
		sqldb.SetMaxOpenConns(8)
		sqldb.SetMaxIdleConns(8)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		d = &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Engine: SQLite}
	case Postgres:
		sqldb, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqldb.SetMaxOpenConns(20)
		sqldb.SetMaxIdleConns(10)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		d = &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Engine: Postgres}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pingCtx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("connect to %s database: %w", engine, err)
	}
	return d, nil
}

// URLFromEnv returns flagValue if set, else TISKI_DB, else DefaultURL.
func URLFromEnv(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv("TISKI_DB"); v != "" {
		return v
	}
	return DefaultURL
}

func parseURL(raw string) (Engine, string, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" {
			return "", "", fmt.Errorf("database URL %q: sqlite needs a file path, as in sqlite:tiski.db", raw)
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return "", "", fmt.Errorf("create database folder: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(15000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		// INSERT OR REPLACE deletes the row it replaces; only with recursive
		// triggers does that deletion fire the DELETE triggers that keep
		// the ledger, the audit trail and settled money rows unchanged.
		q.Add("_pragma", "recursive_triggers(1)")
		q.Set("_txlock", "immediate")
		q.Set("_time_format", "sqlite")
		return SQLite, "file:" + path + "?" + q.Encode(), nil
	default:
		return "", "", fmt.Errorf("database URL %q: want sqlite:PATH or postgres://…", raw)
	}
}
