package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/web/httpx"
)

type twoFactorStatus struct {
	Required bool `json:"required"`
	Enrolled bool `json:"enrolled"`
	// Owed: this session was started with a password alone and reaches
	// only the two-factor routes until a code is given.
	Owed bool `json:"owed"`
}

// twoFactor handles GET /me/two-factor.
func (s *Handlers) twoFactor(c echo.Context) error {
	p, ctx := httpx.CurrentPrincipal(c), c.Request().Context()
	needs, err := auth.NeedsSecondFactor(ctx, s.DB, p.ID())
	if err != nil {
		return err
	}
	enrolled, err := auth.Enrolled(ctx, s.DB, p.ID())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, twoFactorStatus{Required: needs, Enrolled: enrolled, Owed: p.SecondFactorOwed})
}

type enrolmentResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

// beginTwoFactor handles POST /me/two-factor: a new secret to confirm.
func (s *Handlers) beginTwoFactor(c echo.Context) error {
	p, ctx := httpx.CurrentPrincipal(c), c.Request().Context()
	var e *auth.Enrolment
	err := s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		e, err = auth.BeginEnrolment(ctx, tx, p.User, auth.TOTPIssuer)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, enrolmentResponse{Secret: e.Secret, OTPAuthURI: e.URI})
}

type codeBody struct {
	Code string `json:"code"`
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// confirmTwoFactor handles POST /me/two-factor/confirm: a code from the new
// secret confirms it; the answer carries the recovery codes, this once.
func (s *Handlers) confirmTwoFactor(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	code, err := decodeCode(c)
	if err != nil {
		return err
	}
	codes, err := auth.ConfirmEnrolment(c.Request().Context(), s.DB, p.ID(), code, p.SessionToken)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}

// verifyTwoFactor handles POST /me/two-factor/verify: a code that lets a
// session started with a password alone reach everything its roles allow.
func (s *Handlers) verifyTwoFactor(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	code, err := decodeCode(c)
	if err != nil {
		return err
	}
	if err := auth.ProveSecondFactor(c.Request().Context(), s.DB, p.ID(), p.SessionToken, code); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// newRecoveryCodes handles POST /me/two-factor/recovery-codes: new codes
// replace the old, for a session that has given its second factor.
func (s *Handlers) newRecoveryCodes(c echo.Context) error {
	codes, err := s.NewRecoveryCodes(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}

func decodeCode(c echo.Context) (string, error) {
	var body codeBody
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return "", err
	}
	if body.Code == "" {
		return "", fault.Invalid("code", "code is required")
	}
	return body.Code, nil
}
