package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/units"
)

// fakeMail records what it was handed and fails while failing says so.
type fakeMail struct {
	mu        sync.Mutex
	delivered []string
	failures  int // fail this many more calls
}

func (f *fakeMail) Deliver(_ context.Context, m outbox.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errors.New("421 service not available")
	}
	f.delivered = append(f.delivered, m.DeliveryKey)
	return nil
}

// clock is a time the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// enqueue writes n messages for n events of one user and returns the user.
func enqueue(t *testing.T, d *db.DB, n int, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	var user int64
	err := d.InTx(ctx, func(tx bun.Tx) error {
		u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "someone@example.org", Name: "Someone"})
		if err != nil {
			return err
		}
		user = u.ID
		for i := range n {
			var id int64
			if err := tx.NewRaw("INSERT INTO notification_events (kind, object_type, object_id, args_json, at) VALUES ('request_resolved', 'request', ?, '{}', ?) RETURNING id", i+1, at).Scan(ctx, &id); err != nil {
				return err
			}
			for range 2 { // the second enqueue of one key is a no-op
				if err := outbox.Enqueue(ctx, tx, outbox.ChannelEmail, id, user, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return user
}

func message(t *testing.T, d *db.DB, id int64) *outbox.Message {
	t.Helper()
	m, err := outbox.Get(context.Background(), d, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAFailingMessageBacksOffThenFailsAndIsResent: each failure moves the
// next attempt further out (never sooner than the base delay doubled per
// attempt); after MaxAttempts the message fails with its error; an admin's
// re-send is audited and delivers it once.
func TestAFailingMessageBacksOffThenFailsAndIsResent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
		enqueue(t, d, 1, c.now)
		mail := &fakeMail{failures: 100}
		w := &outbox.Worker{DB: d, Channels: map[string]outbox.Deliverer{outbox.ChannelEmail: mail}, Now: c.Now,
			MaxAttempts: 4, Backoff: time.Minute, MaxBackoff: time.Hour}
		var id int64
		for attempt := 1; attempt <= 4; attempt++ {
			n, err := w.RunOnce(ctx)
			if err != nil || n != 1 {
				t.Fatalf("attempt %d claimed %d: %v", attempt, n, err)
			}
			rows, _ := outbox.List(ctx, d, "", 0, 10)
			m := rows[0]
			id = m.ID
			if m.Attempts != attempt || m.LastError != "421 service not available" {
				t.Fatalf("after attempt %d: %+v", attempt, m)
			}
			if attempt == 4 {
				if m.Status != outbox.Failed {
					t.Fatalf("after %d attempts the message is %s, want failed", attempt, m.Status)
				}
				break
			}
			base := time.Minute << (attempt - 1)
			if wait := m.NextAttemptAt.Sub(c.now); wait < base || wait > base+base/5 {
				t.Fatalf("after attempt %d the retry waits %v, want %v plus at most a fifth", attempt, wait, base)
			}
			if n, _ := w.RunOnce(ctx); n != 0 {
				t.Fatal("a message was claimed again before its retry was due")
			}
			c.now = m.NextAttemptAt
		}
		c.now = c.now.Add(48 * time.Hour)
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("a failed message was claimed")
		}
		mail.failures = 0
		if err := audit.InTx(ctx, d, func(tx bun.Tx) error {
			_, err := outbox.Resend(ctx, tx, 0, id, c.now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("after the re-send claimed %d: %v", n, err)
		}
		if m := message(t, d, id); m.Status != outbox.Delivered || m.DeliveredAt == nil || len(mail.delivered) != 1 {
			t.Fatalf("after the re-send: %+v, delivered %v", m, mail.delivered)
		}
		err := audit.InTx(ctx, d, func(tx bun.Tx) error {
			_, err := outbox.Resend(ctx, tx, 0, id, c.now)
			return err
		})
		if fe, ok := fault.As(err); !ok || fe.Code != "not_failed" {
			t.Fatalf("re-sending a delivered message: %v", err)
		}
		events, err := audit.ListFor(ctx, d, "outbox", fmt.Sprint(id))
		if err != nil || len(events) != 1 || events[0].Action != "resend" {
			t.Fatalf("audit of the re-send = %+v, %v", events, err)
		}
	})
}

// TestAWorkerKilledMidDeliveryLeavesTheMessageToBeRetried: a claim whose
// worker never reports back holds the row until its lease ends, and then
// the row is claimed and delivered; it is delivered (marked) once.
func TestAWorkerKilledMidDeliveryLeavesTheMessageToBeRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
		enqueue(t, d, 1, c.now)
		// The killed worker: it claimed, and then nothing.
		lost, err := outbox.Claim(ctx, d, []string{outbox.ChannelEmail}, 10, 2*time.Minute, c.now)
		if err != nil || len(lost) != 1 {
			t.Fatalf("claim = %v, %v", lost, err)
		}
		mail := &fakeMail{}
		w := &outbox.Worker{DB: d, Channels: map[string]outbox.Deliverer{outbox.ChannelEmail: mail}, Now: c.Now, Lease: 2 * time.Minute}
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("a leased message was claimed by another worker")
		}
		c.now = c.now.Add(2 * time.Minute)
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("after the lease claimed %d: %v", n, err)
		}
		if m := message(t, d, lost[0].ID); m.Status != outbox.Delivered || m.Attempts != 2 || len(mail.delivered) != 1 {
			t.Fatalf("after the retry: %+v, delivered %v", m, mail.delivered)
		}
		if ok, err := outbox.MarkDelivered(ctx, d, lost[0], c.now); err != nil || ok {
			t.Fatalf("the killed worker's late report counted: %v, %v", ok, err)
		}
	})
}

// TestConcurrentClaimsNeverShareAMessage: workers claiming at once (on
// PostgreSQL with SKIP LOCKED) split the due messages between them.
func TestConcurrentClaimsNeverShareAMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		enqueue(t, d, 40, now)
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					got, err := outbox.Claim(ctx, d, []string{outbox.ChannelEmail}, 3, time.Minute, now)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Fatalf("%d messages claimed, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("message %d claimed %d times", id, n)
			}
		}
	})
}

// stopsServe cancels the worker's context while it delivers, as a stop of
// tiski serve does, and reports the message handed over.
type stopsServe struct{ cancel context.CancelFunc }

func (s stopsServe) Deliver(context.Context, outbox.Message) error {
	s.cancel()
	return nil
}

// TestADeliveryJustBeforeAStopIsRecorded: serve stops while a message is
// being handed over; the handed-over message is marked delivered, not
// left to be sent again.
func TestADeliveryJustBeforeAStopIsRecorded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		enqueue(t, d, 1, now)
		ctx, cancel := context.WithCancel(context.Background())
		w := &outbox.Worker{DB: d, Channels: map[string]outbox.Deliverer{outbox.ChannelEmail: stopsServe{cancel}}, Now: func() time.Time { return now }}
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("claimed %d: %v", n, err)
		}
		rows, _ := outbox.List(context.Background(), d, "", 0, 10)
		if len(rows) != 1 || rows[0].Status != outbox.Delivered {
			t.Fatalf("after a stop mid-delivery: %+v", rows)
		}
	})
}
