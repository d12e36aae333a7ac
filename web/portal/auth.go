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
			if errors.Is(err, httpx.ErrSecondFactor) && c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, httpx.TwoFactorPath+"?next="+url.QueryEscape(c.Request().URL.RequestURI()))
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
	v.Data = s.loginOptions()
	return s.render(c, http.StatusOK, "login", v)
}

// loginForm handles the login form: the same answer for any wrong e-mail or
// password, throttled like the API. A user who gives a TOTP code next gets
// the code form; one who must first enrol gets a session that reaches only
// the enrolment page.
func (s *Pages) loginForm(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	email, password, next := c.FormValue("email"), c.FormValue("password"), safeNext(c.FormValue("next"))
	in, err := auth.LoginAs(c.Request().Context(), s.DB, s.Cfg.LocalLogin, email, password, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		return s.loginRefused(c, "login", err, func(v *view) { v.Form.Set("email", email) }, next)
	}
	if in.Challenge != "" {
		return s.showCodeForm(c, http.StatusOK, in.Challenge, next, "")
	}
	s.SetSessionCookie(c, in.Token, int(auth.SessionTTL.Seconds()))
	if in.EnrolmentOnly {
		return c.Redirect(http.StatusSeeOther, httpx.TwoFactorPath+"?next="+url.QueryEscape(next))
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// loginRefused shows page again with the refusal's message: a wrong
// password or code, or too many attempts.
func (s *Pages) loginRefused(c echo.Context, page string, err error, fill func(*view), next string) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	v := s.newView(c, "", nil)
	v.Title = v.T.T("login.title")
	v.Form.Set("next", next)
	fill(&v)
	if page == "login" {
		v.Data = s.loginOptions()
	}
	v.Problem = v.T.T("login.failed")
	status := http.StatusUnauthorized
	switch {
	case fe.Kind == fault.KindTooManyRequests:
		v.Problem, status = v.T.T("login.throttled"), http.StatusTooManyRequests
	case page != "login" || fe.Code == "local_login_off":
		v.Problem = v.T.Fault(fe)
		if fe.Code == "local_login_off" {
			status = http.StatusForbidden
		}
	}
	return s.render(c, status, page, v)
}

// showCodeForm asks for the TOTP code that completes a password sign-in.
func (s *Pages) showCodeForm(c echo.Context, status int, challenge, next, problem string) error {
	v := s.newView(c, "", nil)
	v.Title = v.T.T("login.code.title")
	v.Form.Set("challenge", challenge)
	v.Form.Set("next", next)
	v.Problem = problem
	return s.render(c, status, "login_code", v)
}

// loginCodeForm handles the code form: a good TOTP or recovery code starts
// the session; a wrong or reused one is refused (and recorded) and the
// form asked again, until the challenge runs out.
func (s *Pages) loginCodeForm(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	challenge, code, next := c.FormValue("challenge"), c.FormValue("code"), safeNext(c.FormValue("next"))
	in, err := auth.CompleteSignIn(c.Request().Context(), s.DB, challenge, code, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		if fe, ok := fault.As(err); ok && fe.Code == "challenge_expired" {
			return s.loginRefused(c, "login", err, func(v *view) { v.Problem = v.T.Fault(fe) }, next)
		}
		return s.loginRefused(c, "login_code", err, func(v *view) { v.Form.Set("challenge", challenge) }, next)
	}
	s.SetSessionCookie(c, in.Token, int(auth.SessionTTL.Seconds()))
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
