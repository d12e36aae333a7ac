package mail_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/mail"
	"github.com/tiski/tiski/mail/smtptest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/units"
)

// benchDesk is one database with a requester, a real SMTP server and the
// outbox worker serve runs, delivering to it.
type benchDesk struct {
	d      *db.DB
	user   int64
	server *smtptest.Server
	worker *outbox.Worker
}

func newBenchDesk(b *testing.B, engine db.Engine, poll time.Duration) *benchDesk {
	b.Helper()
	ctx := context.Background()
	k := &benchDesk{d: dbtest.Open(b, engine), server: smtptest.Start(b)}
	err := k.d.InTx(ctx, func(tx bun.Tx) error {
		if _, err := units.EnsureOrganisation(ctx, tx, "EUR", "UTC"); err != nil {
			return err
		}
		u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "member@example.org", Name: "Member", Locale: "fi"})
		k.user = u.ID
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg, _, err := mail.ParseConfig("smtp://"+k.server.Addr, "Tiski <tiski@example.org>", "https://tiski.example.org")
	if err != nil {
		b.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		b.Fatal(err)
	}
	key, err := mail.ReplyKey(ctx, k.d)
	if err != nil {
		b.Fatal(err)
	}
	k.worker = &outbox.Worker{DB: k.d, Poll: poll,
		Channels: map[string]outbox.Deliverer{outbox.ChannelEmail: &mail.Sender{DB: k.d, Config: cfg, Catalog: cat, ReplyKey: key}}}
	return k
}

// record commits one resolved notice (one e-mail) and returns its event id.
func (k *benchDesk) record(b *testing.B, i int) int64 {
	ctx := context.Background()
	var id int64
	err := k.d.InTx(ctx, func(tx bun.Tx) error {
		if _, err := notify.Record(ctx, tx, notify.Event{Kind: notify.RequestResolved, ObjectID: int64(i + 1),
			Parties: notify.Parties{RequesterID: k.user}, Args: map[string]string{"ref": fmt.Sprintf("REQ-%06d", i+1), "title": "Kannettava"}}); err != nil {
			return err
		}
		return tx.NewSelect().Table("notification_events").ColumnExpr("MAX(id)").Scan(ctx, &id)
	})
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkOutboxThroughput: b.N e-mails wait in the outbox; one worker,
// as in tiski serve, delivers them all to the SMTP server (a connection
// each, as the Sender does). Reports delivered e-mails per second.
func BenchmarkOutboxThroughput(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			k := newBenchDesk(b, engine, 0)
			for i := range b.N {
				k.record(b, i)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for {
				n, err := k.worker.RunOnce(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if got := len(k.server.Messages()); got != b.N {
				b.Fatalf("%d of %d delivered", got, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "mails/s")
		})
	}
}

// BenchmarkCommitToDelivery: one worker runs as in tiski serve (its idle
// poll 5 s, the default 1 s, or 100 ms) while b.N notices commit one every
// 10 ms; reports the delay from each commit to its arrival at the SMTP
// server, p50 and p95. Run with -benchtime 200x.
func BenchmarkCommitToDelivery(b *testing.B) {
	for _, engine := range dbtest.Engines() {
		for _, poll := range []time.Duration{5 * time.Second, 0, 100 * time.Millisecond} {
			name := fmt.Sprintf("%s/poll=%s", engine, poll)
			if poll == 0 {
				name = fmt.Sprintf("%s/poll=default", engine)
			}
			b.Run(name, func(b *testing.B) {
				k := newBenchDesk(b, engine, poll)
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); k.worker.Run(ctx) }()
				committed := map[int64]time.Time{}
				b.ResetTimer()
				for i := range b.N {
					id := k.record(b, i)
					committed[id] = time.Now()
					time.Sleep(10 * time.Millisecond)
				}
				got := k.server.Wait(b, b.N, 2*time.Minute)
				b.StopTimer()
				cancel()
				wg.Wait()
				var delays []time.Duration
				for _, m := range got {
					// <tiski.EVENT.USER.email@example.org>
					parts := strings.Split(strings.Trim(m.Header.Get("Message-ID"), "<>"), ".")
					id, err := strconv.ParseInt(parts[1], 10, 64)
					if err != nil || committed[id].IsZero() {
						b.Fatalf("unknown Message-ID %q", m.Header.Get("Message-ID"))
					}
					delays = append(delays, m.At.Sub(committed[id]))
				}
				slices.Sort(delays)
				at := func(q float64) float64 {
					return float64(delays[min(len(delays)-1, int(q*float64(len(delays))))]) / float64(time.Millisecond)
				}
				b.ReportMetric(at(0.50), "p50-ms")
				b.ReportMetric(at(0.95), "p95-ms")
			})
		}
	}
}
