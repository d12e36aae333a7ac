package mailin_test

import (
	"bytes"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// imapPeer is a real IMAP server in the test's process (go-imap's server
// over its in-memory backend) holding the mailbox desk/secret. It can be
// taken down (every connection, open or new, is closed at once, while the
// test keeps the port) and brought up again with its messages kept, and it
// calls beforeStore as each STORE command arrives, before applying it, so a
// test can see what Tiski had committed when it flagged a message.
type imapPeer struct {
	mem  *imapmemserver.Server
	user *imapmemserver.User
	Addr string
	gate *gate

	mu          sync.Mutex
	beforeStore func()
}

func startIMAP(t *testing.T) *imapPeer {
	t.Helper()
	p := &imapPeer{mem: imapmemserver.New(), user: imapmemserver.NewUser("desk", "secret")}
	if err := p.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	p.mem.AddUser(p.user)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.gate, p.Addr = &gate{Listener: ln}, ln.Addr().String()
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &watchedSession{Session: p.mem.NewSession(), peer: p}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	go func() { _ = srv.Serve(p.gate) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

func (p *imapPeer) up()   { p.gate.set(false) }
func (p *imapPeer) down() { p.gate.set(true) }

// gate is a listener that, while down, closes each connection it accepts
// and those it handed out.
type gate struct {
	net.Listener
	sent  atomic.Int64 // bytes the server wrote
	mu    sync.Mutex
	shut  bool
	conns []net.Conn
}

func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		if !g.shut {
			g.conns = append(g.conns, c)
			g.mu.Unlock()
			return counted{Conn: c, n: &g.sent}, nil
		}
		g.mu.Unlock()
		_ = c.Close()
	}
}

type counted struct {
	net.Conn
	n *atomic.Int64
}

func (c counted) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (g *gate) set(shut bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut = shut
	if shut {
		for _, c := range g.conns {
			_ = c.Close()
		}
		g.conns = nil
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
