package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tiski/tiski/cmd/internal/benchkit"
)

// tally is what one action (or the whole mix) came to.
type tally struct {
	took    []time.Duration
	classes map[string]int // "2xx", "stale 409", "refused 422 code", "error 500", "transport"
}

func (t *tally) add(took time.Duration, a answer, err error) {
	if t.classes == nil {
		t.classes = map[string]int{}
	}
	t.took = append(t.took, took)
	t.classes[classify(a, err)]++
}

func classify(a answer, err error) string {
	switch {
	case err != nil:
		return "error transport"
	case a.status < 400:
		return "2xx"
	case a.status == http.StatusConflict && a.code == "stale_version":
		return "stale 409"
	case a.status < 500:
		return fmt.Sprintf("refused %d %s", a.status, a.code)
	default:
		return fmt.Sprintf("error %d", a.status)
	}
}

func (t *tally) merge(o *tally) {
	if t.classes == nil {
		t.classes = map[string]int{}
	}
	t.took = append(t.took, o.took...)
	for k, v := range o.classes {
		t.classes[k] += v
	}
}

// result is one worker count's run.
type result struct {
	workers int
	elapsed time.Duration
	per     map[string]*tally
}

func (r result) errors() int {
	n := 0
	for _, t := range r.per {
		for k, v := range t.classes {
			if strings.HasPrefix(k, "error") {
				n += v
			}
		}
	}
	return n
}

// drive runs the mix with workers in a closed loop for duration.
func drive(ctx context.Context, d *desk, workers int, duration time.Duration, seed int64) result {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	per := make([]map[string]*tally, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		per[w] = map[string]*tally{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for n := 0; ctx.Err() == nil; n++ {
				act := pick(rng)
				began := time.Now()
				a, err := act.do(ctx, d, rng, seqOf(w, n))
				if ctx.Err() != nil {
					return // cut by the end of the run, not an answer
				}
				t := per[w][act.name]
				if t == nil {
					t = &tally{}
					per[w][act.name] = t
				}
				t.add(time.Since(began), a, err)
			}
		}()
	}
	wg.Wait()
	r := result{workers: workers, elapsed: time.Since(start), per: map[string]*tally{}}
	for _, m := range per {
		for name, t := range m {
			if r.per[name] == nil {
				r.per[name] = &tally{}
			}
			r.per[name].merge(t)
		}
	}
	return r
}

// measureCeiling is the rate at which the server answers /healthz to as
// many workers for duration: what this machine serves when the work is
// nothing.
func measureCeiling(ctx context.Context, d *desk, workers int, duration time.Duration) float64 {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	counts := make([]int, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.base.String()+"/healthz", nil)
				res, err := d.client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK && ctx.Err() == nil {
					counts[w]++
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += c
	}
	return float64(total) / time.Since(start).Seconds()
}

func report(out io.Writer, workers int, r result, ceiling float64) {
	all := &tally{}
	names := make([]string, 0, len(r.per))
	for name, t := range r.per {
		names = append(names, name)
		all.merge(t)
	}
	sort.Strings(names)
	secs := r.elapsed.Seconds()
	rate := float64(len(all.took)) / secs
	fmt.Fprintf(out, "### %d workers, %.1f s\n\n", workers, secs)
	fmt.Fprintf(out, "mix: %.0f actions/s; /healthz ceiling: %.0f answers/s; ratio %.3f\n\n", rate, ceiling, rate/ceiling)
	fmt.Fprintln(out, "| action | n | per s | p50 ms | p95 ms | p99 ms | answers |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|")
	row := func(name string, t *tally) {
		sorted := slices.Clone(t.took)
		slices.Sort(sorted)
		fmt.Fprintf(out, "| %s | %d | %.0f | %s | %s | %s | %s |\n", name, len(sorted), float64(len(sorted))/secs,
			benchkit.MS(benchkit.Percentile(sorted, 50)), benchkit.MS(benchkit.Percentile(sorted, 95)),
			benchkit.MS(benchkit.Percentile(sorted, 99)), classes(t.classes))
	}
	for _, name := range names {
		row(name, r.per[name])
	}
	row("**all**", all)
	fmt.Fprintln(out)
}

func classes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
