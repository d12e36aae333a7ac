package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/web/httpx"
)

type tokenJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Token is the secret, in the answer to its creation only.
	Token string `json:"token,omitempty"`
}

func toTokenJSON(now time.Time) func(*auth.APIToken) tokenJSON {
	return func(t *auth.APIToken) tokenJSON {
		return tokenJSON{ID: httpx.FormatID(t.ID), Name: t.Name, State: t.State(now), CreatedAt: t.CreatedAt.UTC(),
			LastUsedAt: utcOrNil(t.LastUsedAt), ExpiresAt: t.Expiry().UTC(), RevokedAt: utcOrNil(t.RevokedAt)}
	}
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	Address    string    `json:"address"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

// listOwnTokens handles GET /me/tokens.
func (s *Handlers) listOwnTokens(c echo.Context) error {
	return s.writeTokens(c, httpx.CurrentPrincipal(c).ID())
}

// listUserTokens handles GET /users/{id}/tokens (admins).
func (s *Handlers) listUserTokens(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "user")
	if err != nil {
		return err
	}
	return s.writeTokens(c, id)
}

func (s *Handlers) writeTokens(c echo.Context, userID int64) error {
	ts, err := auth.ListTokens(c.Request().Context(), s.DB, userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpx.ListOf(ts, "", toTokenJSON(time.Now().UTC())))
}

type tokenBody struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"`
}

// createOwnToken handles POST /me/tokens: a token for the caller, shown once.
func (s *Handlers) createOwnToken(c echo.Context) error {
	var body tokenBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	var secret string
	var t *auth.APIToken
	err := s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		secret, t, err = auth.CreateToken(ctx, tx, p.ID(), p.ID(), body.Name, days(body.ExpiresInDays))
		return err
	})
	if err != nil {
		return err
	}
	out := toTokenJSON(time.Now().UTC())(t)
	out.Token = secret
	return c.JSON(http.StatusCreated, out)
}

// days is a lifetime in whole days; a negative count stays negative so the
// domain refuses it.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// revokeOwnToken handles DELETE /me/tokens/{id}.
func (s *Handlers) revokeOwnToken(c echo.Context) error {
	return s.revokeToken(c, httpx.CurrentPrincipal(c).ID(), "id")
}

// revokeUserToken handles DELETE /users/{id}/tokens/{token_id} (admins).
func (s *Handlers) revokeUserToken(c echo.Context) error {
	userID, err := httpx.PathID(c, "id", "user")
	if err != nil {
		return err
	}
	return s.revokeToken(c, userID, "token_id")
}

func (s *Handlers) revokeToken(c echo.Context, userID int64, param string) error {
	tokenID, err := httpx.PathID(c, param, "token")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	actor := httpx.CurrentPrincipal(c).ID()
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error { return auth.RevokeToken(ctx, tx, actor, userID, tokenID) }); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listOwnSessions handles GET /me/sessions: the caller's signed-in
// browsers, the one asking marked current.
func (s *Handlers) listOwnSessions(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	ss, err := auth.ListSessions(c.Request().Context(), s.DB, p.ID())
	if err != nil {
		return err
	}
	current := auth.SessionKey(p.SessionToken)
	return c.JSON(http.StatusOK, httpx.ListOf(ss, "", func(x *auth.Session) sessionJSON {
		return sessionJSON{ID: x.PublicID, Device: auth.Device(x.UserAgent), UserAgent: x.UserAgent, Address: x.ClientIP,
			CreatedAt: x.CreatedAt.UTC(), LastSeenAt: x.LastSeen().UTC(), ExpiresAt: x.ExpiresAt.UTC(),
			Current: current != "" && x.TokenHash == current}
	}))
}

// endOwnSession handles DELETE /me/sessions/{id}. Ending the current one
// signs the caller out, as DELETE /session does.
func (s *Handlers) endOwnSession(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error { return auth.EndSessionOf(ctx, tx, p.ID(), p.ID(), c.Param("id")) }); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
