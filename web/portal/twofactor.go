package portal

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/web/httpx"
)

type twoFactorData struct {
	Required bool
	Enrolled bool
	Owed     bool
	// Secret, URI and QR are a pending enrolment's, to scan or type in.
	Secret string
	URI    string
	QR     template.URL
	// RecoveryCodes are shown once, right after they are made.
	RecoveryCodes []string
	Next          string
}

// twoFactorPage shows where the user stands: enrol (a secret to scan and
// a code to confirm it), give a code for this session, or enrolled.
func (s *Pages) twoFactorPage(c echo.Context) error {
	return s.showTwoFactor(c, http.StatusOK, "", nil)
}

func (s *Pages) showTwoFactor(c echo.Context, status int, problem string, codes []string) error {
	p, ctx := httpx.CurrentPrincipal(c), c.Request().Context()
	d := twoFactorData{Owed: p.SecondFactorOwed, RecoveryCodes: codes, Next: safeNext(c.FormValue("next"))}
	var err error
	if d.Required, err = auth.NeedsSecondFactor(ctx, s.DB, p.ID()); err != nil {
		return err
	}
	if d.Enrolled, err = auth.Enrolled(ctx, s.DB, p.ID()); err != nil {
		return err
	}
	if !d.Enrolled {
		e, err := auth.PendingEnrolment(ctx, s.DB, p.User, auth.TOTPIssuer)
		if err != nil {
			return err
		}
		if e != nil {
			d.Secret, d.URI = e.Secret, e.URI
			if d.QR, err = qrDataURL(e); err != nil {
				return err
			}
		}
	}
	v := s.newView(c, "", d)
	v.Title = v.T.T("twofactor.title")
	v.Problem = problem
	return s.render(c, status, "twofactor", v)
}

// qrDataURL is the enrolment's QR code as an inline PNG (the page's
// Content-Security-Policy allows data: images).
func qrDataURL(e *auth.Enrolment) (template.URL, error) {
	img, err := e.QRCode(200)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// beginTwoFactorForm makes a new secret and shows it.
func (s *Pages) beginTwoFactorForm(c echo.Context) error {
	p, ctx := httpx.CurrentPrincipal(c), c.Request().Context()
	err := s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := auth.BeginEnrolment(ctx, tx, p.User, auth.TOTPIssuer)
		return err
	})
	if err != nil {
		return s.twoFactorRefused(c, err)
	}
	return s.showTwoFactor(c, http.StatusOK, "", nil)
}

// confirmTwoFactorForm confirms the secret with a code and shows the
// recovery codes, this once.
func (s *Pages) confirmTwoFactorForm(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	codes, err := auth.ConfirmEnrolment(c.Request().Context(), s.DB, p.ID(), c.FormValue("code"), p.SessionToken)
	if err != nil {
		return s.twoFactorRefused(c, err)
	}
	p.SecondFactorOwed = false
	return s.showTwoFactor(c, http.StatusOK, "", codes)
}

// verifyTwoFactorForm takes a code for a session started with a password
// alone, then goes where the user was going.
func (s *Pages) verifyTwoFactorForm(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	if err := auth.ProveSecondFactor(c.Request().Context(), s.DB, p.ID(), p.SessionToken, c.FormValue("code")); err != nil {
		return s.twoFactorRefused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// recoveryCodesForm replaces the recovery codes and shows the new ones.
func (s *Pages) recoveryCodesForm(c echo.Context) error {
	codes, err := s.NewRecoveryCodes(c)
	if fault.Is(err, fault.KindForbidden) {
		return err
	}
	if err != nil {
		return s.twoFactorRefused(c, err)
	}
	return s.showTwoFactor(c, http.StatusOK, "", codes)
}

// twoFactorRefused shows the page again with a refusal (a wrong or reused
// code) in the user's language.
func (s *Pages) twoFactorRefused(c echo.Context, err error) error {
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	status, _ := httpx.FaultStatus(fe)
	return s.showTwoFactor(c, status, s.tr(c).Fault(fe), nil)
}
