package outbox

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tiski/tiski/db"
)

// Deliverer sends the messages of one channel. Deliver returns nil once the
// message is handed over (an SMTP server accepted it), a Permanent error
// when trying again cannot help, and any other error to be retried.
type Deliverer interface {
	Deliver(ctx context.Context, m Message) error
}

// permanent marks an error no retry can fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so the worker fails the message at once.
func Permanent(err error) error { return permanent{err} }

// Worker claims due messages and hands them to the deliverer of their
// channel. Its zero durations take the defaults below.
type Worker struct {
	DB       *db.DB
	Channels map[string]Deliverer
	Log      *slog.Logger

	MaxAttempts int           // claims before a message fails for good (8)
	Lease       time.Duration // how long a claim holds a row (2 minutes; above any delivery timeout)
	Backoff     time.Duration // the first retry's delay, doubled each attempt (30 s)
	MaxBackoff  time.Duration // the longest delay (1 hour)
	Poll        time.Duration // how often an idle worker looks (1 s; at 5 s the delay from commit to delivery was 3.5 s at the median)
	Batch       int           // messages per claim (20)
	Now         func() time.Time
}

func (w *Worker) defaults() {
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 8
	}
	if w.Lease == 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Backoff == 0 {
		w.Backoff = 30 * time.Second
	}
	if w.MaxBackoff == 0 {
		w.MaxBackoff = time.Hour
	}
	if w.Poll == 0 {
		w.Poll = time.Second
	}
	if w.Batch == 0 {
		w.Batch = 20
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
}

// Run delivers until ctx ends, polling when there is nothing due.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("outbox", "err", err)
		}
		wait := w.Poll
		if n == w.Batch {
			wait = 0 // a full batch: more may be due
		}
		timer.Reset(wait)
	}
}

// RunOnce claims one batch, delivers it and records each outcome. It
// returns how many messages it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	channels := make([]string, 0, len(w.Channels))
	for c := range w.Channels {
		channels = append(channels, c)
	}
	slices.Sort(channels)
	claimed, err := Claim(ctx, w.DB, channels, w.Batch, w.Lease, w.Now())
	if err != nil {
		return 0, err
	}
	for _, m := range claimed {
		if ctx.Err() != nil {
			return len(claimed), ctx.Err() // the leases expire and the rows are claimed again
		}
		w.deliver(ctx, m)
	}
	return len(claimed), nil
}

func (w *Worker) deliver(ctx context.Context, m Message) {
	err := w.Channels[m.Channel].Deliver(ctx, m)
	now := w.Now()
	// The outcome is recorded even when serve is stopping: a message the
	// server accepted just before the stop is delivered, not retried.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		if ok, merr := MarkDelivered(ctx, w.DB, m, now); merr != nil {
			w.Log.Warn("outbox: delivered but not marked; it will be delivered again", "id", m.ID, "key", m.DeliveryKey, "err", merr)
		} else if !ok {
			w.Log.Warn("outbox: delivered after its lease ran out", "id", m.ID, "key", m.DeliveryKey)
		}
		return
	}
	var retryAt time.Time
	var p permanent
	if !errors.As(err, &p) && m.Attempts < w.MaxAttempts {
		retryAt = now.Add(w.delay(m.Attempts))
	}
	if merr := MarkFailed(ctx, w.DB, m, err, retryAt); merr != nil {
		w.Log.Warn("outbox: failure not recorded", "id", m.ID, "err", merr)
	}
	if retryAt.IsZero() {
		w.Log.Error("outbox: message failed for good", "id", m.ID, "key", m.DeliveryKey, "attempts", m.Attempts, "err", err)
	} else {
		w.Log.Info("outbox: delivery failed, retrying", "id", m.ID, "key", m.DeliveryKey, "attempt", m.Attempts, "retry_at", retryAt, "err", err)
	}
}

// delay is the wait after the given attempt: Backoff doubled per earlier
// attempt, capped at MaxBackoff, with up to a fifth of it added at random
// so that messages failing together do not all come back together.
func (w *Worker) delay(attempt int) time.Duration {
	d := w.Backoff
	for i := 1; i < attempt && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	return d + rand.N(d/5+1)
}
