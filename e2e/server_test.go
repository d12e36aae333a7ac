// Package e2e drives a real `tiski serve`, on a fresh SQLite database, with
// headless Chromium: the journeys people take through the portal.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/web/webtest"
)

// password is every journey user's password.
const password = "journey-password-1"

// server is a running tiski binary and what it was set up with.
type server struct {
	t    *testing.T
	bin  string
	db   string
	base string
}

// buildTiski compiles the binary once per test run, as an operator gets it.
func buildTiski(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tiski")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tiski/tiski/cmd/tiski")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tiski: %v\n%s", err, out)
	}
	return bin
}

// startServer migrates a new database and runs `tiski serve` on a free
// loopback port until the test ends; extra flags (such as --demo) go to
// serve.
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	return startServerOn(t, freeAddr(t), flags...)
}

// freeAddr is a loopback address nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServerOn is startServer on addr, for a journey whose settings name
// the server's own address (such as the OpenID redirect URL).
func startServerOn(t *testing.T, addr string, flags ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{t: t, bin: buildTiski(t), db: "sqlite:" + filepath.Join(dir, "tiski.db")}
	s.run("", "migrate")
	s.base = "http://" + addr
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.bin, append([]string{"serve", "--db", s.db, "--addr", addr, "--metrics-addr", ""}, flags...)...)
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		logFile.Close()
		if t.Failed() {
			raw, _ := os.ReadFile(logFile.Name())
			t.Logf("server log (last 4 KiB):\n%s", tail(raw, 4096))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tiski serve did not become ready at %s", s.base)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (s *server) env() []string {
	return append(os.Environ(), "TISKI_TIMEZONE=Europe/Helsinki", "TISKI_CURRENCY=EUR")
}

// run runs a tiski subcommand against the journey's database and returns
// its standard output.
func (s *server) run(stdin string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.bin, append(args, "--db", s.db)...)
	cmd.Env = s.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("tiski %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// token creates an API token for a user with the operator command.
func (s *server) token(email string) string {
	s.t.Helper()
	lines := strings.Split(strings.TrimSpace(s.run("", "token", "create", "--email", email)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// api calls the JSON API with a bearer token and decodes the answer.
func (s *server) api(token, method, path string, body any, want int) map[string]any {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, s.base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		s.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// org is the journey's organisation: ids by name.
type org struct {
	units    map[string]string
	users    map[string]string
	laptopID string
}

func eur(minor int64) map[string]any { return map[string]any{"amount_minor": minor, "currency": "EUR"} }

// setUpOrganisation builds, through the operator commands and the public
// API, a small organisation: IT provides a laptop, Marketing orders it.
func (s *server) setUpOrganisation() org {
	s.t.Helper()
	s.run(password+"\n", "user", "add", "--email", "admin@journey.example", "--name", "Ada Admin", "--admin", "--password-stdin")
	admin := s.token("admin@journey.example")
	o := org{units: map[string]string{}, users: map[string]string{}}
	unit := func(code, name, parent string, threshold int64) {
		body := map[string]any{"code": code, "name": name, "approval_threshold": eur(threshold)}
		if parent != "" {
			body["parent_id"] = o.units[parent]
		}
		o.units[code] = s.api(admin, "POST", "/units", body, http.StatusCreated)["id"].(string)
	}
	unit("CC-1000", "Group", "", 500000)
	unit("CC-1100", "IT", "CC-1000", 200000)
	unit("CC-1200", "Marketing", "CC-1000", 100000)
	people := []struct{ key, name, locale, unit, role string }{
		{"leena", "Leena Lehtonen", "en", "CC-1200", "member"},
		{"maria", "Maria Järvinen", "en", "CC-1200", "manager"},
		{"emma", "Emma Heikkinen", "en", "CC-1100", "agent"},
		{"juha", "Juha Laine", "fi", "CC-1100", "manager"},
		{"sanna", "Sanna Korhonen", "fi", "", "finance"},
	}
	for _, p := range people {
		u := s.api(admin, "POST", "/users", map[string]any{"email": p.key + "@journey.example", "name": p.name,
			"locale": p.locale, "password": password}, http.StatusCreated)
		o.users[p.key] = u["id"].(string)
		if p.unit != "" {
			s.api(admin, "POST", "/units/"+o.units[p.unit]+"/members", map[string]any{"user_id": o.users[p.key], "role": p.role}, http.StatusCreated)
		} else {
			// A money role takes two people; the operator on the server is the second.
			s.run("", "grant", "--email", p.key+"@journey.example", "--role", p.role)
		}
	}
	itManager := s.token("juha@journey.example")
	svc := s.api(itManager, "POST", "/services", map[string]any{"provider_unit_id": o.units["CC-1100"], "code": "IT-LAPTOP",
		"name": "Laptop", "category": "Hardware", "description": "A work laptop with the standard image.",
		"pricing_model": "fixed", "price": eur(145000), "approval_policy": "threshold",
		"sla": map[string]any{"first_response_minutes": 240, "resolution_minutes": 4320},
		"fields": []map[string]any{{"key": "screen", "label": "Screen size", "type": "choice", "required": true,
			"options": []string{`13"`, `15"`}}}}, http.StatusCreated)
	o.laptopID = svc["id"].(string)
	return o
}

// closeOnceEnded closes month as finance does once it has ended, on the
// server's own database: the server runs on the wall clock, in which the
// journey's month has not ended yet.
func (s *server) closeOnceEnded(month string) {
	s.t.Helper()
	d, err := db.Open(context.Background(), s.db)
	if err != nil {
		s.t.Fatalf("open the server's database: %v", err)
	}
	defer d.Close()
	webtest.CloseOnceEnded(s.t, d, month)
}
