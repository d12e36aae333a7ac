package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
)

// Deliverer sends the outbox's webhook channel.
type Deliverer struct {
	DB      bun.IDB
	Guard   *Guard
	Catalog *i18n.Catalog
	BaseURL string        // for the links in bodies (TISKI_BASE_URL)
	Timeout time.Duration // per request (10 s); keep it below the outbox lease
	Now     func() time.Time

	once   sync.Once
	client *http.Client
}

// Payload is the JSON body, in the Standard Webhooks shape: type,
// timestamp, data.
type Payload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      PayloadData `json:"data"`
}

// PayloadData is what the event says.
type PayloadData struct {
	EventID    string            `json:"event_id"`
	ObjectType string            `json:"object_type"`
	ObjectID   string            `json:"object_id"`
	Ref        string            `json:"ref"`
	Title      string            `json:"title"`
	Note       string            `json:"note,omitempty"`
	Link       string            `json:"link"`
	Text       string            `json:"text"`
	Args       map[string]string `json:"args"`
}

// MessageID is the webhook-id of the message of event to subscription: the
// same on every retry, so a receiver can drop a duplicate.
func MessageID(eventID, subscriptionID int64) string {
	return fmt.Sprintf("tiski_%d_%d", eventID, subscriptionID)
}

// Deliver signs and posts one message and logs the attempt. A 2xx answer
// delivers it; a refused address, a gone subscription or a 4xx answer
// (but 408 and 429) fail it for good; anything else is retried.
func (d *Deliverer) Deliver(ctx context.Context, m outbox.Message) error {
	if m.SubscriptionID == nil {
		return outbox.Permanent(errors.New("a webhook message without a subscription"))
	}
	sub, err := Get(ctx, d.DB, *m.SubscriptionID)
	if err != nil {
		if fault.Is(err, fault.KindNotFound) {
			return d.logged(ctx, m, 0, outbox.Permanent(fmt.Errorf("subscription %d was deleted", *m.SubscriptionID)))
		}
		return err
	}
	ev, err := notify.GetEvent(ctx, d.DB, m.EventID)
	if err != nil {
		if fault.Is(err, fault.KindNotFound) {
			return outbox.Permanent(err)
		}
		return err
	}
	body, err := d.Body(sub, *ev)
	if err != nil {
		return outbox.Permanent(err)
	}
	code, err := d.post(ctx, sub, MessageID(ev.ID, sub.ID), body)
	return d.logged(ctx, m, code, err)
}

// Body renders the body of ev for sub in its format.
func (d *Deliverer) Body(sub *Subscription, ev notify.StoredEvent) ([]byte, error) {
	args := ev.Args()
	link := strings.TrimRight(d.BaseURL, "/") + notify.LinkOf(ev)
	text := d.Catalog.T(sub.Locale, "webhook.chat."+string(ev.Kind), args["ref"], args["title"])
	if sub.Format == FormatChat {
		return json.Marshal(map[string]string{"text": text + " " + link})
	}
	return json.Marshal(Payload{Type: string(ev.Kind), Timestamp: ev.At.UTC(), Data: PayloadData{
		EventID: strconv.FormatInt(ev.ID, 10), ObjectType: ev.ObjectType, ObjectID: strconv.FormatInt(ev.ObjectID, 10),
		Ref: args["ref"], Title: args["title"], Note: args["note"], Link: link, Text: text, Args: args}})
}

func (d *Deliverer) post(ctx context.Context, sub *Subscription, id string, body []byte) (int, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	at := now()
	sig, err := Sign(sub.Secret, id, at, body)
	if err != nil {
		return 0, outbox.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return 0, outbox.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tiski-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := d.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, errRefusedAddress) {
			return 0, outbox.Permanent(err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection can be reused
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return c, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return c, fmt.Errorf("the receiver answered %d: %s", c, strings.TrimSpace(string(snippet)))
	default:
		return c, outbox.Permanent(fmt.Errorf("the receiver answered %d: %s", c, strings.TrimSpace(string(snippet))))
	}
}

func (d *Deliverer) httpClient() *http.Client {
	d.once.Do(func() {
		timeout := d.Timeout
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		d.client = d.Guard.Client(timeout)
	})
	return d.client
}

// logged writes the attempt to the delivery log and returns err. The log
// is written even when serve is stopping, like the outbox's outcome.
func (d *Deliverer) logged(ctx context.Context, m outbox.Message, code int, err error) error {
	row := &Delivery{OutboxID: m.ID, SubscriptionID: *m.SubscriptionID, EventID: m.EventID, Attempt: m.Attempts,
		Outcome: outbox.Delivered, ResponseCode: code, At: time.Now().UTC()}
	if err != nil {
		row.Outcome, row.Error = outbox.Failed, err.Error()
		if len(row.Error) > 1000 {
			row.Error = row.Error[:1000]
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// A log row that cannot be written loses only the log: the outcome
	// stands, and the outbox row records it.
	_, _ = d.DB.NewInsert().Model(row).Exec(ctx)
	return err
}
