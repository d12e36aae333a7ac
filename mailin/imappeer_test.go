package mailin_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/tiski/tiski/mailin"
)

// imapPeer is a real IMAP server in the test's process (go-imap's server
// over its in-memory backend) holding the mailbox desk/secret. It can be
// taken down (every connection, open or new, is closed at once, while the
// test keeps the port) and brought up again with its messages kept, and it
// calls beforeStore as each STORE command arrives, before applying it, so a
// test can see what Tiski had committed when it flagged a message.
type imapPeer struct {
	mem       *imapmemserver.Server
	user      *imapmemserver.User
	Addr      string
	Mode      string      // mailin.TLSNone, TLSImplicit or TLSStart
	ClientTLS *tls.Config // trusts the server's certificate
	gate      *gate

	mu          sync.Mutex
	beforeStore func() error
}

func startIMAP(t *testing.T) *imapPeer { return startIMAPWith(t, mailin.TLSNone) }

// startIMAPWith serves in a TLS mode: implicit TLS or STARTTLS (then
// logging in without it is refused) with a certificate for 127.0.0.1 that
// ClientTLS trusts, or plain text.
func startIMAPWith(t *testing.T, mode string) *imapPeer {
	t.Helper()
	p := &imapPeer{mem: imapmemserver.New(), user: imapmemserver.NewUser("desk", "secret"), Mode: mode}
	if err := p.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	p.mem.AddUser(p.user)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = ln.Addr().String()
	var serverTLS *tls.Config
	if mode != mailin.TLSNone {
		serverTLS, p.ClientTLS = certificate(t)
	}
	if mode == mailin.TLSImplicit {
		ln = tls.NewListener(ln, serverTLS)
	}
	p.gate = &gate{Listener: ln}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &watchedSession{Session: p.mem.NewSession(), peer: p}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: mode == mailin.TLSNone,
		Logger:       log.New(io.Discard, "", 0),
	}
	if mode == mailin.TLSStart {
		opts.TLSConfig = serverTLS
	}
	srv := imapserver.New(opts)
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
	sent  atomic.Int64 // bytes the server wrote, without TLS
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
			if _, ok := c.(*tls.Conn); ok {
				return c, nil // the server must see the TLS it requires for a login
			}
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

// onStore calls f as each STORE arrives; an error from f refuses the STORE.
func (p *imapPeer) onStore(f func() error) {
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
	var (
		c   *imapclient.Client
		err error
	)
	opts := &imapclient.Options{TLSConfig: p.ClientTLS}
	switch p.Mode {
	case mailin.TLSImplicit:
		c, err = imapclient.DialTLS(p.Addr, opts)
	case mailin.TLSStart:
		c, err = imapclient.DialStartTLS(p.Addr, opts)
	default:
		c, err = imapclient.DialInsecure(p.Addr, opts)
	}
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
		if err := f(); err != nil {
			return err
		}
	}
	return s.Session.Store(w, numSet, flags, options)
}

// certificate makes a self-signed certificate for 127.0.0.1: the server's
// TLS settings and a client's that trust it alone.
func certificate(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
