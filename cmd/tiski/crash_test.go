package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// buildTiski compiles the binary once per test into its temporary folder.
func buildTiski(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tiski")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// tiski runs the binary to completion and returns its output and error.
func tiski(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

// seedSubscriptions stores n running subscriptions of one monthly service,
// started before month, with the rows written in bulk.
func seedSubscriptions(t *testing.T, d *db.DB, n int, month string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	err := d.InTx(ctx, func(tx bun.Tx) error {
		if _, err := units.EnsureOrganisation(ctx, tx, "EUR", "Europe/Helsinki"); err != nil {
			return err
		}
		it, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: "IT", Name: "IT"})
		if err != nil {
			return err
		}
		var consumers []int64
		for i := range 20 {
			u, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: fmt.Sprintf("CC-%d", 2000+i), Name: fmt.Sprint("Unit ", i)})
			if err != nil {
				return err
			}
			consumers = append(consumers, u.ID)
		}
		user, err := units.CreateUser(ctx, tx, 0, units.User{Email: "ops@example.org", Name: "Ops"})
		if err != nil {
			return err
		}
		svc, rate, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: it.ID, Code: "NET", Name: "Network",
			PricingModel: "monthly", ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600},
			nil, catalog.Rate{PriceMinor: 2990, Currency: "EUR", EffectiveFrom: "2025-01-01"})
		if err != nil {
			return err
		}
		const chunk = 500
		for from := 0; from < n; from += chunk {
			var reqs []requests.Request
			for i := from; i < min(from+chunk, n); i++ {
				reqs = append(reqs, requests.Request{ServiceID: svc.ID, ConsumerUnitID: consumers[i%len(consumers)], ProviderUnitID: it.ID,
					RequesterID: user.ID, CreatedBy: user.ID, Title: "Network", Quantity: "1", FieldsJSON: "{}", Channel: "api",
					Status: requests.Resolved, Version: 1, RateID: rate.ID, PricingModel: "monthly", UnitPriceMinor: 2990, Currency: "EUR",
					SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: now, UpdatedAt: now})
			}
			if _, err := tx.NewInsert().Model(&reqs).Returning("id").Exec(ctx); err != nil {
				return err
			}
			subs := make([]billing.Subscription, len(reqs))
			for i, r := range reqs {
				subs[i] = billing.Subscription{RequestID: r.ID, ConsumerUnitID: r.ConsumerUnitID, ProviderUnitID: it.ID, ServiceID: svc.ID,
					RateID: rate.ID, MonthlyPriceMinor: 2990, Currency: "EUR", StartDate: "2025-06-15", CreatedAt: now}
			}
			if _, err := tx.NewInsert().Model(&subs).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func countRows(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKilledBillingRunResumes kills `tiski billing run` with SIGKILL while
// it is charging, then checks the books are sound, a second run finishes
// the month and every subscription is charged exactly once.
func TestKilledBillingRunResumes(t *testing.T) {
	bin := buildTiski(t)
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			const subs, month = 3000, "2026-04"
			url := dbtest.NewURL(t, engine)
			d := dbtest.OpenURL(t, url)
			seedSubscriptions(t, d, subs, month)

			// Kill inside the run; if a run ever finishes before the poll
			// sees it charging, the next attempt uses a fresh database.
			killedAt := 0
			for attempt := 0; attempt < 3 && killedAt == 0; attempt++ {
				if attempt > 0 {
					url = dbtest.NewURL(t, engine)
					d = dbtest.OpenURL(t, url)
					seedSubscriptions(t, d, subs, month)
				}
				killedAt = killWhileCharging(t, d, bin, subs, "billing", "run", month, "--db", url)
			}
			if killedAt == 0 {
				t.Fatal("could not catch the billing run in the middle of charging")
			}
			charged := countRows(t, d, "SELECT COUNT(*) FROM charges")
			t.Logf("killed after %d of %d charges; %d found after the kill", killedAt, subs, charged)
			if out, err := tiski(t, bin, "verify", "--db", url); err != nil {
				t.Fatalf("verify after the kill: %v\n%s", err, out)
			}
			out, err := tiski(t, bin, "billing", "run", month, "--db", url)
			if err != nil {
				t.Fatalf("second run: %v\n%s", err, out)
			}
			want := fmt.Sprintf("%d subscriptions charged, %d already charged before", subs-charged, charged)
			if !strings.Contains(out, want) {
				t.Errorf("second run said %q, want %q", out, want)
			}
			if n := countRows(t, d, "SELECT COUNT(*) FROM charges"); n != subs {
				t.Errorf("%d charges for %d subscriptions", n, subs)
			}
			if n := countRows(t, d, `SELECT COUNT(*) FROM subscriptions s
				WHERE (SELECT COUNT(*) FROM charges c WHERE c.source_key = 'subscription:' || CAST(s.id AS TEXT) || ':' || ?) <> 1`, month); n != 0 {
				t.Errorf("%d subscriptions not charged exactly once", n)
			}
			if n := countRows(t, d, "SELECT COUNT(*) FROM journal_entries WHERE kind = 'subscription'"); n != subs {
				t.Errorf("%d subscription entries", n)
			}
			if out, err := tiski(t, bin, "verify", "--db", url); err != nil || !strings.Contains(out, "sound") {
				t.Fatalf("final verify: %v\n%s", err, out)
			}
			if breaches, err := billing.Verify(context.Background(), d); err != nil || len(breaches) != 0 {
				t.Fatalf("verify: %v %v", breaches, err)
			}
		})
	}
}

// killWhileCharging starts the command and SIGKILLs it once it has charged
// some but not all subscriptions. It returns the charges counted just
// before the kill, or 0 if the command finished first.
func killWhileCharging(t *testing.T, d *db.DB, bin string, total int, args ...string) int {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Logf("the run ended before it was killed: %v", err)
			return 0
		default:
		}
		var n int
		if err := d.NewRaw("SELECT COUNT(*) FROM charges").Scan(context.Background(), &n); err == nil && n >= 50 && n < total*3/4 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err := <-exited
			if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() {
				t.Logf("the run ended before the kill landed: %v", err)
				return 0
			}
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	t.Fatal("the run never started charging")
	return 0
}

// TestKilledPeriodCloseIsAllOrNothing kills `tiski period close` at
// different moments: each time the month is either closed, with its audit
// event, or as it was, with none; never half.
func TestKilledPeriodCloseIsAllOrNothing(t *testing.T) {
	bin := buildTiski(t)
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			url := dbtest.NewURL(t, engine)
			d := dbtest.OpenURL(t, url)
			seedSubscriptions(t, d, 10, "2026-04")
			if out, err := tiski(t, bin, "billing", "run", "2026-04", "--db", url); err != nil {
				t.Fatalf("billing run: %v\n%s", err, out)
			}
			// Months close in order once ended: let the books begin in 2024
			// so 24 kills find an ended month to close; a kill that leaves
			// one open has the next attempt close it again.
			if _, err := d.NewInsert().Model(&billing.Period{Month: "2024-01", Status: billing.PeriodOpen, ChangedAt: time.Now()}).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			closedSeen, openSeen, month := 0, 0, "2024-01"
			for i := range 24 {
				cmd := exec.Command(bin, "period", "close", month, "--db", url)
				var out strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Spread the kills from process start to well after the commit.
				time.Sleep(time.Duration(i*i) * time.Millisecond * 2)
				_ = cmd.Process.Signal(syscall.SIGKILL)
				_ = cmd.Wait()
				p, err := billing.GetPeriod(context.Background(), d, month)
				if err != nil {
					t.Fatal(err)
				}
				events := countRows(t, d, "SELECT COUNT(*) FROM audit_events WHERE object_type = 'period' AND object_id = ? AND action = 'close'", month)
				switch {
				case p.Status == billing.PeriodClosed && p.ClosedAt != nil && events == 1:
					closedSeen++
					month = billing.NextMonth(month)
				case p.Status == billing.PeriodOpen && p.ClosedAt == nil && events == 0:
					openSeen++
				default:
					t.Errorf("%s after a kill: %+v with %d close events (output %q)", month, p, events, out.String())
				}
			}
			t.Logf("%d kills left the month open, %d closed", openSeen, closedSeen)
			if out, err := tiski(t, bin, "verify", "--db", url); err != nil {
				t.Fatalf("verify: %v\n%s", err, out)
			}
			// A month the kills left open closes cleanly afterwards.
			out, err := tiski(t, bin, "period", "close", month, "--db", url)
			if err != nil || !regexp.MustCompile(month+` is closed`).MatchString(out) {
				t.Fatalf("close after the kills: %v\n%s", err, out)
			}
		})
	}
}
