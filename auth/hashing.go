package auth

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tiski/tiski/fault"
)

// Checking a password costs argon2id's 19 MiB and two passes, so it runs in
// a bounded pool: at most hashSlots at once, and at most hashQueue more
// waiting (without their memory) up to hashWait. Anything beyond is refused
// at once with 429 and Retry-After, so unauthenticated load cannot grow the
// server's memory past hashSlots × 19 MiB for hashing.
var (
	hashSlots = max(2, runtime.GOMAXPROCS(0))
	hashQueue = 8 * hashSlots
	hashWait  = 5 * time.Second
	hashing   = newHashPool(hashSlots, hashQueue)
)

type hashPool struct {
	slots   chan struct{}
	waiting chan struct{}
	running atomic.Int64
	peak    atomic.Int64 // most checks ever running at once
	checked atomic.Int64 // checks run
}

func newHashPool(slots, queue int) *hashPool {
	return &hashPool{slots: make(chan struct{}, slots), waiting: make(chan struct{}, slots+queue)}
}

// busy is the answer when the pool and its waiting room are full.
func busy() error {
	return fault.New(fault.KindTooManyRequests, "sign_in_busy", "sign-in is busy; try again in a moment").
		With("retry_after_seconds", 1)
}

// run runs check in the pool, or refuses at once when too many wait.
func (p *hashPool) run(ctx context.Context, check func()) error {
	select {
	case p.waiting <- struct{}{}:
	default:
		return busy()
	}
	defer func() { <-p.waiting }()
	ctx, cancel := context.WithTimeout(ctx, hashWait)
	defer cancel()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return busy()
	}
	defer func() { <-p.slots }()
	n := p.running.Add(1)
	defer p.running.Add(-1)
	for {
		peak := p.peak.Load()
		if n <= peak || p.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	p.checked.Add(1)
	check()
	return nil
}

// checkPassword verifies password against encoded inside the pool.
func checkPassword(ctx context.Context, password, encoded string) (bool, error) {
	var ok bool
	err := hashing.run(ctx, func() { ok = VerifyPassword(password, encoded) })
	return ok, err
}
