package portal

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/web/httpx"
)

// resetPage is the form behind a password reset link (auth.ResetLink). It
// needs no session: the link is the proof. The token stays out of any
// Referer the page could send.
func (s *Pages) resetPage(c echo.Context) error {
	return s.showReset(c, http.StatusOK, nil)
}

func (s *Pages) showReset(c echo.Context, status int, errs map[string]string) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	v := s.newView(c, "", nil)
	v.Title = v.T.T("reset.title")
	if errs != nil {
		v.Errors = errs
	}
	v.Form.Set("action", auth.ResetPath+c.Param("token"))
	return s.render(c, status, "reset", v)
}

// resetForm sets the new password once; the link is used up and the
// user's sessions end, then they sign in with it.
func (s *Pages) resetForm(c echo.Context) error {
	if err := httpx.SameOrigin(c); err != nil {
		return err
	}
	v := s.newView(c, "", nil)
	password := c.FormValue("password")
	if password != c.FormValue("password_again") {
		return s.showReset(c, http.StatusUnprocessableEntity, map[string]string{"password_again": v.T.T("reset.err.password_again")})
	}
	if err := auth.ResetPassword(c.Request().Context(), s.DB, c.Param("token"), password, s.Cfg.PasswordHash); err != nil {
		r, ok := formFault(v.T, requestTexts, err)
		if !ok {
			return err
		}
		return s.showReset(c, r.Status, r.at("token"))
	}
	setFlash(c, v.T.T("flash.reset"))
	return c.Redirect(http.StatusSeeOther, "/login")
}
