package db_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t, engine)
			ctx := context.Background()
			// Two instances starting at once must both succeed and apply each
			// migration exactly once.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d, err := db.Open(ctx, url)
					if err != nil {
						errs[i] = err
						return
					}
					defer d.Close()
					_, errs[i] = d.Migrate(ctx)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("concurrent migrate: %v", err)
				}
			}
			d := dbtest.OpenURL(t, url)
			pending, err := d.PendingMigrations(ctx)
			if err != nil || len(pending) != 0 {
				t.Fatalf("pending after migrate = %v, %v", pending, err)
			}
			var applied, distinct int
			if err := d.NewRaw("SELECT COUNT(*), COUNT(DISTINCT name) FROM bun_migrations").Scan(ctx, &applied, &distinct); err != nil {
				t.Fatal(err)
			}
			if applied == 0 || applied != distinct {
				t.Fatalf("bun_migrations has %d rows for %d names", applied, distinct)
			}
		})
	}
}

func TestAuditEventsAreAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO audit_events (at, object_type, object_id, action) VALUES (CURRENT_TIMESTAMP, 'unit', '1', 'create')`); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE audit_events SET action = 'x'`); err == nil {
			t.Fatal("update of an audit event was allowed")
		}
		if _, err := d.ExecContext(ctx, `DELETE FROM audit_events`); err == nil {
			t.Fatal("delete of an audit event was allowed")
		}
		var n int
		if err := d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE action = 'create'").Scan(ctx, &n); err != nil || n != 1 {
			t.Fatalf("audit rows = %d, %v", n, err)
		}
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	if _, err := db.Open(context.Background(), "mysql://x"); err == nil {
		t.Fatal("mysql URL accepted")
	}
}
