package mailin_test

import (
	"bytes"
	"io"
	"log"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// imapPeer is a real IMAP server in the test's process (go-imap's server
// over its in-memory backend) holding the mailbox desk/secret. It can be
// stopped and started again on the same address with its messages kept,
// and it calls beforeStore as each STORE command arrives, before applying
// it, so a test can see what Tiski had committed when it flagged a message.
type imapPeer struct {
	mem  *imapmemserver.Server
	user *imapmemserver.User
	Addr string

	mu          sync.Mutex
	srv         *imapserver.Server
	beforeStore func()
}

func startIMAP(t *testing.T) *imapPeer {
	t.Helper()
	p := &imapPeer{mem: imapmemserver.New(), user: imapmemserver.NewUser("desk", "secret")}
	if err := p.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	p.mem.AddUser(p.user)
	p.up(t, "127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

// up serves on addr (the old address after down).
func (p *imapPeer) up(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &watchedSession{Session: p.mem.NewSession(), peer: p}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	go func() { _ = srv.Serve(ln) }()
	p.mu.Lock()
	p.srv, p.Addr = srv, ln.Addr().String()
	p.mu.Unlock()
}

// down stops the server: its listener and every connection close.
func (p *imapPeer) down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (p *imapPeer) onStore(f func()) {
	p.mu.Lock()
	p.beforeStore = f
	p.mu.Unlock()
}

// deliver puts a raw message in INBOX, unread.
func (p *imapPeer) deliver(t *testing.T, raw string) {
	t.Helper()
	if _, err := p.user.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// flags reads, as a mail client does, how many messages INBOX holds and
// how many of them are \Seen.
func (p *imapPeer) flags(t *testing.T) (total, seen int) {
	t.Helper()
	c, err := imapclient.DialInsecure(p.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("desk", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return 0, 0
	}
	var all imap.SeqSet
	all.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(all, &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		total++
		for _, f := range m.Flags {
			if f == imap.FlagSeen {
				seen++
			}
		}
	}
	return total, seen
}

type watchedSession struct {
	imapserver.Session
	peer *imapPeer
}

func (s *watchedSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	s.peer.mu.Lock()
	f := s.peer.beforeStore
	s.peer.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Session.Store(w, numSet, flags, options)
}
