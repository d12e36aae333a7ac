package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/cmd/internal/benchkit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

func TestMixIsTheProfile(t *testing.T) {
	sum := 0
	for _, a := range mix {
		sum += a.share
	}
	if sum != 100 {
		t.Fatalf("the mix's shares add up to %d %%", sum)
	}
}

func TestAnswersAreClassified(t *testing.T) {
	for _, c := range []struct {
		a    answer
		want string
	}{
		{answer{status: 201}, "2xx"},
		{answer{status: 409, code: "stale_version"}, "stale 409"},
		{answer{status: 409, code: "budget_exceeded"}, "refused 409 budget_exceeded"},
		{answer{status: 503}, "error 503"},
	} {
		if got := classify(c.a, nil); got != c.want {
			t.Errorf("classify(%v) = %q, want %q", c.a, got, c.want)
		}
	}
}

// The driver against a real server over the demo organisation: each
// action of the mix succeeds once on its own, then a short closed-loop run
// has nothing but successes and lost races, and reports its ceiling.
func TestDriveTheDemo(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	if err := demo.Load(ctx, d, auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webtest.NewServer(t, d, web.Config{}).Handler())
	defer srv.Close()
	base, err := benchkit.LoopbackBase(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	k, err := newDesk(ctx, base, "tiski-demo", 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i, a := range mix {
		if got, err := a.do(ctx, k, rng, i); err != nil || classify(got, err) != "2xx" {
			t.Errorf("%s: %v %v", a.name, got, err)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"--base", srv.URL, "--workers", "2", "--duration", "2s", "--ceiling", "200ms"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "/healthz ceiling:") || !strings.Contains(out.String(), "| **all** |") ||
		strings.Contains(out.String(), "refused") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestOnlyLoopback(t *testing.T) {
	if err := run([]string{"--base", "http://192.0.2.1:8080"}, &bytes.Buffer{}); err == nil {
		t.Fatal("a non-loopback server was accepted")
	}
}
