package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// LocalLogin says who may sign in with a Tiski password once single sign-on
// runs the organisation's sign-in: everyone (the default), only admins (a
// break-glass door for when the provider is down), or nobody.
type LocalLogin string

// The choices of LocalLogin.
const (
	LocalLoginAll    LocalLogin = "all"
	LocalLoginAdmins LocalLogin = "admins"
	LocalLoginOff    LocalLogin = "off"
)

// ParseLocalLogin reads a LocalLogin setting; empty is LocalLoginAll.
func ParseLocalLogin(s string) (LocalLogin, error) {
	switch l := LocalLogin(s); l {
	case "":
		return LocalLoginAll, nil
	case LocalLoginAll, LocalLoginAdmins, LocalLoginOff:
		return l, nil
	}
	return "", fmt.Errorf("local login must be all, admins or off, not %q", s)
}

// errLocalLoginOff refuses a right password of someone who must sign in
// through the organisation's provider.
var errLocalLoginOff = fault.New(fault.KindForbidden, "local_login_off", "sign in through your organisation's single sign-on")

// checkLocalLogin refuses a password sign-in the setting does not allow. It
// runs after the password was checked, so it tells nothing to a stranger.
func checkLocalLogin(ctx context.Context, idb bun.IDB, l LocalLogin, userID int64) error {
	switch l {
	case LocalLoginOff:
		return errLocalLoginOff
	case LocalLoginAdmins:
		roles, err := units.OrgRolesOf(ctx, idb, userID)
		if err != nil {
			return err
		}
		if !slices.Contains(roles, "admin") {
			return errLocalLoginOff
		}
	}
	return nil
}

// StartSSOSession starts a session for a user the organisation's provider
// vouched for. It relies on the provider's own factor: it never asks for a
// TOTP code.
func StartSSOSession(ctx context.Context, tx bun.Tx, userID int64, previousToken string, client Client) (string, *Session, error) {
	return startSession(ctx, tx, userID, previousToken, client, MethodSSO, false)
}
