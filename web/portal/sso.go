package portal

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/sso"
	"github.com/tiski/tiski/web/httpx"
)

// The single sign-on routes, and the cookie that binds a sign-in under way
// to the browser that started it.
const (
	ssoStartPath    = "/auth/oidc/start"
	ssoCallbackPath = "/auth/oidc/callback"
	ssoCookie       = "tiski_sso"
)

// loginOptions is what the login page offers besides itself.
type loginOptions struct {
	SSOName  string // "Sign in with SSOName"; empty without single sign-on
	Password bool   // whether the password form shows
}

func (s *Pages) loginOptions() loginOptions {
	o := loginOptions{Password: s.Cfg.LocalLogin != auth.LocalLoginOff || s.sso == nil}
	if s.sso != nil {
		o.SSOName = s.sso.Name()
	}
	return o
}

// ssoStart sends the browser to the provider, keeping the sign-in's
// browser secret in a short-lived HttpOnly cookie. It is Lax so that it
// comes back with the provider's top-level redirect to the callback.
func (s *Pages) ssoStart(c echo.Context) error {
	if s.sso == nil {
		return fault.NotFound("page")
	}
	started, err := s.sso.Begin(c.Request().Context(), safeNext(c.QueryParam("next")))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.SetCookie(&http.Cookie{Name: ssoCookie, Value: started.Browser, Path: ssoCallbackPath,
		MaxAge: int(sso.FlowTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.ViaTLS(c.Request())})
	return c.Redirect(http.StatusFound, started.AuthURL)
}

// ssoCallback completes the sign-in the provider answered. A refusal is a
// page in the user's language with the status of its fault; it changes
// nothing (and the domain recorded it in the audit trail).
func (s *Pages) ssoCallback(c echo.Context) error {
	if s.sso == nil {
		return fault.NotFound("page")
	}
	browser := ""
	if ck, err := c.Cookie(ssoCookie); err == nil {
		browser = ck.Value
	}
	c.SetCookie(&http.Cookie{Name: ssoCookie, Value: "", Path: ssoCallbackPath, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.ViaTLS(c.Request())})
	cb, ok := sso.ParseCallback(c.QueryParams())
	in, err := s.sso.Complete(c.Request().Context(), cb, ok, browser, httpx.ClientOf(c), httpx.PreviousSession(c))
	if err != nil {
		fe, isFault := fault.As(err)
		if !isFault {
			return err
		}
		v := s.newView(c, "", nil)
		v.Title = v.T.T("sso.failed.title")
		v.Problem = v.T.Fault(fe)
		v.Data = s.loginOptions()
		status, _ := httpx.FaultStatus(fe)
		return s.render(c, status, "sso_failed", v)
	}
	s.SetSessionCookie(c, in.Token, int(auth.SessionTTL.Seconds()))
	return c.Redirect(http.StatusSeeOther, safeNext(in.Next))
}
