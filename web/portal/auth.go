package portal

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// signedIn admits a portal request or sends the browser to the login page
// (to come back here afterwards).
func (s *Pages) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.Admit(c); err != nil {
			if errors.Is(err, httpx.ErrSignIn) && c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return err
		}
		return next(c)
	}
}

func (s *Pages) loginPage(c echo.Context) error {
	if p, _ := s.Identify(c); p != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("login.title")
	v.Form.Set("next", safeNext(c.QueryParam("next")))
	return s.render(c, http.StatusOK, "login", v)
}

// loginForm handles the login form: the same answer for any wrong e-mail or
// password, throttled like the API.
func (s *Pages) loginForm(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	email, password, next := c.FormValue("email"), c.FormValue("password"), safeNext(c.FormValue("next"))
	token, _, _, err := auth.Login(c.Request().Context(), s.DB, email, password, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		fe, ok := fault.As(err)
		if !ok {
			return err
		}
		v := s.newView(c, "", nil)
		v.Title = v.T.T("login.title")
		v.Form.Set("email", email)
		v.Form.Set("next", next)
		v.Problem = v.T.T("login.failed")
		status := http.StatusUnauthorized
		if fe.Kind == fault.KindTooManyRequests {
			v.Problem, status = v.T.T("login.throttled"), http.StatusTooManyRequests
		}
		return s.render(c, status, "login", v)
	}
	s.SetSessionCookie(c, token, int(auth.SessionTTL.Seconds()))
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Pages) logoutForm(c echo.Context) error {
	if p := httpx.CurrentPrincipal(c); p.SessionToken != "" {
		if err := auth.EndSession(c.Request().Context(), s.DB, p.SessionToken); err != nil {
			return err
		}
	}
	s.SetSessionCookie(c, "", -1)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// switchLanguage stores the language the user picked as their locale.
func (s *Pages) switchLanguage(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	locale := c.FormValue("locale")
	ctx := c.Request().Context()
	err := s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := units.UpdateUser(ctx, tx, p.ID(), p.ID(), units.UserChange{Locale: &locale})
		return err
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("back")))
}
