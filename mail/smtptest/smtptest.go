// Package smtptest starts a real SMTP server inside a test (emersion/go-smtp)
// and keeps what it receives, so tests read the mail Tiski sent.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Server is an SMTP server on 127.0.0.1 that accepts every message, or
// refuses the next few with a temporary error when told to.
type Server struct {
	Addr string

	mu       sync.Mutex
	received []Message
	failNext int
	stall    time.Duration
	arrived  chan struct{}
}

// Message is one message as received.
type Message struct {
	From   string
	To     []string
	Header mail.Header
	Text   string // the decoded text/plain part
	HTML   string // the decoded text/html part
	Raw    []byte
	At     time.Time // when the server took it
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1000)}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// FailNext makes the server refuse the next n messages with 421.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Stall makes the server wait d before it answers each MAIL FROM: a slow
// server, so that a test can kill the sender while a message is in
// flight. A message whose sender is gone before the wait ends never
// arrives.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall = d
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

// Wait returns once n messages have arrived, or fails the test at the
// deadline.
func (s *Server) Wait(t testing.TB, n int, deadline time.Duration) []Message {
	t.Helper()
	timeout := time.After(deadline)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-timeout:
			t.Fatalf("%d messages arrived, want %d", len(s.Messages()), n)
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.s.mu.Lock()
	stall := x.s.stall
	x.s.mu.Unlock()
	time.Sleep(stall)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.failNext > 0 {
		x.s.failNext--
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: err.Error()}
	}
	m.From, m.To, m.At = x.from, x.to, time.Now()
	x.s.mu.Lock()
	x.s.received = append(x.s.received, m)
	x.s.mu.Unlock()
	x.s.arrived <- struct{}{}
	return nil
}

func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	out := Message{Header: msg.Header, Raw: raw}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Message{}, err
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := decode(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		out.Text = body
		return out, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return Message{}, err
		}
		body, err := decode(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return Message{}, err
		}
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			out.Text = body
		case strings.HasPrefix(ct, "text/html"):
			out.HTML = body
		}
	}
}

func decode(r io.Reader, encoding string) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}
