package auth

import (
	"context"
	"sync"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/uptrace/bun"
)

// errBadCredentials is the one answer for an unknown e-mail, a wrong password
// and a disabled account, so a login form reveals nothing about accounts.
var errBadCredentials = fault.Unauthorized("e-mail or password is wrong")

// dummyHash is verified against when no account matches, so an unknown
// e-mail costs as much time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("tiski-timing-equaliser", DefaultHashParams)
	return h
})

// Login checks the credentials, applies throttling, and on success starts a
// new session, ending previousToken. It returns the session token.
func Login(ctx context.Context, d *db.DB, email, password, clientIP, previousToken string) (string, *Session, *units.User, error) {
	key := units.EmailKey(email)
	if err := CheckThrottle(ctx, d, key, clientIP); err != nil {
		return "", nil, nil, err
	}
	u, err := units.GetUserByEmail(ctx, d, email)
	if err != nil && !fault.Is(err, fault.KindNotFound) {
		return "", nil, nil, err
	}
	ok := false
	if u != nil {
		ok = VerifyPassword(password, u.PasswordHash) && !u.Disabled
	} else {
		VerifyPassword(password, dummyHash())
	}
	if !ok {
		if err := RecordFailure(ctx, d, key, clientIP); err != nil {
			return "", nil, nil, err
		}
		return "", nil, nil, errBadCredentials
	}
	var token string
	var s *Session
	err = d.InTx(ctx, func(tx bun.Tx) error {
		if err := ClearFailures(ctx, tx, key); err != nil {
			return err
		}
		token, s, err = StartSession(ctx, tx, u.ID, previousToken)
		return err
	})
	if err != nil {
		return "", nil, nil, err
	}
	return token, s, u, nil
}
