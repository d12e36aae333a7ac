package mailin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

var now = testkit.Time(2026, 12, 8, 10, 0)

func setup(t *testing.T, d *db.DB) (*testkit.Kit, mailin.Deps) {
	k := testkit.New(t, d)
	k.Do(t, func(ctx context.Context, tx bun.Tx) error {
		_, err := mailin.SetAddress(ctx, tx, k.Authz, k.People.ITManager, k.Units.IT, "it-desk@example.org", k.Services.Help.ID, now)
		return err
	})
	return k, mailin.Deps{DB: d, Authz: k.Authz, Org: k.Org, MaxBytes: 1 << 20}
}

func msg(headers, body string) string {
	return strings.ReplaceAll(headers, "\n", "\r\n") + "\r\n" + body
}

func accept(t *testing.T, d mailin.Deps, raw string) *mailin.Message {
	t.Helper()
	m, err := mailin.Accept(context.Background(), d, strings.NewReader(raw), now)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return m
}

func TestAcceptFilesRequestOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		raw := msg("From: Member <member@example.org>\nTo: IT desk <it-desk@example.org>\nSubject: My laptop is slow\nMessage-ID: <a1@example.org>\nContent-Type: text/plain; charset=utf-8\n", "It takes ten minutes to start.\r\n")
		m := accept(t, deps, raw)
		if m.Outcome != mailin.OutcomeRequest || m.RequestID == nil || m.Duplicate {
			t.Fatalf("outcome %s request %v duplicate %v (%s %s)", m.Outcome, m.RequestID, m.Duplicate, m.Reason, m.Detail)
		}
		r, err := requests.Get(context.Background(), d, requests.Viewer{UserID: k.People.Member, Authz: k.Authz}, *m.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Title != "My laptop is slow" || r.Description != "It takes ten minutes to start." || r.Channel != "email" ||
			r.RequesterID != k.People.Member || r.ConsumerUnitID != k.Units.MKT || r.ServiceID != k.Services.Help.ID {
			t.Fatalf("request %+v", r)
		}
		again := accept(t, deps, raw)
		if !again.Duplicate || again.ID != m.ID {
			t.Fatalf("second delivery: %+v", again)
		}
		var n int
		if err := d.NewSelect().Table("requests").ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil || n != 1 {
			t.Fatalf("requests %d, %v", n, err)
		}

		reply := msg(fmt.Sprintf("From: member@example.org\nTo: it-desk@example.org\nSubject: Re: %s\nMessage-ID: <a2@example.org>\nReferences: <tiski.request.%d@example.org>\n", r.Number(), r.ID),
			"Still slow today.\r\n\r\nOn Mon, 7 Dec 2026, IT wrote:\r\n> What model is it?\r\n")
		c := accept(t, deps, reply)
		if c.Outcome != mailin.OutcomeComment || c.CommentID == nil || *c.RequestID != r.ID {
			t.Fatalf("reply: %+v", c)
		}
		comments, err := requests.Comments(context.Background(), d, requests.Viewer{UserID: k.People.Member, Authz: k.Authz}, r.ID, 0, 10)
		if err != nil || len(comments) != 1 || comments[0].Body != "Still slow today." || comments[0].Internal || comments[0].AuthorID != k.People.Member {
			t.Fatalf("comments %+v, %v", comments, err)
		}
	})
}

func TestAcceptQuarantinesWhatItCannotTake(t *testing.T) {
	big := strings.Repeat("QUFBQUFBQUFB\r\n", (2<<20)/14)
	cases := []struct {
		name   string
		raw    string
		reason mailin.Reason
	}{
		{"unknown sender", msg("From: stranger@elsewhere.test\nTo: it-desk@example.org\nSubject: Hi\nMessage-ID: <q1@x>\n", "hello\r\n"), mailin.ReasonUnknownSender},
		{"spoofed display name", msg("From: \"member@example.org\" <evil@elsewhere.test>\nTo: it-desk@example.org\nSubject: Hi\nMessage-ID: <q2@x>\n", "pay this\r\n"), mailin.ReasonSpoofedSender},
		{"user without a unit", msg("From: auditor@example.org\nTo: it-desk@example.org\nSubject: Hi\nMessage-ID: <q3@x>\n", "hello\r\n"), mailin.ReasonNoUnit},
		{"auto reply", msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <q4@x>\n", "away\r\n"), mailin.ReasonAutoReply},
		{"bulk", msg("From: member@example.org\nTo: it-desk@example.org\nSubject: News\nPrecedence: bulk\nMessage-ID: <q5@x>\n", "news\r\n"), mailin.ReasonAutoReply},
		{"mailer daemon", msg("From: MAILER-DAEMON@example.org\nTo: it-desk@example.org\nSubject: Undelivered\nMessage-ID: <q6@x>\n", "failed\r\n"), mailin.ReasonBounce},
		{"delivery report", msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Report\nMessage-ID: <q7@x>\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n", "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"), mailin.ReasonBounce},
		{"header injection in subject", msg("From: member@example.org\nTo: it-desk@example.org\nSubject: =?utf-8?q?Hi=0D=0ABcc:_all@example.org?=\nMessage-ID: <q8@x>\n", "x\r\n"), mailin.ReasonHostileHeader},
		{"header injection in name", msg("From: =?utf-8?q?Ann=0ABcc:_x@y?= <member@example.org>\nTo: it-desk@example.org\nSubject: Hi\nMessage-ID: <q9@x>\n", "x\r\n"), mailin.ReasonMalformed}, // net/mail refuses the decoded line break
		{"html with script", msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Hi\nMessage-ID: <q10@x>\nContent-Type: text/html\n", "<p>hi</p><script>alert(1)</script>\r\n"), mailin.ReasonHTMLScript},
		{"malformed", "this is not a message at all", mailin.ReasonMalformed},
		{"oversized attachment", msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Big\nMessage-ID: <q11@x>\nContent-Type: multipart/mixed; boundary=b\n", "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"+big+"--b--\r\n"), mailin.ReasonOversized},
		{"no inbound address", msg("From: member@example.org\nTo: someone@example.org\nSubject: Hi\nMessage-ID: <q12@x>\n", "x\r\n"), mailin.ReasonNoAddress},
		{"reply by a stranger to the request", msg("From: finance@example.org\nTo: it-desk@example.org\nSubject: Re: REQ-000001\nMessage-ID: <q13@x>\n", "x\r\n"), mailin.ReasonNotAParty},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		first := accept(t, deps, msg("From: member@example.org\nTo: it-desk@example.org\nSubject: First\nMessage-ID: <first@x>\n", "x\r\n"))
		if first.Outcome != mailin.OutcomeRequest || *first.RequestID != 1 {
			t.Fatalf("first: %+v", first)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				m := accept(t, deps, c.raw)
				if m.Outcome != mailin.OutcomeQuarantined || m.Reason != c.reason || m.ID == 0 || m.RequestID != nil {
					t.Fatalf("got %s %s (%s)", m.Outcome, m.Reason, m.Detail)
				}
			})
		}
		var n, outbox int
		ctx := context.Background()
		if err := d.NewSelect().Table("requests").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 1 {
			t.Fatalf("requests %d, %v", n, err)
		}
		if err := d.NewSelect().Table("request_comments").ColumnExpr("count(*)").Scan(ctx, &outbox); err != nil || outbox != 0 {
			t.Fatalf("comments %d, %v", outbox, err)
		}
		agentSees, err := mailin.Quarantine(ctx, d, k.Authz, k.People.Agent, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		adminSees, _ := mailin.Quarantine(ctx, d, k.Authz, k.People.Admin, 0, 100)
		memberSees, _ := mailin.Quarantine(ctx, d, k.Authz, k.People.Member, 0, 100)
		if len(agentSees) == 0 || len(adminSees) == 0 || len(memberSees) != 0 {
			t.Fatalf("agent %d admin %d member %d", len(agentSees), len(adminSees), len(memberSees))
		}
	})
}

func TestQuarantineFileAndDiscard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		ctx := context.Background()
		q := accept(t, deps, msg("From: Member at home <member@home.test>\nTo: it-desk@example.org\nSubject: Printer broken\nMessage-ID: <p1@x>\n", "The printer on floor 3.\r\n"))
		if q.Reason != mailin.ReasonUnknownSender {
			t.Fatalf("%+v", q)
		}
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := mailin.File(ctx, tx, deps, k.People.Member, q.ID, mailin.Filing{RequesterID: k.People.Member}, now)
			return err
		}); err == nil {
			t.Fatal("a member filed from the quarantine")
		}
		var r *requests.Request
		k.Do(t, func(ctx context.Context, tx bun.Tx) (err error) {
			r, err = mailin.File(ctx, tx, deps, k.People.Agent, q.ID, mailin.Filing{RequesterID: k.People.Member}, now)
			return err
		})
		if r.Title != "Printer broken" || r.RequesterID != k.People.Member || r.Channel != "email" || r.ConsumerUnitID != k.Units.MKT {
			t.Fatalf("%+v", r)
		}
		got, _ := mailin.GetMessage(ctx, d, q.ID)
		if got.Outcome != mailin.OutcomeFiled || *got.RequestID != r.ID || *got.DecidedBy != k.People.Agent {
			t.Fatalf("%+v", got)
		}
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			return mailin.Discard(ctx, tx, k.Authz, k.People.Agent, q.ID, "twice", now)
		}); err == nil {
			t.Fatal("a filed message was discarded")
		}
		q2 := accept(t, deps, msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Auto\nAuto-Submitted: auto-generated\nMessage-ID: <p2@x>\n", "x\r\n"))
		k.Do(t, func(ctx context.Context, tx bun.Tx) error {
			return mailin.Discard(ctx, tx, k.Authz, k.People.Agent, q2.ID, "an auto-reply", now)
		})
		var events int
		if err := d.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("object_type = 'inbound_message'").Scan(ctx, &events); err != nil || events != 2 {
			t.Fatalf("audit events %d, %v", events, err)
		}
		left, _ := mailin.Quarantine(ctx, d, k.Authz, k.People.Agent, 0, 10)
		if len(left) != 0 {
			t.Fatalf("left %d", len(left))
		}
	})
}
