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

// SignIn is the outcome of a sign-in: a session (Token, Session), or, when
// the user must still give a TOTP code, a Challenge to give it with
// (CompleteSignIn). A session whose user needs a second factor but has not
// enrolled yet is EnrolmentOnly: it reaches only the enrolment page.
type SignIn struct {
	User             *units.User
	Token            string
	Session          *Session
	Challenge        string
	ChallengeExpires time.Time
	EnrolmentOnly    bool
}

// Login checks the credentials, applies throttling, and on success starts a
// new session, ending previousToken; a user who needs a second factor and
// has one gets a challenge instead. The attempt is counted before the
// password is checked (see admit), and the check runs in the bounded
// hashing pool. Everyone may sign in with a password (see LoginAs).
func Login(ctx context.Context, d *db.DB, email, password string, client Client, previousToken string) (*SignIn, error) {
	return LoginAs(ctx, d, LocalLoginAll, email, password, client, previousToken)
}

// LoginAs is Login where local says who may sign in with a password at
// all; a right password of anyone else is refused (local_login_off).
func LoginAs(ctx context.Context, d *db.DB, local LocalLogin, email, password string, client Client, previousToken string) (*SignIn, error) {
	key := units.EmailKey(email)
	a, err := admit(ctx, d, key, client.IP, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	u, err := units.GetUserByEmail(ctx, d, email)
	if err != nil && !fault.Is(err, fault.KindNotFound) {
		return nil, err
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := checkPassword(ctx, password, hash)
	if err != nil {
		if ferr := a.unchecked(ctx, d); ferr != nil {
			return nil, ferr
		}
		return nil, err
	}
	if !ok || u == nil || u.Disabled {
		return nil, errBadCredentials
	}
	if err := checkLocalLogin(ctx, d, local, u.ID); err != nil {
		return nil, err
	}
	in := &SignIn{User: u}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		if err := a.succeeded(ctx, tx, key); err != nil {
			return err
		}
		needs, err := NeedsSecondFactor(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		enrolled, err := Enrolled(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if needs && enrolled {
			in.Challenge, in.ChallengeExpires, err = startChallenge(ctx, tx, u.ID)
			return err
		}
		in.EnrolmentOnly = needs
		in.Token, in.Session, err = StartSession(ctx, tx, u.ID, previousToken, client)
		return err
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}
