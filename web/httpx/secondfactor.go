package httpx

import (
	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
)

// NewRecoveryCodes replaces the signed-in user's recovery codes and returns
// the new ones, for the API and the portal alike: only a session that has
// given its second factor may, so a stolen password alone never mints codes.
func (k *Kit) NewRecoveryCodes(c echo.Context) ([]string, error) {
	p, ctx := CurrentPrincipal(c), c.Request().Context()
	if p.SecondFactorOwed {
		return nil, ErrSecondFactor
	}
	var codes []string
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		codes, err = auth.RegenerateRecoveryCodes(ctx, tx, p.ID(), p.ID())
		return err
	})
	return codes, err
}
