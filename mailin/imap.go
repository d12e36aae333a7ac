package mailin

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dialTimeout bounds connecting and logging in.
const dialTimeout = 30 * time.Second

// errLeaseLost stops a read whose lease another poller took meanwhile.
var errLeaseLost = errors.New("the mailbox's lease was lost to another poller")

// errEmpty is a message the server sent no bytes of. It is left unread
// rather than taken: every such message would look the same to Accept (no
// Message-ID, the hash of nothing) and all but the first would pass for
// duplicates.
var errEmpty = errors.New("the server sent the message empty")

// LeftUnread is a read that took what it could but left messages the
// server sent empty in the mailbox, unflagged, for a person to look at. It
// is kept as the mailbox's last error without counting as a failure.
type LeftUnread struct{ UIDs []imap.UID }

func (e *LeftUnread) Error() string {
	return fmt.Sprintf("left %d message(s) unread that the server sent empty (UID %v)", len(e.UIDs), e.UIDs)
}

// read takes the unread messages of one mailbox: each is fetched (at most
// MaxBytes+1 bytes of it, with BODY.PEEK so fetching flags nothing),
// handed to Accept, and flagged \Seen only after Accept committed it. It
// returns how many messages it took.
func (p *Poller) read(ctx context.Context, mb *Mailbox) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, p.lease())
	defer cancel()
	c, err := dialMailbox(mb, p.TLS)
	if err != nil {
		return 0, err
	}
	// Closing the connection is what ends a command the server never
	// answers: at the lease's end or when the server stops.
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	defer c.Close()
	if err := c.Login(mb.Username, mb.Password).Wait(); err != nil {
		return 0, fmt.Errorf("log in as %s: %w", mb.Username, err)
	}
	if _, err := c.Select(mb.Folder, nil).Wait(); err != nil {
		return 0, fmt.Errorf("select %s: %w", mb.Folder, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search unread messages: %w", err)
	}
	taken := 0
	var unread []imap.UID
	for _, uid := range found.AllUIDs() {
		if err := ctx.Err(); err != nil {
			return taken, err
		}
		got, err := p.take(ctx, c, uid)
		if errors.Is(err, errEmpty) {
			unread = append(unread, uid)
			continue
		}
		if err != nil {
			return taken, err
		}
		if !got {
			continue
		}
		if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
			Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
			return taken, fmt.Errorf("flag message %d seen: %w", uid, err)
		}
		taken++
		if ok, err := p.renew(ctx, mb.ID); err != nil || !ok {
			return taken, errors.Join(err, errLeaseLost)
		}
	}
	_ = c.Logout().Wait()
	if len(unread) > 0 {
		return taken, &LeftUnread{UIDs: unread}
	}
	return taken, nil
}

// take fetches one message and hands it to Accept; false when the server
// no longer has it.
func (p *Poller) take(ctx context.Context, c *imapclient.Client, uid imap.UID) (bool, error) {
	limit := p.Deps.maxBytes()
	fetch := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{
		{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: limit + 1}}}})
	defer fetch.Close()
	msg := fetch.Next()
	if msg == nil {
		return false, fetch.Close()
	}
	var accepted bool
	for item := msg.Next(); item != nil; item = msg.Next() {
		body, ok := item.(imapclient.FetchItemDataBodySection)
		if !ok || body.Literal == nil || accepted {
			continue
		}
		raw := bufio.NewReader(body.Literal)
		if _, err := raw.Peek(1); errors.Is(err, io.EOF) {
			return false, errEmpty
		} else if err != nil {
			return false, fmt.Errorf("fetch message %d: %w", uid, err)
		}
		if _, err := Accept(ctx, p.Deps, raw, p.now()); err != nil {
			return false, fmt.Errorf("take message %d: %w", uid, err)
		}
		accepted = true
	}
	if err := fetch.Close(); err != nil {
		return false, fmt.Errorf("fetch message %d: %w", uid, err)
	}
	return accepted, nil
}

func dialMailbox(mb *Mailbox, base *tls.Config) (*imapclient.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.ServerName = mb.Host
	opts := &imapclient.Options{TLSConfig: cfg, Dialer: &net.Dialer{Timeout: dialTimeout}}
	var (
		c   *imapclient.Client
		err error
	)
	switch mb.TLSMode {
	case TLSImplicit:
		c, err = imapclient.DialTLS(mb.Server(), opts)
	case TLSNone:
		c, err = imapclient.DialInsecure(mb.Server(), opts)
	default:
		c, err = imapclient.DialStartTLS(mb.Server(), opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", mb.Server(), err)
	}
	if err := c.WaitGreeting(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("greeting of %s: %w", mb.Server(), err)
	}
	return c, nil
}
