package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/webhooks"
)

// allowLoopback is the test configuration TISKI_WEBHOOK_ALLOW=127.0.0.1/32,
// so that the receiver the test starts can be reached.
func allowLoopback(t *testing.T) *webhooks.Guard {
	t.Helper()
	allow, err := webhooks.ParseAllow("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	return &webhooks.Guard{Allow: allow}
}

func kinds() []string {
	var out []string
	for _, k := range notify.Kinds() {
		out = append(out, string(k))
	}
	return out
}

// receiver is an HTTP peer that checks each message's signature with the
// secret it is told, the way a receiver following Standard Webhooks does.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	answers  []int // status codes to answer, in turn; 200 after them
	got      []map[string]any
	ids      []string
	badSigns int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhooks.Verify(r.secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
			req.Header.Get("webhook-signature"), body, time.Now(), 5*time.Minute); err != nil {
			r.badSigns++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if len(r.answers) > 0 {
			code := r.answers[0]
			r.answers = r.answers[1:]
			if code != http.StatusOK {
				http.Error(w, "busy", code)
				return
			}
		}
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		r.got = append(r.got, v)
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

func subscribe(t *testing.T, k *testkit.Kit, g *webhooks.Guard, actor int64, in webhooks.Input) *webhooks.Subscription {
	t.Helper()
	store := &webhooks.Store{Guard: g, Known: kinds(), Locales: []string{"en", "fi"}}
	var sub *webhooks.Subscription
	k.Do(t, func(ctx context.Context, tx bun.Tx) (err error) {
		sub, err = store.Create(ctx, tx, actor, in, time.Now())
		return err
	})
	return sub
}

func record(t *testing.T, k *testkit.Kit, ev notify.Event) {
	t.Helper()
	k.Do(t, func(ctx context.Context, tx bun.Tx) error {
		_, err := notify.Record(ctx, tx, ev)
		return err
	})
}

func resolved(k *testkit.Kit, internal bool) notify.Event {
	return notify.Event{Kind: notify.RequestResolved, ObjectID: 42, ActorID: k.People.Agent, Internal: internal,
		Parties: notify.Parties{RequesterID: k.People.Member, ConsumerUnitID: k.Units.MKTDigital, ProviderUnitID: k.Units.ITDesk},
		Args:    map[string]string{"ref": "REQ-000042", "title": "New laptop", "request_id": "42"}}
}

func deliverer(t *testing.T, d *db.DB, g *webhooks.Guard) *webhooks.Deliverer {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return &webhooks.Deliverer{DB: d, Guard: g, Catalog: cat, BaseURL: "https://tiski.example.org"}
}

func worker(d *db.DB, del *webhooks.Deliverer, now func() time.Time) *outbox.Worker {
	return &outbox.Worker{DB: d, Channels: map[string]outbox.Deliverer{outbox.ChannelWebhook: del}, Now: now}
}

func webhookMessages(t *testing.T, d *db.DB) []outbox.Message {
	t.Helper()
	var rows []outbox.Message
	if err := d.NewSelect().Model(&rows).Where("channel = ?", outbox.ChannelWebhook).OrderExpr("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSignedWebhookReachesAReceiverThatVerifiesIt: an event of a kind the
// organisation's and a unit's subscriptions hear becomes one message each,
// posted, signed, verified by the receiver, and logged as delivered.
func TestSignedWebhookReachesAReceiverThatVerifiesIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := testkit.New(t, d)
		g := allowLoopback(t)
		recv := newReceiver(t)
		org := subscribe(t, k, g, k.People.Admin, webhooks.Input{Name: "Ops", URL: recv.URL + "/hook", Kinds: []string{"request_resolved"}})
		unit := subscribe(t, k, g, k.People.Manager, webhooks.Input{UnitID: k.Units.MKT, Name: "MKT chat", URL: recv.URL + "/chat",
			Format: webhooks.FormatChat, Kinds: []string{"request_resolved", "request_filed"}})
		if !strings.HasPrefix(org.Secret, "whsec_") || org.Secret == unit.Secret {
			t.Fatalf("secrets %q and %q: want distinct whsec_ secrets", org.Secret, unit.Secret)
		}
		record(t, k, resolved(k, false))
		record(t, k, notify.Event{Kind: notify.ApprovalWaiting, ObjectID: 42, Parties: notify.Parties{ConsumerUnitID: k.Units.MKT},
			Args: map[string]string{"ref": "REQ-000042", "title": "New laptop"}}) // nobody subscribed to it

		msgs := webhookMessages(t, d)
		if len(msgs) != 2 {
			t.Fatalf("webhook messages %d, want 2 (one per subscription)", len(msgs))
		}
		del := deliverer(t, d, g)
		// The receiver checks with each subscription's own secret in turn.
		for _, sub := range []*webhooks.Subscription{org, unit} {
			recv.mu.Lock()
			recv.secret = sub.Secret
			recv.mu.Unlock()
			var m outbox.Message
			for _, x := range msgs {
				if *x.SubscriptionID == sub.ID {
					m = x
				}
			}
			if err := del.Deliver(context.Background(), asAttempt(m)); err != nil {
				t.Fatalf("deliver to %s: %v", sub.Name, err)
			}
		}
		got := recv.received()
		if recv.badSigns != 0 || len(got) != 2 {
			t.Fatalf("received %d verified messages with %d bad signatures, want 2 and 0", len(got), recv.badSigns)
		}
		if got[0]["type"] != "request_resolved" {
			t.Fatalf("json body type %v, want request_resolved", got[0]["type"])
		}
		data, _ := got[0]["data"].(map[string]any)
		if data["ref"] != "REQ-000042" || data["link"] != "https://tiski.example.org/requests/42" {
			t.Fatalf("json body data %v", data)
		}
		if text, _ := got[1]["text"].(string); text != "Request REQ-000042 “New laptop” was resolved. https://tiski.example.org/requests/42" {
			t.Fatalf("chat body %v", got[1])
		}
		log, err := webhooks.Deliveries(context.Background(), d, org.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Outcome != "delivered" || log[0].ResponseCode != 200 || log[0].Kind != "request_resolved" {
			t.Fatalf("delivery log %+v, want one delivered 200 attempt", log)
		}
	})
}

// asAttempt is m as the worker hands it over: its claim counted as an attempt.
func asAttempt(m outbox.Message) outbox.Message {
	m.Attempts++
	return m
}

// TestWebhookRetriesWithBackoffAndLogsEachAttempt: a receiver that answers
// 503 first gets the message again after the outbox's backoff; the log
// shows the failed attempt with its code and the delivered one.
func TestWebhookRetriesWithBackoffAndLogsEachAttempt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := testkit.New(t, d)
		g := allowLoopback(t)
		recv := newReceiver(t)
		sub := subscribe(t, k, g, k.People.Admin, webhooks.Input{Name: "Ops", URL: recv.URL, Kinds: []string{"request_resolved"}})
		recv.secret, recv.answers = sub.Secret, []int{http.StatusServiceUnavailable}
		record(t, k, resolved(k, false))
		now := time.Now()
		w := worker(d, deliverer(t, d, g), func() time.Time { return now })
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m := webhookMessages(t, d)[0]; m.Status != outbox.Pending || m.Attempts != 1 || !m.NextAttemptAt.After(now) {
			t.Fatalf("after a 503: %+v, want pending, 1 attempt, due later", m)
		}
		if n, _ := w.RunOnce(context.Background()); n != 0 {
			t.Fatalf("claimed %d before the backoff ran out", n)
		}
		now = now.Add(time.Hour)
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m := webhookMessages(t, d)[0]; m.Status != outbox.Delivered {
			t.Fatalf("after the retry: %+v, want delivered", m)
		}
		log, err := webhooks.Deliveries(context.Background(), d, sub.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[1].ResponseCode != 503 || log[1].Outcome != "failed" || log[1].Attempt != 1 ||
			log[0].ResponseCode != 200 || log[0].Attempt != 2 || log[0].MessageStatus != outbox.Delivered {
			t.Fatalf("delivery log %+v, want a 503 attempt then a 200 one", log)
		}
		if len(recv.received()) != 1 {
			t.Fatalf("received %d, want 1", len(recv.received()))
		}
	})
}

// TestInternalEventNeverReachesAConsumerUnitSubscription: subscriptions of
// the consumer unit, the provider unit and the organisation all hear the
// kind; an internal event reaches the provider's and the organisation's
// only, a public one all three.
func TestInternalEventNeverReachesAConsumerUnitSubscription(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := testkit.New(t, d)
		g := allowLoopback(t)
		in := func(unit int64) webhooks.Input {
			return webhooks.Input{UnitID: unit, Name: "hook", URL: "http://127.0.0.1:9/", Kinds: []string{"request_resolved"}}
		}
		consumer := subscribe(t, k, g, k.People.Manager, in(k.Units.MKT)) // an ancestor of the consumer unit
		provider := subscribe(t, k, g, k.People.ITManager, in(k.Units.IT))
		org := subscribe(t, k, g, k.People.Admin, in(0))
		other := subscribe(t, k, g, k.People.Admin, in(k.Units.LEGAL)) // not a party
		record(t, k, resolved(k, true))
		got := map[int64]int{}
		for _, m := range webhookMessages(t, d) {
			got[*m.SubscriptionID]++
		}
		if got[consumer.ID] != 0 || got[provider.ID] != 1 || got[org.ID] != 1 || got[other.ID] != 0 {
			t.Fatalf("internal event reached %v; want provider %d and organisation %d only", got, provider.ID, org.ID)
		}
		ev := resolved(k, false)
		ev.ObjectID = 43
		record(t, k, ev)
		got = map[int64]int{}
		for _, m := range webhookMessages(t, d) {
			got[*m.SubscriptionID]++
		}
		if got[consumer.ID] != 1 || got[provider.ID] != 2 || got[org.ID] != 2 || got[other.ID] != 0 {
			t.Fatalf("public event: %v", got)
		}
	})
}

// TestWebhookURLAimedInsideIsRefused: the bad input, a URL aimed
// at 127.0.0.1, 10.0.0.0/8 or 169.254.169.254 (and their kin), is refused
// at subscription time with a clear message, and nothing is stored.
func TestWebhookURLAimedInsideIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := testkit.New(t, d)
		store := &webhooks.Store{Guard: &webhooks.Guard{}, Known: kinds()}
		for _, c := range []struct{ url, want string }{
			{"http://127.0.0.1:8080/hook", "webhooks are not sent to 127.0.0.1"},
			{"http://10.1.2.3/hook", "webhooks are not sent to 10.1.2.3"},
			{"http://169.254.169.254/latest/meta-data/", "webhooks are not sent to 169.254.169.254"},
			{"http://[::1]/hook", "webhooks are not sent to ::1"},
			{"http://[::ffff:10.0.0.1]/hook", "webhooks are not sent to 10.0.0.1"},
			{"http://192.168.1.10/hook", "webhooks are not sent to 192.168.1.10"},
			{"http://localhost/hook", "webhooks are not sent to"},
			{"ftp://example.org/hook", "url must be an http or https address"},
			{"https://user:pw@example.org/hook", "url must not carry a user name or password"},
		} {
			err := d.InTx(context.Background(), func(tx bun.Tx) error {
				_, err := store.Create(context.Background(), tx, k.People.Admin,
					webhooks.Input{Name: "x", URL: c.url, Kinds: []string{"request_resolved"}}, time.Now())
				return err
			})
			if !fault.Is(err, fault.KindInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want an invalid fault saying %q", c.url, err, c.want)
			}
		}
		for _, in := range []webhooks.Input{
			{Name: "", URL: "https://198.51.100.7/", Kinds: []string{"request_resolved"}},
			{Name: "x", URL: "https://198.51.100.7/", Kinds: nil},
			{Name: "x", URL: "https://198.51.100.7/", Kinds: []string{"no_such_kind"}},
			{Name: "x", URL: "https://198.51.100.7/", Format: "xml", Kinds: []string{"request_resolved"}},
		} {
			err := d.InTx(context.Background(), func(tx bun.Tx) error {
				_, err := store.Create(context.Background(), tx, k.People.Admin, in, time.Now())
				return err
			})
			if !fault.Is(err, fault.KindInvalid) {
				t.Errorf("%+v: %v, want an invalid fault", in, err)
			}
		}
		n, err := d.NewSelect().Table("webhook_subscriptions").Count(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("subscriptions stored after refusals: %d, %v", n, err)
		}
	})
}

// TestDiallerRefusesLoopbackEvenWhenTheSubscriptionPassed is the DNS
// rebinding case: the address checked at subscription time is not the one
// trusted at delivery. The subscription was made while loopback was
// allowed; the sender now runs without the allow setting, and the dialler,
// checking the address it actually connects to, refuses: nothing reaches
// the receiver, the message fails for good and the log says why.
func TestDiallerRefusesLoopbackEvenWhenTheSubscriptionPassed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := testkit.New(t, d)
		recv := newReceiver(t)
		sub := subscribe(t, k, allowLoopback(t), k.People.Admin, webhooks.Input{Name: "Ops", URL: recv.URL, Kinds: []string{"request_resolved"}})
		recv.secret = sub.Secret
		record(t, k, resolved(k, false))
		w := worker(d, deliverer(t, d, &webhooks.Guard{}), time.Now)
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(recv.received()) != 0 || recv.badSigns != 0 {
			t.Fatal("the receiver on loopback was reached without the allow setting")
		}
		if m := webhookMessages(t, d)[0]; m.Status != outbox.Failed || !strings.Contains(m.LastError, "refused address") {
			t.Fatalf("message %+v, want failed with the refusal", m)
		}
		log, err := webhooks.Deliveries(context.Background(), d, sub.ID, 0, 10)
		if err != nil || len(log) != 1 || !strings.Contains(log[0].Error, "loopback") || log[0].ResponseCode != 0 {
			t.Fatalf("delivery log %+v, %v", log, err)
		}
	})
}

// TestGuardPermits covers the ranges one by one, and the allow setting.
func TestGuardPermits(t *testing.T) {
	allow, err := webhooks.ParseAllow("10.20.0.0/16, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	open := &webhooks.Guard{Allow: allow}
	plain := &webhooks.Guard{}
	for _, c := range []struct {
		addr        string
		plain, open bool
	}{
		{"127.0.0.1", false, true}, {"127.0.0.2", false, false}, {"10.20.3.4", false, true}, {"10.21.0.1", false, false},
		{"169.254.169.254", false, false}, {"172.16.5.5", false, false}, {"192.168.0.1", false, false},
		{"100.64.0.1", false, false}, {"0.0.0.0", false, false}, {"::1", false, false}, {"fd00:ec2::254", false, false},
		{"fe80::1", false, false}, {"::ffff:127.0.0.1", false, true}, {"198.51.100.7", true, true}, {"2001:db8::1", true, true},
	} {
		a := netip.MustParseAddr(c.addr)
		if plain.Permits(a) != c.plain || open.Permits(a) != c.open {
			t.Errorf("%s: permits %v/%v, want %v/%v", c.addr, plain.Permits(a), open.Permits(a), c.plain, c.open)
		}
	}
	if _, err := webhooks.ParseAllow("10.0.0.0/33"); err == nil {
		t.Error("a bad range was accepted")
	}
}

// TestSignatureMatchesTheStandardWebhooksVector: the example of the
// Standard Webhooks specification signs to its published signature.
func TestSignatureMatchesTheStandardWebhooksVector(t *testing.T) {
	sig, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
	if err := webhooks.Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		"v1,bogus "+sig, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := webhooks.Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		sig, []byte(`{"test": 2432232315}`), time.Unix(1614265330, 0), time.Minute); err == nil {
		t.Fatal("a changed body verified")
	}
}
