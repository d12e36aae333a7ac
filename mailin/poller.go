package mailin

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Poller reads the IMAP mailboxes of the inbound addresses inside `tiski
// serve`. Each due mailbox is leased to one poller at a time (a conditional
// update of its row, so several servers on one database never read it at
// once); each unread message is fetched, taken by Accept, and only once
// Accept has committed its request, comment or quarantine entry is it
// flagged \Seen on the server. A crash between the commit and the flag
// fetches the message again next time, and Accept finds its Message-ID.
// A mailbox that cannot be read keeps its error on its row (`tiski mail
// status`) and is tried again after a growing pause; nothing is flagged,
// so nothing is lost.
type Poller struct {
	Deps  Deps
	Log   *slog.Logger
	Owner string        // names this poller in the lease; "" picks host, pid and a random part
	Tick  time.Duration // how often due mailboxes are looked for; 0: 5 s
	Lease time.Duration // how long a claimed mailbox stays this poller's; 0: 5 min
	// TLS is the base of the TLS settings (the server name is the
	// mailbox's host); nil: the system's roots, TLS 1.2 or newer.
	TLS *tls.Config
	// Now is the clock (tests move it); nil: time.Now.
	Now func() time.Time
}

// MaxBackoff is the longest pause after failed reads.
const MaxBackoff = 30 * time.Minute

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Poller) owner() string {
	if p.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		p.Owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return p.Owner
}

func (p *Poller) lease() time.Duration {
	if p.Lease > 0 {
		return p.Lease
	}
	return 5 * time.Minute
}

func (p *Poller) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	tick := p.Tick
	if tick <= 0 {
		tick = 5 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := p.PollDue(ctx); err != nil && ctx.Err() == nil {
			p.log().Warn("read the inbound mailboxes", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PollDue reads every mailbox that is due and that this poller can claim,
// and returns how many messages it took. A mailbox that fails is recorded
// on its row, not returned as an error; the error is the database's.
func (p *Poller) PollDue(ctx context.Context) (int, error) {
	var due []Mailbox
	now := p.now()
	if err := p.Deps.DB.NewSelect().Model(&due).Where("next_poll_at <= ?", now).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("lease_until IS NULL").WhereOr("lease_until < ?", now)
		}).OrderExpr("next_poll_at").Scan(ctx); err != nil {
		return 0, fmt.Errorf("find the due mailboxes: %w", err)
	}
	total := 0
	for i := range due {
		mb := &due[i]
		ok, err := p.claim(ctx, mb.ID)
		if err != nil {
			return total, err
		}
		if !ok {
			continue // another poller has it
		}
		n, readErr := p.read(ctx, mb)
		total += n
		if ctx.Err() != nil {
			// Stopping: free the lease for the next server, count nothing
			// as a failure; what was read but not flagged is read again.
			return total, p.free(context.WithoutCancel(ctx), mb, n)
		}
		if err := p.release(ctx, mb, n, readErr); err != nil {
			return total, err
		}
		var unread *LeftUnread
		if errors.As(readErr, &unread) {
			p.log().Warn("read an inbound mailbox", "address_id", mb.AddressID, "mailbox", mb.Folder, "taken", n, "left_unread", unread.Error())
		} else if readErr != nil {
			p.log().Warn("read an inbound mailbox", "address_id", mb.AddressID, "server", mb.Server(), "mailbox", mb.Folder,
				"failures", mb.Failures+1, "err", readErr)
		} else if n > 0 {
			p.log().Info("read an inbound mailbox", "address_id", mb.AddressID, "mailbox", mb.Folder, "taken", n)
		}
	}
	return total, nil
}

// claim takes the mailbox's lease when it is free and the mailbox due.
func (p *Poller) claim(ctx context.Context, id int64) (bool, error) {
	now := p.now()
	res, err := p.Deps.DB.NewUpdate().Model((*Mailbox)(nil)).
		Set("lease_owner = ?", p.owner()).Set("lease_until = ?", now.Add(p.lease())).
		Where("id = ? AND next_poll_at <= ?", id, now).
		WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("lease_until IS NULL").WhereOr("lease_until < ?", now)
		}).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim mailbox %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// renew extends the lease while messages are taken; false when it was lost.
func (p *Poller) renew(ctx context.Context, id int64) (bool, error) {
	res, err := p.Deps.DB.NewUpdate().Model((*Mailbox)(nil)).Set("lease_until = ?", p.now().Add(p.lease())).
		Where("id = ? AND lease_owner = ?", id, p.owner()).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("renew the lease of mailbox %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// release frees the lease and records how the read went: on success the
// next read is one poll interval away; on failure the error is kept and the
// pause doubles with each failure in a row, up to MaxBackoff.
func (p *Poller) release(ctx context.Context, mb *Mailbox, taken int, readErr error) error {
	now := p.now()
	q := p.Deps.DB.NewUpdate().Model((*Mailbox)(nil)).Set("lease_owner = ''").Set("lease_until = NULL").
		Set("last_poll_at = ?", now).Set("taken = taken + ?", taken).Where("id = ? AND lease_owner = ?", mb.ID, p.owner())
	var unread *LeftUnread
	switch {
	case readErr == nil:
		q = q.Set("last_ok_at = ?", now).Set("last_error = ''").Set("failures = 0").Set("next_poll_at = ?", now.Add(mb.Poll()))
	case errors.As(readErr, &unread):
		q = q.Set("last_ok_at = ?", now).Set("last_error = ?", clip(unread.Error(), 1000)).Set("failures = 0").
			Set("next_poll_at = ?", now.Add(mb.Poll()))
	default:
		q = q.Set("last_error = ?", clip(cleanText(readErr.Error()), 1000)).Set("failures = failures + 1").
			Set("next_poll_at = ?", now.Add(Backoff(mb.Poll(), mb.Failures+1)))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("release mailbox %d: %w", mb.ID, err)
	}
	return nil
}

// free gives up the lease at once, the mailbox due again.
func (p *Poller) free(ctx context.Context, mb *Mailbox, taken int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := p.Deps.DB.NewUpdate().Model((*Mailbox)(nil)).Set("lease_owner = ''").Set("lease_until = NULL").
		Set("taken = taken + ?", taken).Where("id = ? AND lease_owner = ?", mb.ID, p.owner()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("free mailbox %d: %w", mb.ID, err)
	}
	return nil
}

// Backoff is the pause after the nth failed read in a row: ten seconds,
// doubling, never shorter than the poll interval nor longer than MaxBackoff.
func Backoff(poll time.Duration, failures int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	d = max(d, poll)
	return min(d, MaxBackoff)
}

// Status says in one line how a mailbox is doing, for `tiski mail status`.
func (m *Mailbox) Status() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s://%s@%s/%s  every %s  taken %d", m.Address, schemeOf(m.TLSMode), m.Username, m.Server(), m.Folder, m.Poll(), m.Taken)
	if m.LastOKAt != nil {
		fmt.Fprintf(&b, "  last read %s", m.LastOKAt.UTC().Format(time.RFC3339))
	} else {
		b.WriteString("  never read")
	}
	if m.Failures == 0 && m.LastError != "" {
		fmt.Fprintf(&b, "  NOTE: %s", m.LastError)
	}
	if m.Failures > 0 {
		fmt.Fprintf(&b, "  FAILING (%d in a row, next try %s): %s", m.Failures, m.NextPollAt.UTC().Format(time.RFC3339), m.LastError)
	}
	return b.String()
}

func schemeOf(mode string) string {
	switch mode {
	case TLSImplicit:
		return "imaps"
	case TLSNone:
		return "imap+insecure"
	}
	return "imap"
}
