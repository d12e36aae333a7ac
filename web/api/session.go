package api

import (
	"net/http"

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
	token, sess, u, err := auth.Login(c.Request().Context(), s.DB, body.Email, body.Password, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		return err
	}
	s.SetSessionCookie(c, token, int(auth.SessionTTL.Seconds()))
	return c.JSON(http.StatusOK, sessionResponse{User: toUserJSON(u), CSRFToken: sess.CSRFToken})
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
