// Package benchkit holds what Tiski's measuring commands (pagebench,
// loaddrive) share: they talk only to a loopback server, take a list of
// worker counts, and report nearest-rank percentiles in milliseconds.
package benchkit

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LoopbackBase accepts only http(s) URLs whose host is a loopback address,
// so a measuring run can never be aimed at someone else's server.
func LoopbackBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--base %q: want http://127.0.0.1:PORT", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--base %q: only loopback addresses are allowed", raw)
	}
	return u, nil
}

// ParseWorkers reads a comma-separated list of worker counts, each from 1
// to most.
func ParseWorkers(raw string, most int) ([]int, error) {
	var ws []int
	for _, f := range strings.Split(raw, ",") {
		w, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || w < 1 || w > most {
			return nil, fmt.Errorf("--workers %q: want numbers from 1 to %d", raw, most)
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// Percentile is the nearest-rank percentile p (0–100) of sorted durations:
// the smallest value with at least p % of the values at or below it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// p·n/100, less a hair so that float error (99.9·1000) cannot push an
	// exact rank up by one.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// MS writes a duration in milliseconds with two decimals.
func MS(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}
