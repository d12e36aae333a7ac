package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/mail/smtptest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/units"
)

// seedMail records n resolved notices, one to each of n people, before
// serve starts: n e-mails wait in the outbox.
func seedMail(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	err := d.InTx(ctx, func(tx bun.Tx) error {
		for i := range n {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: fmt.Sprintf("person%d@example.org", i), Name: fmt.Sprint("Person ", i)})
			if err != nil {
				return err
			}
			if _, err := notify.Record(ctx, tx, notify.Event{Kind: notify.RequestResolved, ObjectID: int64(i + 1),
				Parties: notify.Parties{RequesterID: u.ID}, Args: map[string]string{"ref": fmt.Sprintf("REQ-%06d", i+1), "title": "Laptop"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed mail: %v", err)
	}
}

// startServe starts `tiski serve` on url with e-mail to the SMTP server.
func startServe(t *testing.T, bin, url, smtpAddr string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--db", url)
	cmd.Env = append(os.Environ(), "TISKI_SMTP_URL=smtp://"+smtpAddr, "TISKI_MAIL_FROM=Tiski <tiski@tiski.example>",
		"TISKI_BASE_URL=https://desk.tiski.example")
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, out
}

// TestKilledServeDeliversEachMailOnce: `tiski serve` delivers a queue of
// e-mails to an SMTP server that answers slowly; it is killed with SIGKILL
// in the middle, its leases run out, and a second serve delivers the rest.
// Every message arrives, and each once by its Message-ID (made from its
// delivery key); the outbox shows all delivered. A raw second copy can only
// come from the one message in flight at the kill whose acceptance raced
// the kill (at least once, honestly); it is counted and at most one.
func TestKilledServeDeliversEachMailOnce(t *testing.T) {
	bin := buildTiski(t)
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			const n = 30
			ctx := context.Background()
			url := dbtest.NewURL(t, engine)
			d := dbtest.OpenURL(t, url)
			seedMail(t, d, n)
			keys := map[string]bool{}
			rows, err := outbox.List(ctx, d, "", 0, 100)
			if err != nil || len(rows) != n {
				t.Fatalf("outbox before serve: %d rows, %v", len(rows), err)
			}
			for _, m := range rows {
				keys["<tiski."+strings.ReplaceAll(m.DeliveryKey, ":", ".")+"@tiski.example>"] = true
			}

			server := smtptest.Start(t)
			server.Stall(150 * time.Millisecond)
			first, out := startServe(t, bin, url, server.Addr)
			server.Wait(t, 5, time.Minute)
			time.Sleep(75 * time.Millisecond) // into the next message's stall
			if err := first.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = first.Wait()
			before := len(server.Messages())
			if before >= n {
				t.Fatalf("all %d mails went out before the kill:\n%s", before, out.String())
			}
			leased := countRows(t, d, "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND lease_until IS NOT NULL")
			t.Logf("killed after %d of %d mails; %d messages left under a dead worker's lease", before, n, leased)
			// Two minutes pass: the dead worker's leases run out.
			if _, err := d.NewRaw("UPDATE outbox SET lease_until = ? WHERE lease_until IS NOT NULL", time.Now().UTC().Add(-time.Second)).Exec(ctx); err != nil {
				t.Fatal(err)
			}

			server.Stall(0)
			startServe(t, bin, url, server.Addr)
			for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
				if countRows(t, d, "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'") == n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not all delivered after the restart: %d of %d", countRows(t, d, "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'"), n)
				}
			}
			time.Sleep(300 * time.Millisecond) // a straggler would show now
			byID := map[string]int{}
			for _, m := range server.Messages() {
				id := m.Header.Get("Message-ID")
				if !keys[id] {
					t.Errorf("a message with an unknown Message-ID %q", id)
				}
				byID[id]++
			}
			dups := 0
			for id := range keys {
				switch c := byID[id]; {
				case c == 0:
					t.Errorf("%s never arrived", id)
				case c > 1:
					dups += c - 1
				}
			}
			t.Logf("%d distinct messages of %d arrived; %d raw second copies", len(byID), n, dups)
			if dups > 1 {
				t.Errorf("%d second copies; at most the one in flight at the kill may come twice", dups)
			}
		})
	}
}
