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
// the books (PostgreSQL: in replica mode no trigger fires; SQLite: every
// trigger is dropped and created again in the same transaction, with foreign
// keys off), so that a test can show `tiski verify` names what the guards
// would have refused.
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
		var triggers []struct {
			Name string `bun:"name"`
			SQL  string `bun:"sql"`
		}
		if d.Engine == db.Postgres {
			if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return err
			}
		} else if err := tx.NewRaw("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").Scan(ctx, &triggers); err != nil {
			return err
		}
		for _, trg := range triggers {
			if _, err := tx.ExecContext(ctx, "DROP TRIGGER "+trg.Name); err != nil {
				return err
			}
		}
		for _, stmt := range statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		for _, trg := range triggers {
			if _, err := tx.ExecContext(ctx, trg.SQL); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}
