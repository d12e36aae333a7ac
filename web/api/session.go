package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/web/httpx"
)

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	User      userJSON `json:"user"`
	CSRFToken string   `json:"csrf_token"`
	// SecondFactorEnrolment is true when the user's roles need an
	// authenticator app they have not enrolled: until they do, the session
	// reaches only /me/two-factor.
	SecondFactorEnrolment bool `json:"second_factor_enrolment_required,omitempty"`
}

// challengeResponse answers a password that was right when a TOTP code is
// still needed: POST /session/second-factor with the challenge and a code.
type challengeResponse struct {
	SecondFactorRequired bool      `json:"second_factor_required"`
	Challenge            string    `json:"challenge"`
	ExpiresAt            time.Time `json:"expires_at"`
}

// login handles POST /session.
func (s *Handlers) login(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	var body loginBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	if body.Email == "" || body.Password == "" {
		return fault.Invalid("email", "email and password are required")
	}
	in, err := auth.LoginAs(c.Request().Context(), s.DB, s.Cfg.LocalLogin, body.Email, body.Password, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		return err
	}
	if in.Challenge != "" {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.JSON(http.StatusAccepted, challengeResponse{SecondFactorRequired: true, Challenge: in.Challenge, ExpiresAt: in.ChallengeExpires})
	}
	return s.sessionStarted(c, in)
}

func (s *Handlers) sessionStarted(c echo.Context, in *auth.SignIn) error {
	s.SetSessionCookie(c, in.Token, int(auth.SessionTTL.Seconds()))
	return c.JSON(http.StatusOK, sessionResponse{User: toUserJSON(in.User), CSRFToken: in.Session.CSRFToken, SecondFactorEnrolment: in.EnrolmentOnly})
}

type secondFactorBody struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// loginSecondFactor handles POST /session/second-factor: the TOTP or
// recovery code that completes a password sign-in.
func (s *Handlers) loginSecondFactor(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	var body secondFactorBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	if body.Challenge == "" || body.Code == "" {
		return fault.Invalid("code", "challenge and code are required")
	}
	in, err := auth.CompleteSignIn(c.Request().Context(), s.DB, body.Challenge, body.Code, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		return err
	}
	return s.sessionStarted(c, in)
}

// logout handles DELETE /session.
func (s *Handlers) logout(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	if p.SessionToken != "" {
		if err := auth.EndSession(c.Request().Context(), s.DB, p.SessionToken); err != nil {
			return err
		}
	}
	s.SetSessionCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}
