package mail_test

import (
	"context"
	"mime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/mail"
	"github.com/tiski/tiski/mail/smtptest"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

// TestARequestsLifeMailsTheRightPeopleInTheirLanguage files an order that
// needs approval and works it to resolution, with an internal comment on
// the way, against a real SMTP server that refuses the first delivery. The
// Finnish requester gets four mails in Finnish (receipt, approved, the
// provider's public comment, resolved), the manager the approval and the
// agent the new request in the queue and the assignment, in English; nobody on the consumer side reads the
// internal comment; after the forced retry every message arrived once; one
// request is one thread with a reply address that routes to it.
func TestARequestsLifeMailsTheRightPeopleInTheirLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		w := newMailWorld(t, d)
		var r *requests.Request
		steps := []struct {
			name string
			fn   func(tx bun.Tx) error
		}{
			{"submit", func(tx bun.Tx) (err error) {
				r, err = requests.Submit(ctx, tx, w.viewer(w.People.Member), w.Org, requests.Order{ServiceID: w.Services.Phone.ID, ConsumerUnitID: w.Units.MKT, Title: "Kannettava"}, at)
				return err
			}},
			{"approve", w.act(ctx, &r, w.People.Manager, "approve", 0, at)},
			{"assign", w.act(ctx, &r, w.People.ITManager, "assign", w.People.Agent, at)},
			{"start", w.act(ctx, &r, w.People.Agent, "start", 0, at)},
			{"internal comment", func(tx bun.Tx) error {
				_, err := requests.AddComment(ctx, tx, w.viewer(w.People.Agent), r.ID, "secret: the old one was dropped", true, at)
				return err
			}},
			{"public comment", func(tx bun.Tx) error {
				_, err := requests.AddComment(ctx, tx, w.viewer(w.People.Agent), r.ID, "It ships on Monday.", false, at)
				return err
			}},
			{"resolve", w.act(ctx, &r, w.People.Agent, "resolve", 0, at)},
		}
		for _, s := range steps {
			if err := d.InTx(ctx, s.fn); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}

		server := smtptest.Start(t)
		server.FailNext(1)
		host, port, _ := strings.Cut(server.Addr, ":")
		cfg, _, err := mail.ParseConfig("smtp://"+host+":"+port, "Tiski <tiski@example.org>", "https://tiski.example.org")
		if err != nil {
			t.Fatal(err)
		}
		cat, err := i18n.New()
		if err != nil {
			t.Fatal(err)
		}
		key, err := mail.ReplyKey(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		now := at
		worker := &outbox.Worker{DB: d, Now: func() time.Time { return now }, Backoff: time.Minute,
			Channels: map[string]outbox.Deliverer{outbox.ChannelEmail: &mail.Sender{DB: d, Config: cfg, Catalog: cat, ReplyKey: key}}}
		for range 3 {
			if _, err := worker.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Hour) // past the refused message's retry
		}
		got := server.Messages()
		byTo := map[string][]smtptest.Message{}
		ids := map[string]int{}
		for _, m := range got {
			byTo[m.To[0]] = append(byTo[m.To[0]], m)
			ids[m.Header.Get("Message-ID")]++
		}
		if len(got) != 7 || len(ids) != 7 {
			t.Fatalf("%d messages with %d Message-IDs arrived, want 7 once each: %v", len(got), len(ids), ids)
		}
		pending, _ := outbox.List(ctx, d, outbox.Pending, 0, 10)
		if len(pending) != 0 {
			t.Fatalf("%d messages still pending", len(pending))
		}
		wantSubjects := map[string][]string{
			"member@example.org":  {"Pyyntö vastaanotettu", "Pyyntö hyväksytty", "Uusi kommentti palvelun tarjoajalta", "Pyyntö ratkaistu"},
			"manager@example.org": {"Waiting for your approval"},
			"agent@example.org":   {"New request in your queue", "Assigned to you"},
		}
		dec := new(mimeDecoder)
		for to, subjects := range wantSubjects {
			mails := byTo[to]
			if len(mails) != len(subjects) {
				t.Fatalf("%s got %d mails, want %d", to, len(mails), len(subjects))
			}
			for _, m := range mails {
				subject := dec.decode(t, m.Header.Get("Subject"))
				if !strings.HasPrefix(subject, "[REQ-") || !containsAny(subject, subjects) {
					t.Errorf("%s: subject %q, want one of %v", to, subject, subjects)
				}
				if strings.Contains(m.Text, "secret") || strings.Contains(m.HTML, "secret") {
					t.Errorf("%s read the internal comment: %q", to, m.Text)
				}
				if m.Header.Get("In-Reply-To") != "<tiski.request."+itoa(r.ID)+"@example.org>" || m.Header.Get("References") == "" {
					t.Errorf("%s: threading %q / %q", to, m.Header.Get("In-Reply-To"), m.Header.Get("References"))
				}
				replyTo, err := m.Header.AddressList("Reply-To")
				if err != nil || len(replyTo) != 1 {
					t.Fatalf("%s: reply-to %v", to, err)
				}
				if id, ok := mail.ParseReplyAddress(replyTo[0].Address, key); !ok || id != r.ID {
					t.Errorf("%s: reply-to %s routes to %d", to, replyTo[0].Address, id)
				}
			}
		}
		commented := 0
		for _, m := range byTo["member@example.org"] {
			if strings.Contains(m.Text, "> It ships on Monday.") && strings.Contains(m.HTML, "It ships on Monday.") {
				commented++
			}
		}
		if commented != 1 {
			t.Errorf("%d of the requester's mails quote the provider's comment, want 1", commented)
		}
		// The resolution mail carries a one-click rating link that rates once.
		var rateURL string
		for _, m := range byTo["member@example.org"] {
			if i := strings.Index(m.Text, "https://tiski.example.org"+requests.RatingPath); i >= 0 {
				if rateURL != "" {
					t.Fatal("two of the requester's mails carry a rating link")
				}
				rateURL = strings.Fields(m.Text[i:])[0]
				if !strings.Contains(m.HTML, `href="`+rateURL+`"`) || !strings.Contains(m.Text, "Arvioi yhdellä napsautuksella") {
					t.Errorf("the rating link is not in the HTML part or not in Finnish: %s", m.Text)
				}
			}
		}
		token := strings.TrimPrefix(rateURL, "https://tiski.example.org"+requests.RatingPath)
		rate := func() error {
			return d.InTx(ctx, func(tx bun.Tx) error {
				_, err := requests.RateByLink(ctx, tx, w.Authz, token, 5, "", at.Add(time.Hour))
				return err
			})
		}
		if err := rate(); err != nil {
			t.Fatalf("rate by the mailed link %q: %v", rateURL, err)
		}
		if err := rate(); err == nil {
			t.Fatal("the mailed link rated twice")
		}
	})
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// mailWorld is the standard organisation with its member reading Finnish:
// the member orders IT's PHONE, which MKT's manager approves.
type mailWorld struct {
	*testkit.Kit
}

func newMailWorld(t *testing.T, d *db.DB) *mailWorld {
	t.Helper()
	k := testkit.New(t, d)
	k.Do(t, func(ctx context.Context, tx bun.Tx) error {
		fi := "fi"
		_, err := units.UpdateUser(ctx, tx, 0, k.People.Member, units.UserChange{Locale: &fi})
		return err
	})
	return &mailWorld{Kit: k}
}

func (w *mailWorld) viewer(id int64) requests.Viewer {
	return requests.Viewer{UserID: id, Authz: w.Authz}
}

func (w *mailWorld) act(ctx context.Context, r **requests.Request, who int64, name string, assignee int64, at time.Time) func(tx bun.Tx) error {
	return func(tx bun.Tx) (err error) {
		*r, err = requests.Act(ctx, tx, w.viewer(who), w.Org, (*r).ID, requests.Action{Name: name, Version: (*r).Version, AssigneeID: assignee}, at)
		return err
	}
}

type mimeDecoder struct{}

func (mimeDecoder) decode(t *testing.T, s string) string {
	t.Helper()
	out, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
