// Package dbtest gives each test its own real, migrated database: a SQLite
// file in the test's temporary folder and, when TISKI_TEST_POSTGRES names a
// server, a fresh schema on that PostgreSQL.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
)

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "TISKI_TEST_POSTGRES"

// Engines lists the engines tests run on here: SQLite always, PostgreSQL when
// TISKI_TEST_POSTGRES is set.
func Engines() []db.Engine {
	engines := []db.Engine{db.SQLite}
	if os.Getenv(EnvPostgres) != "" {
		engines = append(engines, db.Postgres)
	}
	return engines
}

// Each runs fn as one parallel subtest per engine, each with its own migrated
// database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, engine := range Engines() {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, engine))
		})
	}
}

// Open returns a new migrated database on engine, closed when the test ends.
func Open(t testing.TB, engine db.Engine) *db.DB {
	t.Helper()
	return OpenURL(t, NewURL(t, engine))
}

// OpenURL opens and migrates the database at rawURL, closed when the test ends.
func OpenURL(t testing.TB, rawURL string) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return d
}

// NewURL returns the URL of a new, empty database on engine that is removed
// when the test ends. Several handles (or processes) may open it.
func NewURL(t testing.TB, engine db.Engine) string {
	t.Helper()
	if engine == db.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "tiski.db")
	}
	server := os.Getenv(EnvPostgres)
	if server == "" {
		t.Skipf("%s is not set", EnvPostgres)
	}
	schema := "t_" + randomHex(8)
	admin, err := db.Open(context.Background(), server)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Tamper runs statements the way someone with the database owner's rights
// could behind Tiski's back, past the triggers and foreign keys that guard
// the books, so that a test can show `tiski verify` names what the guards
// would have refused. Only an owner's rights are assumed, never a
// superuser's: on PostgreSQL the guard triggers are disabled and the foreign
// keys dropped inside the transaction, then enabled and added back (NOT
// VALID, so the rows the tampering orphaned stay); on SQLite every trigger is
// dropped and created again in the same transaction, with foreign keys off.
// Nobody else ever sees the books unguarded: the whole change is one
// transaction.
func Tamper(t testing.TB, d *db.DB, statements ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
	defer conn.Close()
	if d.Engine == db.SQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			t.Fatalf("tamper: %v", err)
		}
		defer conn.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	}
	err = conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		unguard, reguard, err := guardStatements(ctx, tx, d.Engine)
		if err != nil {
			return err
		}
		for _, batch := range [][]string{unguard, statements, reguard} {
			for _, stmt := range batch {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", stmt, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

// guardStatements returns what takes the guards away and what puts them back.
func guardStatements(ctx context.Context, tx bun.Tx, engine db.Engine) (unguard, reguard []string, err error) {
	if engine == db.SQLite {
		var triggers []struct {
			Name string `bun:"name"`
			SQL  string `bun:"sql"`
		}
		if err := tx.NewRaw("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").Scan(ctx, &triggers); err != nil {
			return nil, nil, err
		}
		for _, trg := range triggers {
			unguard = append(unguard, "DROP TRIGGER "+trg.Name)
			reguard = append(reguard, trg.SQL)
		}
		return unguard, reguard, nil
	}
	var tables []string
	if err := tx.NewRaw(`SELECT DISTINCT quote_ident(c.relname) FROM pg_trigger g
		JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE NOT g.tgisinternal AND n.nspname = current_schema() ORDER BY 1`).Scan(ctx, &tables); err != nil {
		return nil, nil, err
	}
	for _, table := range tables {
		unguard = append(unguard, "ALTER TABLE "+table+" DISABLE TRIGGER USER")
		reguard = append(reguard, "ALTER TABLE "+table+" ENABLE TRIGGER USER")
	}
	var keys []struct {
		Table string `bun:"tbl"`
		Name  string `bun:"name"`
		Def   string `bun:"def"`
	}
	if err := tx.NewRaw(`SELECT quote_ident(c.relname) AS tbl, quote_ident(k.conname) AS name,
		pg_get_constraintdef(k.oid) AS def FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2`).Scan(ctx, &keys); err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		unguard = append(unguard, "ALTER TABLE "+k.Table+" DROP CONSTRAINT "+k.Name)
		reguard = append(reguard, "ALTER TABLE "+k.Table+" ADD CONSTRAINT "+k.Name+" "+k.Def+" NOT VALID")
	}
	return unguard, reguard, nil
}
