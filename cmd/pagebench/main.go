// Command pagebench measures how fast `tiski serve` answers its
// server-rendered portal pages. It signs in through the real /login form as
// each demo persona, finds the ids it needs from links on list pages, then
// GETs every page of that persona --n times, once per worker count in
// --workers, and prints p50/p95/p99/max per page. Every answer must be
// 200; anything else stops the run with a non-zero exit.
//
// It talks only to a loopback address, sends a bounded number of requests
// (personas × pages × workers × (n + warm-up)) and gives up after --timeout.
//
//	go run ./cmd/pagebench --base http://127.0.0.1:18080 --n 200 --workers 1,4
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tiski/tiski/cmd/internal/benchkit"
)

// persona is a demo user and the pages they are measured on. A page may
// hold one {placeholder}, filled from the first matching link on another
// page (see discoveries).
type persona struct {
	Name, Email string
	Pages       []string
}

var personas = []persona{
	{"member", "leena.lehtonen@tiski.example", []string{"/", "/catalog", "/catalog/{service}", "/requests", "/requests/{request}"}},
	{"agent", "emma.heikkinen@tiski.example", []string{"/queue", "/queue?scope=unassigned"}},
	{"manager", "maria.jarvinen@tiski.example", []string{"/approvals", "/charges", "/budgets"}},
	{"finance", "sanna.korhonen@tiski.example", []string{"/finance/periods", "/finance/disputes", "/charges", "/reports"}},
	{"admin", "ville.virtanen@tiski.example", []string{"/admin/units", "/admin/users"}},
}

// discoveries say where a placeholder's id comes from: the first link of
// this shape on this page, as the signed-in persona sees it.
var discoveries = map[string]struct {
	From string
	Link *regexp.Regexp
}{
	"{service}": {"/catalog", regexp.MustCompile(`href="/catalog/(\d+)"`)},
	"{request}": {"/requests", regexp.MustCompile(`href="/requests/(\d+)"`)},
}

const maxRequests = 200_000 // a hard bound on the whole run, whatever the flags say

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pagebench: FAIL:", err)
		os.Exit(1)
	}
}

type config struct {
	base     *url.URL
	n        int
	warmup   int
	workers  []int
	password string
	only     map[string]bool
	pages    map[string]bool
	timeout  time.Duration
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pagebench", flag.ContinueOnError)
	base := fs.String("base", "http://127.0.0.1:18080", "the server's base URL (loopback only)")
	n := fs.Int("n", 200, "measured GETs per page and worker count")
	warmup := fs.Int("warmup", 10, "unmeasured GETs per page before measuring")
	workers := fs.String("workers", "1,4", "comma-separated numbers of concurrent workers")
	password := fs.String("password", "tiski-demo", "the demo users' password (demo.Password)")
	only := fs.String("personas", "", "comma-separated personas to run (member,agent,manager,finance,admin); empty runs all")
	pages := fs.String("pages", "", "comma-separated pages to run, as listed (e.g. /charges,/requests/{request}); empty runs all")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := config{n: *n, warmup: *warmup, password: *password, timeout: *timeout, only: map[string]bool{}, pages: map[string]bool{}}
	var err error
	if cfg.base, err = benchkit.LoopbackBase(*base); err != nil {
		return err
	}
	if cfg.workers, err = benchkit.ParseWorkers(*workers, 32); err != nil {
		return err
	}
	if cfg.n < 1 || cfg.warmup < 0 {
		return errors.New("--n must be at least 1 and --warmup not negative")
	}
	for _, p := range strings.Split(*only, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.only[p] = true
		}
	}
	for _, p := range strings.Split(*pages, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.pages[p] = true
		}
	}
	total := 0
	for _, p := range personas {
		if len(cfg.only) == 0 || cfg.only[p.Name] {
			total += len(cfg.pagesOf(p)) * len(cfg.workers) * (cfg.n + cfg.warmup)
		}
	}
	if total > maxRequests {
		return fmt.Errorf("%d requests planned, more than the bound of %d", total, maxRequests)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	fmt.Fprintf(out, "pagebench %s n=%d warmup=%d workers=%v (%d GETs planned) %s\n\n",
		cfg.base, cfg.n, cfg.warmup, cfg.workers, total, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintln(out, "| persona | page | workers | n | p50 ms | p95 ms | p99 ms | max ms | KiB | statuses |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|")
	slow := 0
	for _, p := range personas {
		if (len(cfg.only) > 0 && !cfg.only[p.Name]) || len(cfg.pagesOf(p)) == 0 {
			continue
		}
		rows, err := measurePersona(ctx, cfg, p)
		for _, r := range rows {
			mark := ""
			if r.P95 > 50*time.Millisecond {
				mark, slow = " **over 50 ms p95**", slow+1
			}
			fmt.Fprintf(out, "| %s | `%s` | %d | %d | %s | %s | %s | %s | %.1f | %s |%s\n",
				p.Name, r.Page, r.Workers, r.N, benchkit.MS(r.P50), benchkit.MS(r.P95), benchkit.MS(r.P99), benchkit.MS(r.Max),
				float64(r.Bytes)/1024, r.statuses(), mark)
		}
		if err != nil {
			return fmt.Errorf("%s (%s): %w", p.Name, p.Email, err)
		}
	}
	fmt.Fprintf(out, "\n%d page/worker rows over 50 ms p95\n", slow)
	return nil
}

// pagesOf is the persona's pages that --pages selects.
func (cfg config) pagesOf(p persona) []string {
	if len(cfg.pages) == 0 {
		return p.Pages
	}
	var out []string
	for _, page := range p.Pages {
		if cfg.pages[page] {
			out = append(out, page)
		}
	}
	return out
}

// result is one page measured with one worker count.
type result struct {
	Page          string
	Workers, N    int
	P50, P95, P99 time.Duration
	Max           time.Duration
	Bytes         int // size of the last body
	Status        map[int]int
}

func (r result) statuses() string {
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, r.Status[c])
	}
	return strings.Join(parts, " ")
}

func measurePersona(ctx context.Context, cfg config, p persona) ([]result, error) {
	maxWorkers := 1
	for _, w := range cfg.workers {
		maxWorkers = max(maxWorkers, w)
	}
	client, err := login(ctx, cfg, p.Email, maxWorkers)
	if err != nil {
		return nil, err
	}
	var rows []result
	for _, page := range cfg.pagesOf(p) {
		path, err := resolve(ctx, client, cfg.base, page)
		if err != nil {
			return rows, err
		}
		for _, w := range cfg.workers {
			if cfg.warmup > 0 {
				if _, err := measure(ctx, client, cfg.base, path, cfg.warmup, w); err != nil {
					return rows, fmt.Errorf("warm-up: %w", err)
				}
			}
			r, err := measure(ctx, client, cfg.base, path, cfg.n, w)
			if err != nil {
				return rows, err
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// login posts the /login form and keeps the session cookie in the client's
// jar. The form answers 303 See Other on success, 401/429 otherwise.
func login(ctx context.Context, cfg config, email string, conns int) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
			DisableCompression: true,
		},
		// Redirects are answers to check, not to follow: a page that sends
		// us to /login means the session was lost.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	form := url.Values{"email": {email}, "password": {cfg.password}, "next": {"/"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.base.String()+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login as %s: status %d, want 303: %s", email, resp.StatusCode, snippet(body))
	}
	if len(jar.Cookies(cfg.base)) == 0 {
		return nil, fmt.Errorf("login as %s: 303 but no session cookie was set", email)
	}
	return client, nil
}

// resolve fills a page's placeholder from the first matching link on the
// page named in discoveries.
func resolve(ctx context.Context, client *http.Client, base *url.URL, page string) (string, error) {
	for ph, d := range discoveries {
		if !strings.Contains(page, ph) {
			continue
		}
		status, body, err := get(ctx, client, base, d.From)
		if err != nil {
			return "", err
		}
		if status != http.StatusOK {
			return "", fmt.Errorf("GET %s to find %s: status %d: %s", d.From, ph, status, snippet(body))
		}
		m := d.Link.FindSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("GET %s: no link matching %s to fill %s", d.From, d.Link, ph)
		}
		page = strings.Replace(page, ph, string(m[1]), 1)
	}
	return page, nil
}

func get(ctx context.Context, client *http.Client, base *url.URL, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, body, err
}

// measure GETs path n times from the given number of workers and times
// each answer from sending to the last byte of the body.
func measure(ctx context.Context, client *http.Client, base *url.URL, path string, n, workers int) (result, error) {
	r := result{Page: path, Workers: workers, N: n, Status: map[int]int{}}
	durations := make([]time.Duration, 0, n)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	for range workers {
		wg.Go(func() {
			for range jobs {
				start := time.Now()
				status, body, err := get(ctx, client, base, path)
				d := time.Since(start)
				mu.Lock()
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("GET %s: status %d, want 200: %s", path, status, snippet(body))
				}
				if err != nil {
					if first == nil {
						first = err
					}
				} else {
					durations = append(durations, d)
					r.Bytes = len(body)
				}
				if status != 0 {
					r.Status[status]++
				}
				stop := first != nil
				mu.Unlock()
				if stop {
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return r, first
	}
	sorted := slicesSorted(durations)
	r.P50, r.P95, r.P99 = benchkit.Percentile(sorted, 50), benchkit.Percentile(sorted, 95), benchkit.Percentile(sorted, 99)
	r.Max = sorted[len(sorted)-1]
	return r, nil
}

func slicesSorted(d []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), d...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
