// Package mail turns notifications into e-mail and sends them over SMTP: a
// text and an HTML part in the recipient's language, the request number in
// the subject, threading headers so one request is one conversation, and a
// signed Reply-To that routes a reply back to its request.
package mail

import (
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
)

// Config is where and as whom Tiski sends.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise STARTTLS
	// is used when the server offers it and plain SMTP when it does not.
	ImplicitTLS bool
	From        *mail.Address
	BaseURL     string // the portal's address, for links
}

// ParseConfig reads TISKI_SMTP_URL (smtp://user:pass@host:587 or
// smtps://user:pass@host:465), TISKI_MAIL_FROM and TISKI_BASE_URL. An empty
// smtpURL means e-mail is off: ok is false and the rest is not checked.
func ParseConfig(smtpURL, from, baseURL string) (cfg Config, ok bool, err error) {
	if strings.TrimSpace(smtpURL) == "" {
		return Config{}, false, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil {
		return Config{}, false, fmt.Errorf("TISKI_SMTP_URL: %w", err)
	}
	switch u.Scheme {
	case "smtp":
		cfg.Port = 587
	case "smtps":
		cfg.Port, cfg.ImplicitTLS = 465, true
	default:
		return Config{}, false, fmt.Errorf("TISKI_SMTP_URL: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return Config{}, false, fmt.Errorf("TISKI_SMTP_URL: no host")
	}
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil || cfg.Port < 1 || cfg.Port > 65535 {
			return Config{}, false, fmt.Errorf("TISKI_SMTP_URL: bad port %q", p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	if strings.TrimSpace(from) == "" {
		return Config{}, false, fmt.Errorf("TISKI_MAIL_FROM is required with TISKI_SMTP_URL")
	}
	if cfg.From, err = mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		return Config{}, false, fmt.Errorf("TISKI_MAIL_FROM: not an address: %q", from)
	}
	if !strings.Contains(cfg.From.Address, "@") {
		return Config{}, false, fmt.Errorf("TISKI_MAIL_FROM: not an address: %q", from)
	}
	if strings.Contains(strings.SplitN(cfg.From.Address, "@", 2)[0], "+") {
		return Config{}, false, fmt.Errorf("TISKI_MAIL_FROM: the address carries no +tag; Tiski adds its own for replies")
	}
	cfg.BaseURL = strings.TrimRight(baseURL, "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:8080"
	}
	if b, err := url.Parse(cfg.BaseURL); err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return Config{}, false, fmt.Errorf("TISKI_BASE_URL: not an http(s) address: %q", baseURL)
	}
	return cfg, true, nil
}

// domain is the part of the From address after the @, used in Message-IDs.
func (c Config) domain() string {
	_, d, _ := strings.Cut(c.From.Address, "@")
	return d
}
