package portal

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/web/httpx"
)

// signInSettingsPath is the user's own page of API tokens and sessions.
const signInSettingsPath = "/settings/sign-in"

type tokenRow struct {
	ID        int64
	Name      string
	State     string
	CreatedAt time.Time
	LastUsed  *time.Time
	ExpiresAt time.Time
}

type sessionRow struct {
	ID        string
	Device    string
	Address   string
	CreatedAt time.Time
	LastSeen  time.Time
	Current   bool
}

type signInData struct {
	Tokens   []tokenRow
	Sessions []sessionRow
	// NewToken is the secret of a token just created, shown this once.
	NewToken string
	MaxDays  int
}

// signInSettingsPage lists the user's API tokens and sessions.
func (s *Pages) signInSettingsPage(c echo.Context) error {
	return s.showSignInSettings(c, http.StatusOK, "", "")
}

func (s *Pages) showSignInSettings(c echo.Context, status int, problem, newToken string) error {
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	tokens, err := auth.ListTokens(ctx, s.DB, p.ID())
	if err != nil {
		return err
	}
	sessions, err := auth.ListSessions(ctx, s.DB, p.ID())
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	data := signInData{NewToken: newToken, MaxDays: int(auth.MaxTokenTTL / (24 * time.Hour))}
	for _, t := range tokens {
		data.Tokens = append(data.Tokens, tokenRow{ID: t.ID, Name: t.Name, State: t.State(now), CreatedAt: t.CreatedAt,
			LastUsed: t.LastUsedAt, ExpiresAt: t.Expiry()})
	}
	current := auth.SessionKey(p.SessionToken)
	for _, x := range sessions {
		data.Sessions = append(data.Sessions, sessionRow{ID: x.PublicID, Device: auth.Device(x.UserAgent), Address: x.ClientIP,
			CreatedAt: x.CreatedAt, LastSeen: x.LastSeen(), Current: x.TokenHash == current})
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("signin.title")
	v.Problem = problem
	return s.render(c, status, "signin_settings", v)
}

// createTokenForm makes an API token for the user and shows its secret on
// the answer itself, never in a cookie or a redirect.
func (s *Pages) createTokenForm(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	days := 0
	if raw := strings.TrimSpace(c.FormValue("expires_in_days")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			n = -1 // the domain refuses it with its own message
		}
		days = n
	}
	var secret string
	err := s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		secret, _, err = auth.CreateToken(ctx, tx, p.ID(), p.ID(), c.FormValue("name"), time.Duration(days)*24*time.Hour)
		return err
	})
	if err != nil {
		r, ok := formFault(s.newView(c, "", nil).T, adminTexts, err)
		if !ok {
			return err
		}
		return s.showSignInSettings(c, r.Status, r.message(), "")
	}
	return s.showSignInSettings(c, http.StatusCreated, "", secret)
}

// revokeTokenForm revokes one of the user's tokens.
func (s *Pages) revokeTokenForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "token")
	if err != nil {
		return err
	}
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error { return auth.RevokeToken(ctx, tx, p.ID(), p.ID(), id) }); err != nil {
		return err
	}
	setFlash(c, s.newView(c, "", nil).T.T("flash.token.revoked"))
	return c.Redirect(http.StatusSeeOther, signInSettingsPath)
}

// endSessionForm ends one of the user's sessions; ending the current one
// signs the user out.
func (s *Pages) endSessionForm(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	ctx := c.Request().Context()
	publicID := c.Param("id")
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error { return auth.EndSessionOf(ctx, tx, p.ID(), p.ID(), publicID) }); err != nil {
		return err
	}
	if _, _, still, err := auth.SessionUser(ctx, s.DB, p.SessionToken); err == nil && !still {
		s.SetSessionCookie(c, "", -1)
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	setFlash(c, s.newView(c, "", nil).T.T("flash.session.ended"))
	return c.Redirect(http.StatusSeeOther, signInSettingsPath)
}
