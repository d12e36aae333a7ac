package mail_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/mail"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

func TestParseConfig(t *testing.T) {
	for _, c := range []struct {
		name, url, from, base string
		ok                    bool
		want                  mail.Config
		err                   string
	}{
		{name: "off", url: ""},
		{name: "starttls when offered", url: "smtp://u:p%40ss@mail.example.org", from: "Tiski <tiski@example.org>", base: "https://tiski.example.org/", ok: true,
			want: mail.Config{Host: "mail.example.org", Port: 587, Username: "u", Password: "p@ss", BaseURL: "https://tiski.example.org"}},
		{name: "implicit tls", url: "smtps://mail.example.org", from: "tiski@example.org", ok: true,
			want: mail.Config{Host: "mail.example.org", Port: 465, ImplicitTLS: true, BaseURL: "http://localhost:8080"}},
		{name: "port", url: "smtp://127.0.0.1:2525", from: "tiski@example.org", ok: true,
			want: mail.Config{Host: "127.0.0.1", Port: 2525, BaseURL: "http://localhost:8080"}},
		{name: "scheme", url: "http://mail.example.org", from: "tiski@example.org", err: "scheme"},
		{name: "no host", url: "smtp://", from: "tiski@example.org", err: "no host"},
		{name: "no from", url: "smtp://mail.example.org", err: "TISKI_MAIL_FROM is required"},
		{name: "from with a tag", url: "smtp://mail.example.org", from: "tiski+x@example.org", err: "+tag"},
		{name: "from with a newline", url: "smtp://mail.example.org", from: "tiski@example.org\r\nBcc: eve@example.org", err: "not an address"},
		{name: "base url", url: "smtp://mail.example.org", from: "tiski@example.org", base: "ftp://x", err: "TISKI_BASE_URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, ok, err := mail.ParseConfig(c.url, c.from, c.base)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil || ok != c.ok {
				t.Fatalf("ok = %v, err = %v", ok, err)
			}
			if !ok {
				return
			}
			cfg.From = nil
			if cfg != c.want {
				t.Fatalf("config = %+v, want %+v", cfg, c.want)
			}
		})
	}
}

func TestAReplyAddressRoutesToItsRequestAndAForgedOneDoesNot(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	addr := mail.ReplyAddress("tiski@example.org", key, 42)
	if id, ok := mail.ParseReplyAddress(addr, key); !ok || id != 42 {
		t.Fatalf("%s routes to %d, %v", addr, id, ok)
	}
	forged := strings.Replace(addr, "+r42.", "+r43.", 1)
	if _, ok := mail.ParseReplyAddress(forged, key); ok {
		t.Fatalf("forged %s was accepted", forged)
	}
	if _, ok := mail.ParseReplyAddress(addr, []byte("another key")); ok {
		t.Fatal("an address signed with another key was accepted")
	}
	for _, bad := range []string{"tiski@example.org", "tiski+x@example.org", "tiski+r.abc@example.org", "tiski+r-1.00@example.org"} {
		if _, ok := mail.ParseReplyAddress(bad, key); ok {
			t.Fatalf("%s was accepted", bad)
		}
	}
}

// TestHeadersCarryNoInjectedLines: a recipient name and a request title
// with CR/LF in them stay inside their headers; the subject names the
// request; the text reads in the recipient's language.
func TestHeadersCarryNoInjectedLines(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := mail.ParseConfig("smtp://127.0.0.1:25", "Tiski <tiski@example.org>", "https://tiski.example.org")
	if err != nil {
		t.Fatal(err)
	}
	ev := notify.StoredEvent{ID: 9, Kind: notify.RequestResolved, ObjectType: "request", ObjectID: 12,
		ArgsJSON: `{"ref":"REQ-000012","title":"Laptop\r\nBcc: eve@example.org"}`}
	user := units.User{ID: 3, Email: "maria@example.org", Name: "Maria\r\nBcc: eve@example.org", Locale: "fi"}
	letter, err := mail.Compose(cfg, cat, []byte("key"), ev, user, "9:3:email")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := letter.Msg(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := msg.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(raw.String(), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Fatalf("an injected header line: %q\n%s", line, raw.String())
		}
	}
	if !strings.Contains(letter.Subject, "[REQ-000012]") || strings.ContainsAny(letter.Subject, "\r\n") {
		t.Fatalf("subject = %q", letter.Subject)
	}
	if !strings.Contains(letter.Text, "on ratkaistu") || !strings.Contains(letter.Text, "https://tiski.example.org/requests/12") {
		t.Fatalf("text = %q", letter.Text)
	}
	if letter.MessageID != "tiski.9.3.email@example.org" || letter.Thread != "tiski.request.12@example.org" {
		t.Fatalf("message-id %q, thread %q", letter.MessageID, letter.Thread)
	}
	if id, ok := mail.ParseReplyAddress(letter.ReplyTo, []byte("key")); !ok || id != 12 {
		t.Fatalf("reply-to %q routes to %d", letter.ReplyTo, id)
	}
}
