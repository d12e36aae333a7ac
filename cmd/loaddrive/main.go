// Command loaddrive puts a service desk's working day on `tiski serve`
// through the JSON API and says how much of it the server gets done. It
// signs in as four demo personas (a member who orders and comments, an
// agent who works the queue, a manager who approves, finance who reads
// reports), then for each worker count in --workers runs a closed loop for
// --duration: every worker picks the next action from the mix of
// Atlassian's service-management performance profile (view 24 %, comment
// 26 %, create 16 %, queue and lists 12 %, search 6 %, transitions 10 %,
// approvals 3 %, reports 3 %), waits for its answer and goes on. In the same
// run it measures the server's /healthz with as many workers, the ceiling
// that the mix's rate is read against on any machine.
//
// It prints actions/s, p50/p95/p99 per action and overall, and the answers
// by class: a 409 for a stale version is counted apart (a lost race with
// another worker, which the API reports honestly), a refusal (another 4xx,
// e.g. a hard budget) apart from errors (5xx and transport failures). Any
// error makes the exit status non-zero.
//
// It talks only to a loopback address, stops itself after the planned time
// (at most 10 minutes a worker count) and gives up after --timeout.
//
//	go run ./cmd/tiski serve --demo --addr 127.0.0.1:18080 &
//	go run ./cmd/loaddrive --base http://127.0.0.1:18080 --workers 8,32,64 --duration 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tiski/tiski/cmd/internal/benchkit"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loaddrive: FAIL:", err)
		os.Exit(1)
	}
}

type config struct {
	workers  []int
	duration time.Duration
	ceiling  time.Duration
	password string
	seed     int64
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loaddrive", flag.ContinueOnError)
	base := fs.String("base", "http://127.0.0.1:18080", "the server's base URL (loopback only)")
	workers := fs.String("workers", "8,32,64", "comma-separated numbers of concurrent workers (1 to 256)")
	duration := fs.Duration("duration", 20*time.Second, "how long the mix runs at each worker count (at most 10m)")
	ceiling := fs.Duration("ceiling", 5*time.Second, "how long /healthz is measured at each worker count (at most 1m)")
	password := fs.String("password", "tiski-demo", "the demo users' password (demo.Password)")
	seed := fs.Int64("seed", 1, "seed of the action choice, for repeatable mixes")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := benchkit.LoopbackBase(*base)
	if err != nil {
		return err
	}
	cfg := config{duration: *duration, ceiling: *ceiling, password: *password, seed: *seed}
	if cfg.workers, err = benchkit.ParseWorkers(*workers, 256); err != nil {
		return err
	}
	if cfg.duration <= 0 || cfg.duration > 10*time.Minute || cfg.ceiling <= 0 || cfg.ceiling > time.Minute {
		return errors.New("--duration must be in (0, 10m] and --ceiling in (0, 1m]")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	most := 0
	for _, w := range cfg.workers {
		most = max(most, w)
	}
	d, err := newDesk(ctx, u, cfg.password, most)
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	fmt.Fprintf(out, "loaddrive %s workers=%v duration=%s ceiling=%s seed=%d %s\n\n",
		u, cfg.workers, cfg.duration, cfg.ceiling, cfg.seed, time.Now().UTC().Format(time.RFC3339))
	failed := 0
	for _, w := range cfg.workers {
		ceil := measureCeiling(ctx, d, w, cfg.ceiling)
		res := drive(ctx, d, w, cfg.duration, cfg.seed)
		failed += res.errors()
		report(out, w, res, ceil)
	}
	if failed > 0 {
		return fmt.Errorf("%d errors (5xx or transport) in the run", failed)
	}
	return ctx.Err()
}
