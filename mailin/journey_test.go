package mailin_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/mail"
	"github.com/tiski/tiski/mail/smtptest"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

// TestEmailJourney: a member orders a laptop by e-mail (read from the IMAP
// server); the manager gets the approval mail (from the SMTP server the
// test reads) and approves; the agent answers by e-mail; the member gets
// that answer by mail and replies to its Reply-To address without any
// threading header; the reply lands as the member's comment with the
// quoted answer cut. Every message in the mailbox is flagged, nothing is
// quarantined.
func TestEmailJourney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := testkit.New(t, d, testkit.Approval("LAPTOP", "always"))
		k.Do(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := mailin.SetAddress(ctx, tx, k.Authz, k.People.ITManager, k.Units.IT, "it-desk@example.org", k.Services.Laptop.ID, now)
			return err
		})
		deps := mailin.Deps{DB: d, Authz: k.Authz, Org: k.Org}
		clk := &clock{at: now}
		peer := startIMAP(t)
		p := readIMAP(t, k, deps, peer, clk, "one")

		smtp := smtptest.Start(t)
		host, port, _ := net.SplitHostPort(smtp.Addr)
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
		worker := &outbox.Worker{DB: d, Now: clk.Now, Channels: map[string]outbox.Deliverer{
			outbox.ChannelEmail: &mail.Sender{DB: d, Config: cfg, Catalog: cat, ReplyKey: key}}}
		deliver := func() {
			t.Helper()
			if _, err := worker.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		readMailbox := func(want int) {
			t.Helper()
			clk.Add(time.Minute)
			if n := pollDue(t, p); n != want {
				t.Fatalf("took %d messages, want %d", n, want)
			}
		}
		mailsTo := func(to string) []smtptest.Message {
			var out []smtptest.Message
			for _, m := range smtp.Messages() {
				if m.To[0] == to {
					out = append(out, m)
				}
			}
			return out
		}

		// The member orders by e-mail.
		peer.deliver(t, msg("From: Member <member@example.org>\nTo: IT desk <it-desk@example.org>\nSubject: A new laptop\nMessage-ID: <j1@example.org>\n",
			"Mine no longer charges.\r\n"))
		readMailbox(1)
		var in mailin.Message
		if err := d.NewSelect().Model(&in).Where("message_key = ?", "mid:j1@example.org").Scan(ctx); err != nil || in.RequestID == nil {
			t.Fatalf("the order: %+v, %v", in, err)
		}
		member := requests.Viewer{UserID: k.People.Member, Authz: k.Authz}
		r, err := requests.Get(ctx, d, member, *in.RequestID)
		if err != nil || r.Title != "A new laptop" || r.ServiceID != k.Services.Laptop.ID || r.Channel != "email" {
			t.Fatalf("request %+v, %v", r, err)
		}

		// The manager is asked, by mail, and approves.
		deliver()
		asked := 0
		for _, m := range mailsTo("manager@example.org") {
			if strings.Contains(m.Header.Get("Subject"), r.Number()) && strings.Contains(m.Header.Get("Subject"), "approval") {
				asked++
			}
		}
		if asked != 1 {
			t.Fatalf("the manager got %d approval mails: %+v", asked, mailsTo("manager@example.org"))
		}
		k.Do(t, func(ctx context.Context, tx bun.Tx) (err error) {
			r, err = requests.Act(ctx, tx, requests.Viewer{UserID: k.People.Manager, Authz: k.Authz}, k.Org, r.ID,
				requests.Action{Name: "approve", Version: r.Version}, clk.Now())
			return err
		})

		// The agent answers by e-mail, in the request's thread.
		peer.deliver(t, msg(fmt.Sprintf("From: agent@example.org\nTo: it-desk@example.org\nSubject: Re: [%s] A new laptop\nMessage-ID: <j2@example.org>\nIn-Reply-To: <tiski.request.%d@example.org>\n", r.Number(), r.ID),
			"Which keyboard layout would you like?\r\n"))
		readMailbox(1)

		// The member reads the answer in their mail and replies to it.
		deliver()
		var answer *smtptest.Message
		for _, m := range mailsTo("member@example.org") {
			if strings.Contains(m.Text, "Which keyboard layout would you like?") {
				answer = &m
			}
		}
		if answer == nil {
			t.Fatalf("the member never got the answer: %+v", mailsTo("member@example.org"))
		}
		replyTo, err := answer.Header.AddressList("Reply-To")
		if err != nil || len(replyTo) != 1 {
			t.Fatalf("reply-to of the answer: %v", err)
		}
		peer.deliver(t, msg(fmt.Sprintf("From: member@example.org\nTo: %s\nSubject: Re: a new comment\nMessage-ID: <j3@example.org>\n", replyTo[0].Address),
			"Finnish, please.\r\n\r\nOn Tue, 8 Dec 2026, Tiski wrote:\r\n> Which keyboard layout would you like?\r\n"))
		readMailbox(1)

		comments, err := requests.Comments(ctx, d, member, r.ID, 0, 10)
		if err != nil || len(comments) != 2 {
			t.Fatalf("comments %+v, %v", comments, err)
		}
		if comments[0].AuthorID != k.People.Agent || comments[0].Body != "Which keyboard layout would you like?" || comments[0].Internal ||
			comments[1].AuthorID != k.People.Member || comments[1].Body != "Finnish, please." || comments[1].Internal {
			t.Fatalf("comments %+v", comments)
		}
		if total, seen := peer.flags(t); total != 3 || seen != 3 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
		if n := count(t, d, "inbound_messages", "outcome = ?", mailin.OutcomeQuarantined); n != 0 {
			t.Fatalf("%d messages quarantined", n)
		}
	})
}
