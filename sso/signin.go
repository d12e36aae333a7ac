package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// SignIn is a completed single sign-on: the new session and where the
// browser goes next.
type SignIn struct {
	User    *units.User
	Token   string
	Session *auth.Session
	Next    string
}

// Reasons a callback is refused, as its fault's code and its audit event's
// reason.
const (
	ReasonMalformed     = "sso_malformed"      // the callback's parameters do not parse
	ReasonState         = "sso_state"          // unknown, used, expired or another browser's state
	ReasonProviderError = "sso_provider_error" // the provider answered with an error
	ReasonExchange      = "sso_exchange"       // the code was not exchanged for tokens
	ReasonToken         = "sso_token"          // the ID token failed verification
	ReasonExpired       = "sso_token_expired"  // the ID token has expired
	ReasonNonce         = "sso_nonce"          // the ID token answers another sign-in
	ReasonNoAccount     = "sso_no_account"     // nobody matches and none may be created
	ReasonLinked        = "sso_linked"         // the e-mail's user is linked to another subject
	ReasonDisabled      = "sso_disabled"       // the matched user is disabled
)

// refusals hold the user's message of each reason.
var refusals = map[string]*fault.Error{
	ReasonMalformed:     fault.New(fault.KindMalformed, ReasonMalformed, "the sign-in answer could not be read"),
	ReasonState:         fault.New(fault.KindMalformed, ReasonState, "this sign-in was not started here, was already used or has expired"),
	ReasonProviderError: fault.New(fault.KindUnauthorized, ReasonProviderError, "the identity provider did not sign you in"),
	ReasonExchange:      fault.New(fault.KindUnauthorized, ReasonExchange, "the identity provider did not confirm the sign-in"),
	ReasonToken:         fault.New(fault.KindUnauthorized, ReasonToken, "the identity provider's answer could not be verified"),
	ReasonExpired:       fault.New(fault.KindUnauthorized, ReasonExpired, "the identity provider's answer has expired"),
	ReasonNonce:         fault.New(fault.KindUnauthorized, ReasonNonce, "the identity provider's answer belongs to another sign-in"),
	ReasonNoAccount:     fault.New(fault.KindForbidden, ReasonNoAccount, "there is no Tiski account for you; ask an administrator to add you"),
	ReasonLinked:        fault.New(fault.KindConflict, ReasonLinked, "your e-mail's account is linked to another identity; ask an administrator"),
	ReasonDisabled:      fault.New(fault.KindForbidden, ReasonDisabled, "your Tiski account is disabled"),
}

// attempt is what the audit trail keeps of a refused callback.
type attempt struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject,omitempty"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address"`
	Detail  string `json:"detail,omitempty"`
}

// refuse records the refused callback in the audit trail, in a transaction
// of its own, and returns the refusal's fault.
func (p *Provider) refuse(ctx context.Context, actorID int64, reason string, a attempt) error {
	a.Issuer = p.settings.Issuer
	f := refusals[reason].With("reason", reason)
	return audit.InTx(ctx, p.db, func(bun.Tx) error {
		return audit.Refuse(actorID, "sso_sign_in", p.settings.Issuer, "sign_in", a, f)
	})
}

// claims are what Tiski reads of the ID token.
type claims struct {
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	Name          string   `json:"name"`
}

// Complete finishes a sign-in from the provider's callback: the state must
// be one this browser started (browser is its cookie) and not yet used,
// the code is exchanged with the PKCE verifier, and the ID token must be
// signed by the issuer's keys, for our client, unexpired and carry the
// sign-in's nonce. Any failure changes nothing but the audit trail.
func (p *Provider) Complete(ctx context.Context, cb Callback, ok bool, browser string, client auth.Client, previousToken string) (*SignIn, error) {
	a := attempt{Address: client.IP}
	if !ok {
		return nil, p.refuse(ctx, 0, ReasonMalformed, a)
	}
	f, err := p.takeFlow(ctx, cb.State)
	if err != nil {
		return nil, err
	}
	if f == nil || time.Now().After(f.ExpiresAt) || browser == "" ||
		subtle.ConstantTimeCompare([]byte(hash(browser)), []byte(f.BrowserHash)) != 1 {
		return nil, p.refuse(ctx, 0, ReasonState, a)
	}
	if cb.Error != "" {
		a.Detail = cb.Error
		return nil, p.refuse(ctx, 0, ReasonProviderError, a)
	}
	oc, verifier, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := oc.Exchange(p.context(ctx), cb.Code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		a.Detail = err.Error()
		return nil, p.refuse(ctx, 0, ReasonExchange, a)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		a.Detail = "no id_token"
		return nil, p.refuse(ctx, 0, ReasonToken, a)
	}
	idt, err := verifier.Verify(p.context(ctx), raw)
	if err != nil {
		a.Detail = err.Error()
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, p.refuse(ctx, 0, ReasonExpired, a)
		}
		return nil, p.refuse(ctx, 0, ReasonToken, a)
	}
	a.Subject = idt.Subject
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, p.refuse(ctx, 0, ReasonNonce, a)
	}
	var c claims
	var all map[string]any
	if err := idt.Claims(&c); err != nil {
		a.Detail = err.Error()
		return nil, p.refuse(ctx, 0, ReasonToken, a)
	}
	if err := idt.Claims(&all); err != nil {
		a.Detail = err.Error()
		return nil, p.refuse(ctx, 0, ReasonToken, a)
	}
	a.Email = c.Email
	id := identity{Issuer: idt.Issuer, Subject: idt.Subject, Email: c.Email, EmailVerified: bool(c.EmailVerified),
		Name: c.Name, Groups: stringList(all[p.settings.GroupsClaim])}
	in := &SignIn{Next: f.NextPath}
	var refusal string
	var actor int64
	err = p.db.InTx(ctx, func(tx bun.Tx) error {
		u, reason, err := p.account(ctx, tx, id)
		if err != nil || reason != "" {
			refusal = reason
			if u != nil {
				actor = u.ID
			}
			if reason != "" {
				return refusals[reason]
			}
			return err
		}
		if err := p.mapGroups(ctx, tx, u, id.Groups); err != nil {
			return err
		}
		in.User = u
		in.Token, in.Session, err = auth.StartSSOSession(ctx, tx, u.ID, previousToken, client)
		return err
	})
	if refusal != "" {
		return nil, p.refuse(ctx, actor, refusal, a)
	}
	if err != nil {
		return nil, err
	}
	return in, nil
}

// flexBool reads a JSON boolean, or the strings "true" and "false" some
// providers send for email_verified.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	default:
		*b = false
	}
	return nil
}

// stringList reads a claim that is a list of strings or one string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
