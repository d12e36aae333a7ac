package mailin_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

// clock is the pollers' time, moved by the test.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

// readIMAP has IT's inbound address read from the peer's mailbox every
// minute, and returns a poller on the test's clock.
func readIMAP(t *testing.T, k *testkit.Kit, deps mailin.Deps, peer *imapPeer, clk *clock, owner string) *mailin.Poller {
	t.Helper()
	host, port, _ := net.SplitHostPort(peer.Addr)
	n, _ := strconv.Atoi(port)
	k.Do(t, func(ctx context.Context, tx bun.Tx) error {
		_, err := mailin.SetMailbox(ctx, tx, 0, k.Units.IT, mailin.Mailbox{Host: host, Port: n, TLSMode: peer.Mode,
			Username: "desk", Password: "secret", Folder: "INBOX", PollSeconds: 60}, clk.Now())
		return err
	})
	p := poller(deps, clk, owner)
	p.TLS = peer.ClientTLS
	return p
}

func poller(deps mailin.Deps, clk *clock, owner string) *mailin.Poller {
	return &mailin.Poller{Deps: deps, Owner: owner, Now: clk.Now, Lease: time.Minute}
}

func count(t *testing.T, d *db.DB, table, where string, args ...any) int {
	t.Helper()
	q := d.NewSelect().Table(table).ColumnExpr("count(*)")
	if where != "" {
		q = q.Where(where, args...)
	}
	var n int
	if err := q.Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func pollDue(t *testing.T, p *mailin.Poller) int {
	t.Helper()
	n, err := p.PollDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIMAPMailboxFilesRequestsCommentsAndQuarantine reads a real IMAP
// server: a new message becomes a request, an auto-reply and a stranger's
// message land in the quarantine, and each is flagged \Seen only once its
// row is committed (the server checks, as each STORE arrives, that the
// database already holds as many messages as have been flagged); a reply
// read at the next poll becomes a comment on the request.
func TestIMAPMailboxFilesRequestsCommentsAndQuarantine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		peer := startIMAP(t)
		clk := &clock{at: now}
		p := readIMAP(t, k, deps, peer, clk, "one")
		flagged := 0
		peer.onStore(func() error {
			flagged++
			if n := count(t, d, "inbound_messages", ""); n < flagged {
				t.Errorf("message %d flagged \\Seen with %d committed", flagged, n)
			}
			return nil
		})
		peer.deliver(t, msg("From: Member <member@example.org>\nTo: it-desk@example.org\nSubject: Printer jams\nMessage-ID: <imap1@example.org>\n", "Every second page.\r\n"))
		peer.deliver(t, msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <imap2@example.org>\n", "Away until Monday.\r\n"))
		peer.deliver(t, msg("From: stranger@elsewhere.test\nTo: it-desk@example.org\nSubject: Hello\nMessage-ID: <imap3@example.org>\n", "Who are you?\r\n"))

		if n := pollDue(t, p); n != 3 {
			t.Fatalf("took %d messages, want 3", n)
		}
		if total, seen := peer.flags(t); total != 3 || seen != 3 || flagged != 3 {
			t.Fatalf("%d messages, %d seen, %d flagged", total, seen, flagged)
		}
		ctx := context.Background()
		var rows []mailin.Message
		if err := d.NewSelect().Model(&rows).OrderExpr("id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0].Outcome != mailin.OutcomeRequest || rows[1].Reason != mailin.ReasonAutoReply ||
			rows[2].Reason != mailin.ReasonUnknownSender {
			t.Fatalf("messages %+v", rows)
		}
		member := requests.Viewer{UserID: k.People.Member, Authz: k.Authz}
		r, err := requests.Get(ctx, d, member, *rows[0].RequestID)
		if err != nil || r.Title != "Printer jams" || r.Channel != "email" {
			t.Fatalf("request %+v, %v", r, err)
		}

		peer.deliver(t, msg(fmt.Sprintf("From: member@example.org\nTo: it-desk@example.org\nSubject: Re: %s\nMessage-ID: <imap4@example.org>\nIn-Reply-To: <tiski.request.%d@example.org>\n", r.Number(), r.ID),
			"It jams on A3 too.\r\n\r\n> Which paper?\r\n"))
		if n := pollDue(t, p); n != 0 {
			t.Fatalf("read %d messages before the poll interval passed", n)
		}
		clk.Add(time.Minute)
		if n := pollDue(t, p); n != 1 {
			t.Fatalf("took %d replies, want 1", n)
		}
		comments, err := requests.Comments(ctx, d, member, r.ID, 0, 10)
		if err != nil || len(comments) != 1 || comments[0].Body != "It jams on A3 too." {
			t.Fatalf("comments %+v, %v", comments, err)
		}
		if total, seen := peer.flags(t); total != 4 || seen != 4 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
		boxes, err := mailin.Mailboxes(ctx, d)
		if err != nil || len(boxes) != 1 || boxes[0].Taken != 4 || boxes[0].Failures != 0 || boxes[0].Address != "it-desk@example.org" {
			t.Fatalf("mailboxes %+v, %v", boxes, err)
		}
	})
}

// TestIMAPServerDownThenUp: while the server is down the poll fails, the
// error is on the mailbox for `tiski mail status` and the next try waits;
// once the server is back the message arrives, once. A message whose
// request was committed but whose flag never reached the server (a crash
// between the two) is read again, found by its Message-ID, and flagged.
func TestIMAPServerDownThenUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		peer := startIMAP(t)
		clk := &clock{at: now}
		p := readIMAP(t, k, deps, peer, clk, "one")
		raw := msg("From: member@example.org\nTo: it-desk@example.org\nSubject: VPN drops\nMessage-ID: <down1@example.org>\n", "Every hour.\r\n")
		peer.deliver(t, raw)
		peer.down()

		if n := pollDue(t, p); n != 0 {
			t.Fatalf("took %d with the server down", n)
		}
		ctx := context.Background()
		boxes, err := mailin.Mailboxes(ctx, d)
		if err != nil || len(boxes) != 1 || boxes[0].Failures != 1 || boxes[0].LastError == "" || boxes[0].LastOKAt != nil {
			t.Fatalf("mailbox after a failed read %+v, %v", boxes, err)
		}
		if s := boxes[0].Status(); !strings.Contains(s, "FAILING (1 in a row") || strings.Contains(s, "secret") {
			t.Fatalf("status %q", s)
		}
		peer.up()
		clk.Add(30 * time.Second)
		if n := pollDue(t, p); n != 0 {
			t.Fatalf("read %d before the backoff passed", n)
		}
		clk.Add(31 * time.Second)
		if n := pollDue(t, p); n != 1 {
			t.Fatalf("took %d after the server came back, want 1", n)
		}
		if n := count(t, d, "requests", ""); n != 1 {
			t.Fatalf("%d requests", n)
		}
		if boxes, _ := mailin.Mailboxes(ctx, d); boxes[0].Failures != 0 || boxes[0].LastError != "" {
			t.Fatalf("mailbox after recovery %+v", boxes[0])
		}

		// Committed, never flagged: the same bytes come again.
		crashed := msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Monitor flickers\nMessage-ID: <crash1@example.org>\n", "Since Friday.\r\n")
		if m := accept(t, deps, crashed); m.Outcome != mailin.OutcomeRequest {
			t.Fatalf("first take %+v", m)
		}
		peer.deliver(t, crashed)
		clk.Add(time.Minute)
		if n := pollDue(t, p); n != 1 {
			t.Fatalf("took %d, want the one left unflagged", n)
		}
		if n := count(t, d, "requests", ""); n != 2 {
			t.Fatalf("%d requests after the redelivery, want 2", n)
		}
		if total, seen := peer.flags(t); total != 2 || seen != 2 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
	})
}

// TestIMAPTwoPollersOneRequest runs two pollers (two servers on one
// database) at the same moment on one mailbox: one holds the lease and
// takes the messages, the other skips it; each message is one request.
func TestIMAPTwoPollersOneRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		peer := startIMAP(t)
		clk := &clock{at: now}
		first := readIMAP(t, k, deps, peer, clk, "first")
		second := poller(deps, clk, "second")
		for i := range 3 {
			peer.deliver(t, msg(fmt.Sprintf("From: member@example.org\nTo: it-desk@example.org\nSubject: Order %d\nMessage-ID: <two%d@example.org>\n", i, i), "Please.\r\n"))
		}
		var wg sync.WaitGroup
		taken := make([]int, 2)
		for i, p := range []*mailin.Poller{first, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := p.PollDue(context.Background())
				if err != nil {
					t.Error(err)
				}
				taken[i] = n
			}()
		}
		wg.Wait()
		if taken[0]+taken[1] != 3 || taken[0] != 0 && taken[1] != 0 {
			t.Fatalf("pollers took %v, want 3 by one of them", taken)
		}
		if n := count(t, d, "requests", ""); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
		if total, seen := peer.flags(t); total != 3 || seen != 3 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
	})
}

// TestIMAPFiftyMegabyteAttachment: a 50 MB message waits in the mailbox.
// The poller fetches only the first MaxBytes+1 of it (the server sends
// little more than 10 MB), quarantines it as oversized, flags it and files
// nothing.
func TestIMAPFiftyMegabyteAttachment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		deps.MaxBytes = 0 // the default, 10 MB
		peer := startIMAP(t)
		clk := &clock{at: now}
		p := readIMAP(t, k, deps, peer, clk, "one")
		line := strings.Repeat("QUFB", 19) + "\r\n"
		body := strings.Repeat(line, (50<<20)/len(line))
		peer.deliver(t, msg("From: member@example.org\nTo: it-desk@example.org\nSubject: The whole disk\nMessage-ID: <huge@example.org>\nContent-Type: multipart/mixed; boundary=b\n",
			"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=disk.img\r\nContent-Transfer-Encoding: base64\r\n\r\n"+body+"--b--\r\n"))
		body = ""
		before := peer.gate.sent.Load()
		if n := pollDue(t, p); n != 1 {
			t.Fatalf("took %d, want 1", n)
		}
		sent := peer.gate.sent.Load() - before
		if sent > mailin.DefaultMaxBytes+64<<10 {
			t.Fatalf("the server sent %d bytes for a message of 50 MB", sent)
		}
		t.Logf("the server sent %d bytes for a message of 50 MB", sent)
		var m mailin.Message
		if err := d.NewSelect().Model(&m).Where("message_key = ?", "mid:huge@example.org").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m.Outcome != mailin.OutcomeQuarantined || m.Reason != mailin.ReasonOversized || m.RequestID != nil || m.Subject != "The whole disk" {
			t.Fatalf("message %+v", m)
		}
		if n := count(t, d, "requests", ""); n != 0 {
			t.Fatalf("%d requests", n)
		}
		if total, seen := peer.flags(t); total != 1 || seen != 1 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
	})
}

// TestIMAPOverTLS reads a mailbox over implicit TLS (imaps) and over
// STARTTLS, where the server refuses a login before TLS; a client that
// does not trust the server's certificate reads nothing and says why.
func TestIMAPOverTLS(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		for i, mode := range []string{mailin.TLSImplicit, mailin.TLSStart} {
			peer := startIMAPWith(t, mode)
			clk := &clock{at: now.Add(time.Duration(i) * time.Hour)}
			p := readIMAP(t, k, deps, peer, clk, mode)
			peer.deliver(t, msg(fmt.Sprintf("From: member@example.org\nTo: it-desk@example.org\nSubject: Over %s\nMessage-ID: <tls%d@example.org>\n", mode, i), "Secure.\r\n"))
			p.TLS = nil // the system's roots do not know the test's certificate
			if n := pollDue(t, p); n != 0 {
				t.Fatalf("%s: took %d trusting no certificate", mode, n)
			}
			boxes, err := mailin.Mailboxes(context.Background(), d)
			if err != nil || !strings.Contains(boxes[0].LastError, "certificate") {
				t.Fatalf("%s: mailbox %+v, %v", mode, boxes, err)
			}
			p.TLS = peer.ClientTLS
			clk.Add(time.Hour)
			if n := pollDue(t, p); n != 1 {
				t.Fatalf("%s: took %d, want 1", mode, n)
			}
			if total, seen := peer.flags(t); total != 1 || seen != 1 {
				t.Fatalf("%s: %d messages, %d seen", mode, total, seen)
			}
		}
		if n := count(t, d, "requests", ""); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
}

// TestIMAPHostileBytesDoNotBlockTheMailbox: a message that holds a NUL
// byte (which an IMAP literal cannot carry: this server sends it empty) is
// left unread and named on the mailbox, without counting as a failure or
// holding up the message behind it; a second such message is left too,
// not taken for a duplicate of the first. The same bytes handed to Accept
// directly are quarantined as malformed, the detail cleaned so the
// database takes it.
func TestIMAPHostileBytesDoNotBlockTheMailbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		peer := startIMAP(t)
		clk := &clock{at: now}
		p := readIMAP(t, k, deps, peer, clk, "one")
		nul := "From: member@example.org\r\nTo: it-desk@example.org\r\nMessage-ID: <nul@x>\r\nBad\x00line \xff\xfe\r\n\r\nbody\r\n"
		peer.deliver(t, nul)
		peer.deliver(t, strings.Replace(nul, "nul@x", "nul2@x", 1))
		peer.deliver(t, msg("From: member@example.org\nTo: it-desk@example.org\nSubject: After it\nMessage-ID: <after@x>\n", "Fine.\r\n"))
		if n := pollDue(t, p); n != 1 {
			t.Fatalf("took %d, want 1", n)
		}
		boxes, err := mailin.Mailboxes(context.Background(), d)
		if err != nil || boxes[0].Failures != 0 || !strings.Contains(boxes[0].LastError, "left 2 message(s) unread") ||
			!strings.Contains(boxes[0].Status(), "NOTE: left 2") {
			t.Fatalf("mailbox %+v, %v", boxes, err)
		}
		if total, seen := peer.flags(t); total != 3 || seen != 1 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
		if n := count(t, d, "requests", ""); n != 1 {
			t.Fatalf("%d requests", n)
		}
		if m := accept(t, deps, nul); m.Reason != mailin.ReasonMalformed || strings.ContainsRune(m.Detail, 0) {
			t.Fatalf("accepted directly: %s %q", m.Reason, m.Detail)
		}
	})
}

// TestIMAPStopBetweenCommitAndFlag stops the server's poller (its context
// ends, as at shutdown) after Accept committed a request and before the
// flag reached the IMAP server: the lease is freed at once without a
// failure, and another server's poller reads the message again, finds its
// Message-ID, flags it and files nothing twice.
func TestIMAPStopBetweenCommitAndFlag(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		peer := startIMAP(t)
		clk := &clock{at: now}
		first := readIMAP(t, k, deps, peer, clk, "first")
		peer.deliver(t, msg("From: member@example.org\nTo: it-desk@example.org\nSubject: Keyboard sticks\nMessage-ID: <stop1@example.org>\n", "The E key.\r\n"))
		ctx, stop := context.WithCancel(context.Background())
		peer.onStore(func() error {
			stop()
			return errors.New("stopped")
		})
		if _, err := first.PollDue(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "requests", ""); n != 1 {
			t.Fatalf("%d requests committed before the stop", n)
		}
		if total, seen := peer.flags(t); total != 1 || seen != 0 {
			t.Fatalf("%d messages, %d seen after the stop", total, seen)
		}
		boxes, err := mailin.Mailboxes(context.Background(), d)
		if err != nil || boxes[0].LeaseOwner != "" || boxes[0].LeaseUntil != nil || boxes[0].Failures != 0 {
			t.Fatalf("mailbox after the stop %+v, %v", boxes, err)
		}
		peer.onStore(nil)
		if n := pollDue(t, poller(deps, clk, "second")); n != 1 {
			t.Fatalf("the second server took %d, want 1", n)
		}
		if n := count(t, d, "requests", ""); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		if total, seen := peer.flags(t); total != 1 || seen != 1 {
			t.Fatalf("%d messages, %d seen", total, seen)
		}
	})
}
