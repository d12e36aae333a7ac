package auth

import (
	"context"
	"sync"
	"time"

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
// new session, ending previousToken. It returns the session token. The
// attempt is counted before the password is checked (see admit), and the
// check runs in the bounded hashing pool.
func Login(ctx context.Context, d *db.DB, email, password string, client Client, previousToken string) (string, *Session, *units.User, error) {
	key := units.EmailKey(email)
	a, err := admit(ctx, d, key, client.IP, time.Now().UTC())
	if err != nil {
		return "", nil, nil, err
	}
	u, err := units.GetUserByEmail(ctx, d, email)
	if err != nil && !fault.Is(err, fault.KindNotFound) {
		return "", nil, nil, err
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := checkPassword(ctx, password, hash)
	if err != nil {
		if ferr := a.unchecked(ctx, d); ferr != nil {
			return "", nil, nil, ferr
		}
		return "", nil, nil, err
	}
	if !ok || u == nil || u.Disabled {
		return "", nil, nil, errBadCredentials
	}
	var token string
	var s *Session
	err = d.InTx(ctx, func(tx bun.Tx) error {
		if err := a.succeeded(ctx, tx, key); err != nil {
			return err
		}
		token, s, err = StartSession(ctx, tx, u.ID, previousToken, client)
		return err
	})
	if err != nil {
		return "", nil, nil, err
	}
	return token, s, u, nil
}
