package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tiski/tiski/db"
)

// FlowTTL is how long a started sign-in waits for the provider's answer.
const FlowTTL = 10 * time.Minute

// Provider is the organisation's OpenID provider as Tiski uses it. It
// discovers the provider's endpoints and keys on first use (and again after
// a failure), so Tiski starts while the provider is down.
type Provider struct {
	settings Settings
	db       *db.DB
	client   *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New returns the provider of settings, reached with client (nil: a client
// with a 10 s timeout).
func New(d *db.DB, settings Settings, client *http.Client) *Provider {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if settings.GroupsClaim == "" {
		settings.GroupsClaim = DefaultGroupsClaim
	}
	if settings.Name == "" {
		settings.Name = "SSO"
	}
	return &Provider{settings: settings, db: d, client: client}
}

// Name is how the login page names the provider.
func (p *Provider) Name() string { return p.settings.Name }

// Settings returns the provider's settings.
func (p *Provider) Settings() Settings { return p.settings }

// context carries the provider's HTTP client to go-oidc and oauth2.
func (p *Provider) context(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// discover fetches the provider's metadata once. The key set it builds
// outlives the request, so it is not cancelled with it.
func (p *Provider) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oauth != nil {
		return p.oauth, p.verifier, nil
	}
	// The key set keeps this context for its later fetches; the client's
	// timeout bounds each.
	op, err := oidc.NewProvider(p.context(context.WithoutCancel(ctx)), p.settings.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover the OpenID provider %s: %w", p.settings.Issuer, err)
	}
	// The verifier checks the signature against the issuer's keys (never
	// alg none), the issuer, the audience (our client id) and the expiry.
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.settings.ClientID})
	p.oauth = &oauth2.Config{ClientID: p.settings.ClientID, ClientSecret: p.settings.ClientSecret,
		RedirectURL: p.settings.RedirectURL, Endpoint: op.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	return p.oauth, p.verifier, nil
}

// newSecret returns 256 random bits, URL-safe encoded.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
