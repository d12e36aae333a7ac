package sso

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"
)

// flow is a sign-in under way, between Begin and Complete.
type flow struct {
	bun.BaseModel `bun:"table:sso_flows"`

	StateHash   string    `bun:"state_hash,pk"`
	BrowserHash string    `bun:"browser_hash"`
	Nonce       string    `bun:"nonce"`
	Verifier    string    `bun:"verifier"`
	NextPath    string    `bun:"next_path"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

// Started is a begun sign-in: the provider's address to send the browser
// to, and the secret the browser keeps (in a short-lived HttpOnly cookie)
// to prove at the callback that it is the one that started.
type Started struct {
	AuthURL string
	Browser string
	Expires time.Time
}

// Begin starts a sign-in that returns to next (a same-origin path the
// caller checked) once the provider has answered.
func (p *Provider) Begin(ctx context.Context, next string) (*Started, error) {
	oc, _, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	state, browser, nonce, verifier := newSecret(), newSecret(), newSecret(), oauth2.GenerateVerifier()
	now := time.Now().UTC()
	f := &flow{StateHash: hash(state), BrowserHash: hash(browser), Nonce: nonce, Verifier: verifier,
		NextPath: next, CreatedAt: now, ExpiresAt: now.Add(FlowTTL)}
	err = p.db.InTx(ctx, func(tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*flow)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
			return fmt.Errorf("purge old sign-ins: %w", err)
		}
		if _, err := tx.NewInsert().Model(f).Exec(ctx); err != nil {
			return fmt.Errorf("store the sign-in: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	url := oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return &Started{AuthURL: url, Browser: browser, Expires: f.ExpiresAt}, nil
}

// takeFlow removes and returns the sign-in of state, so a callback is
// taken once: a replay finds nothing. It returns nil when there is none.
func (p *Provider) takeFlow(ctx context.Context, state string) (*flow, error) {
	var f *flow
	err := p.db.InTx(ctx, func(tx bun.Tx) error {
		found := new(flow)
		err := tx.NewSelect().Model(found).Where("state_hash = ?", hash(state)).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find the sign-in: %w", err)
		}
		res, err := tx.NewDelete().Model((*flow)(nil)).Where("state_hash = ?", found.StateHash).Exec(ctx)
		if err != nil {
			return fmt.Errorf("take the sign-in: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			f = found
		}
		return nil
	})
	return f, err
}
