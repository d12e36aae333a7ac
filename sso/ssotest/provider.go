// Package ssotest runs a real OpenID provider for tests: zitadel's op
// package (discovery, JWKS, authorization and token endpoints) over an
// in-memory storage, with a trivial login form where a test (or a browser)
// picks who signs in, and knobs that make its token endpoint answer with a
// forged ID token (wrong nonce, expired, another audience, alg none,
// another key), so tests see Tiski refuse each.
package ssotest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Person is someone the provider knows.
type Person struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

// Forgery is how the token endpoint tampers with the next ID token.
type Forgery int

// The forgeries.
const (
	Honest          Forgery = iota
	WrongNonce              // the nonce of another sign-in
	Expired                 // expired an hour ago
	ForeignAudience         // issued to another client
	AlgNone                 // unsigned, "alg": "none"
	ForeignKey              // signed by a key the issuer never published
)

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	srv     *httptest.Server
	st      *storage
	handler http.Handler

	mu    sync.Mutex
	forge Forgery
}

// Start runs a provider until the test ends, knowing people. Tiski's
// redirect URL is set with SetRedirectURL once its server is up.
func Start(t testing.TB, people ...Person) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: "tiski", ClientSecret: "tiski-test-secret"}
	p.st = &storage{client: &client{id: p.ClientID, secret: p.ClientSecret}, people: map[string]Person{},
		requests: map[string]*authRequest{}, codes: map[string]string{}, key: key, keyID: "test-key-1"}
	for _, person := range people {
		p.st.people[person.Subject] = person
	}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.Issuer = p.srv.URL
	p.st.client.loginURL = p.Issuer + "/login"
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	provider, err := op.NewOpenIDProvider(p.Issuer, &op.Config{CryptoKey: cryptoKey, CodeMethodS256: true},
		p.st, op.WithAllowInsecure(), op.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	p.handler = provider
	mux.HandleFunc("/login", p.login)
	mux.HandleFunc("/oauth/token", p.token)
	mux.Handle("/", provider)
	return p
}

// SetRedirectURL registers Tiski's callback address.
func (p *Provider) SetRedirectURL(u string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.client.redirectURI = u
}

// Add makes person known (or changes them).
func (p *Provider) Add(person Person) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.people[person.Subject] = person
}

// Forge makes the token endpoint forge ID tokens as f, until set Honest.
func (p *Provider) Forge(f Forgery) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forge = f
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Test provider</title></head><body>
<h1>Test identity provider</h1>
<form method="post" action="/login">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<label for="subject">Who are you?</label>
<select id="subject" name="subject">{{range .People}}<option value="{{.Subject}}">{{.Name}} ({{.Email}})</option>{{end}}</select>
<button id="provider-sign-in" type="submit">Sign in</button>
</form></body></html>`))

// login is the provider's own sign-in: a form that names who signs in.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		p.st.mu.Lock()
		var people []Person
		for _, person := range p.st.people {
			people = append(people, person)
		}
		p.st.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginPage.Execute(w, map[string]any{"ID": r.URL.Query().Get("authRequestID"), "People": people})
		return
	}
	id := r.FormValue("authRequestID")
	if err := p.st.done(id, r.FormValue("subject")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.Issuer+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// token lets the real token endpoint answer, then forges its ID token as
// asked.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	forge := p.forge
	p.mu.Unlock()
	if forge == Honest {
		p.handler.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, r)
	var body map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		copyResponse(w, rec)
		return
	}
	raw, _ := body["id_token"].(string)
	forged, err := p.forged(raw, forge)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body["id_token"] = forged
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, bytes.NewReader(rec.Body.Bytes()))
}

// forged rewrites the claims of an ID token and signs it again.
func (p *Provider) forged(raw string, f Forgery) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWS: %q", raw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", err
	}
	now := time.Now()
	key := p.st.key
	switch f {
	case WrongNonce:
		claims["nonce"] = "the-nonce-of-another-sign-in"
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case ForeignAudience:
		claims["aud"], claims["azp"] = []string{"another-client"}, "another-client"
	case ForeignKey:
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return "", err
		}
	}
	if payload, err = json.Marshal(claims); err != nil {
		return "", err
	}
	if f == AlgNone {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: p.st.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Authorize walks a browser without JavaScript (c, whose cookie jar keeps
// Tiski's cookies) from Tiski's start address through the provider's
// login as subject, and returns the callback address the provider sends
// it back to, without calling it.
func (p *Provider) Authorize(t testing.TB, c *http.Client, startURL, subject string) *url.URL {
	t.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next, err := url.Parse(startURL)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		resp, err := nc.Get(next.String())
		if err != nil {
			t.Fatalf("ssotest: GET %s: %v", next, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && next.Path == "/login" && strings.HasPrefix(next.String(), p.Issuer) {
			resp, err = nc.PostForm(p.Issuer+"/login", url.Values{"authRequestID": {next.Query().Get("authRequestID")}, "subject": {subject}})
			if err != nil {
				t.Fatalf("ssotest: sign in at the provider: %v", err)
			}
			_ = resp.Body.Close()
		}
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			t.Fatalf("ssotest: %s answered %d, want a redirect", next, resp.StatusCode)
		}
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(loc.String(), p.Issuer) {
			return loc
		}
		next = loc
	}
	t.Fatal("ssotest: too many redirects")
	return nil
}
