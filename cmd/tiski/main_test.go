package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut syncBuffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--help"}, {"migrate", "--help"}, {"demo", "--help"}, {"user", "add", "--help"},
		{"token", "create", "--help"}, {"token", "list", "--help"}, {"token", "revoke", "--help"}, {"billing", "run", "--help"}, {"period", "close", "--help"}, {"verify", "--help"},
		{"mail", "imap", "--help"}, {"mail", "status", "--help"},
	} {
		out, err := runCmd(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), "help requested") || !strings.Contains(out, "Usage: tiski") || !strings.Contains(out, "-db") {
			t.Errorf("%v: err %v, output %q", args, err, out)
		}
	}
	if out, err := runCmd(t, "", "version"); err != nil || !strings.HasPrefix(out, "tiski ") {
		t.Errorf("version: %q %v", out, err)
	}
	if _, err := runCmd(t, "", "frobnicate"); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestUserAddAndTokenCreate(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			url := dbtest.NewURL(t, engine)
			if out, err := runCmd(t, "a long enough password\n", "user", "add", "--db", url,
				"--email", "Root@Example.org", "--name", "Root", "--admin", "--password-stdin"); err != nil {
				t.Fatalf("user add: %v\n%s", err, out)
			}
			if out, err := runCmd(t, "", "user", "add", "--db", url, "--email", "root@example.org", "--name", "Again"); err == nil {
				t.Fatalf("duplicate user add succeeded: %s", out)
			}
			out, err := runCmd(t, "", "token", "create", "--db", url, "--email", "root@example.org", "--name", "ci")
			if err != nil {
				t.Fatalf("token create: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			token := lines[len(lines)-1]
			if !regexp.MustCompile(`^tsk_[A-Za-z0-9_-]{43}$`).MatchString(token) {
				t.Fatalf("last line %q is not a token", token)
			}
			var stored int
			d := dbtest.OpenURL(t, url)
			if err := d.NewRaw("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?", token).Scan(context.Background(), &stored); err != nil || stored != 0 {
				t.Fatalf("the token itself is stored (%d, %v)", stored, err)
			}
		})
	}
}

// TestServeAnswersAndShutsDownGracefully starts `tiski serve --demo`, signs
// in as a demo user, then stops the server while a request is still being
// sent and checks that request is answered before the server exits.
func TestServeAnswersAndShutsDownGracefully(t *testing.T) {
	url := dbtest.NewURL(t, "sqlite")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--db", url}, strings.NewReader(""), &out, &errOut)
	}()
	addr := waitFor(t, &out, regexp.MustCompile(`serving on (http://\S+)`))
	if !strings.Contains(out.String(), demo.People[0].Email) {
		t.Fatalf("--demo did not print the logins:\n%s", out.String())
	}
	checkHelsinkiDemo(t, dbtest.OpenURL(t, url))

	body, writer := io.Pipe()
	answered := make(chan int, 1)
	go func() {
		res, err := http.Post(addr+"/api/v1/session", "application/json", body)
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	_, _ = writer.Write([]byte(`{"email":"` + demo.People[0].Email + `",`))
	time.Sleep(200 * time.Millisecond) // the request is now in flight
	cancel()
	time.Sleep(200 * time.Millisecond)
	_, _ = writer.Write([]byte(`"password":"` + demo.Password + `"}`))
	_ = writer.Close()
	if status := <-answered; status != http.StatusOK {
		t.Fatalf("in-flight login during shutdown = %d", status)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(errOut.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the log:\n%s", errOut.String())
	}
	if os.Getenv("TISKI_SMTP_URL") == "" && !strings.Contains(errOut.String(), `"msg":"e-mail off: in-app notifications only"`) {
		t.Fatalf("serve without TISKI_SMTP_URL did not say e-mail is off:\n%s", errOut.String())
	}
}

// waitFor waits for re in what the server printed. The bound is generous:
// `serve --demo` loads four months of books first, which under -race on a
// loaded 2-core machine took over 30 s; it is a guard against a hang, not a
// measure of speed.
func waitFor(t *testing.T, b *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s in:\n%s", re, b.String())
	return ""
}

func TestBooksCommands(t *testing.T) {
	url := dbtest.NewURL(t, "sqlite")
	if out, err := runCmd(t, "", "verify", "--db", url); err != nil || !strings.Contains(out, "sound") {
		t.Fatalf("verify on empty books: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "", "billing", "run", "2026-04", "--db", url); err != nil || !strings.Contains(out, "0 subscriptions charged") {
		t.Fatalf("billing run: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "", "period", "close", "2026-04", "--db", url); err != nil || !strings.Contains(out, "2026-04 is closed") {
		t.Fatalf("period close: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "", "period", "close", "2026-04", "--db", url); err == nil {
		t.Fatal("closing a closed period succeeded")
	}
	if _, err := runCmd(t, "", "billing", "run", "April", "--db", url); err == nil {
		t.Fatal("a bad month was accepted")
	}
	// A month that has not begun is not billed, one not ended not closed.
	if _, err := runCmd(t, "", "billing", "run", "2999-01", "--db", url); err == nil || !strings.Contains(err.Error(), "2999-01 has not begun") {
		t.Fatalf("billing run of a month not begun: %v", err)
	}
	if _, err := runCmd(t, "", "period", "close", "2999-01", "--db", url); err == nil || !strings.Contains(err.Error(), "2999-01 has not ended") {
		t.Fatalf("closing a month not ended: %v", err)
	}
	// A ledger tampered with behind Tiski's back makes verify fail and name
	// the broken invariant and the object it broke on.
	dbtest.Tamper(t, dbtest.OpenURL(t, url),
		"INSERT INTO units (code, name, created_at, updated_at) VALUES ('A', 'A', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
		"INSERT INTO accounts (unit_id, created_at) VALUES (1, CURRENT_TIMESTAMP)",
		"INSERT INTO journal_entries (idempotency_key, period, entry_date, kind, created_at) VALUES ('k', '2026-05', '2026-05-01', 'adjustment', CURRENT_TIMESTAMP)",
		"INSERT INTO postings (entry_id, account_id, amount_minor, currency) VALUES (1, 1, 100, 'EUR')",
	)
	out, err := runCmd(t, "", "verify", "--db", url)
	if err == nil || !strings.Contains(out, "BROKEN entries balance: journal entry 1 ") || !strings.Contains(out, "BROKEN trial balance is zero: currency EUR ") ||
		!strings.Contains(out, "BROKEN entries have one source: journal entry 1 ") {
		t.Fatalf("verify on broken books: %v\n%s", err, out)
	}
}
