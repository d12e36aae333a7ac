package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"image"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// SecondFactorRoles are the organisation roles whose holders give a TOTP
// code after their password: the money roles, and admin, who grants roles.
var SecondFactorRoles = []string{"finance", "auditor", "admin"}

const (
	// TOTPIssuer is the name an authenticator app shows beside the code.
	TOTPIssuer = "Tiski"
	// ChallengeTTL is how long a password sign-in waits for its code.
	ChallengeTTL = 5 * time.Minute
	// challengeAttempts is how many codes one challenge takes: six digits
	// are guessable only by a caller who may try without end.
	challengeAttempts = 5
	// RecoveryCodeCount is how many recovery codes an enrolment gives.
	RecoveryCodeCount = 10
	// totpPeriod and totpSkew: a code is good for its 30 seconds and one
	// step either side, for clocks that drift.
	totpPeriod = 30
	totpSkew   = 1
)

// totpFactor is a user's TOTP secret; ConfirmedAt is nil until its owner
// has given a code from it.
type totpFactor struct {
	bun.BaseModel `bun:"table:totp_factors"`

	UserID      int64      `bun:"user_id,pk"`
	Secret      string     `bun:"secret"`
	CreatedAt   time.Time  `bun:"created_at"`
	ConfirmedAt *time.Time `bun:"confirmed_at"`
	LastStep    int64      `bun:"last_step"`
}

type recoveryCode struct {
	bun.BaseModel `bun:"table:recovery_codes"`

	ID       int64      `bun:"id,pk,autoincrement"`
	UserID   int64      `bun:"user_id"`
	CodeHash string     `bun:"code_hash"`
	UsedAt   *time.Time `bun:"used_at"`
}

type signInChallenge struct {
	bun.BaseModel `bun:"table:sign_in_challenges"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    int64     `bun:"user_id"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
	Failures  int       `bun:"failures"`
}

// NeedsSecondFactor reports whether userID holds a role whose password
// sign-in needs a TOTP code.
func NeedsSecondFactor(ctx context.Context, idb bun.IDB, userID int64) (bool, error) {
	roles, err := units.OrgRolesOf(ctx, idb, userID)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if slices.Contains(SecondFactorRoles, r) {
			return true, nil
		}
	}
	return false, nil
}

// Enrolled reports whether userID has a confirmed TOTP factor.
func Enrolled(ctx context.Context, idb bun.IDB, userID int64) (bool, error) {
	n, err := idb.NewSelect().Model((*totpFactor)(nil)).Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("look up second factor of user %d: %w", userID, err)
	}
	return n > 0, nil
}

// SecondFactorOwed reports whether session s may reach only the second
// factor's pages: it was started with a password and no code, by a user
// who needs one (enrolled or not).
func SecondFactorOwed(ctx context.Context, idb bun.IDB, s *Session) (bool, error) {
	if s.Method != MethodPassword || s.SecondFactor {
		return false, nil
	}
	return NeedsSecondFactor(ctx, idb, s.UserID)
}

// Enrolment is a new TOTP secret, for the authenticator app to scan (URI)
// or for its owner to type in (Secret).
type Enrolment struct {
	Secret string
	URI    string
	key    *otp.Key
}

// QRCode is the enrolment's URI as a PNG-able image of size×size pixels.
func (e *Enrolment) QRCode(size int) (image.Image, error) { return e.key.Image(size, size) }

// BeginEnrolment gives u a new, unconfirmed TOTP secret under issuer (the
// name the authenticator app shows), replacing an unconfirmed one. A user
// already enrolled is refused: the factor is changed by an operator reset.
func BeginEnrolment(ctx context.Context, tx bun.Tx, u *units.User, issuer string) (*Enrolment, error) {
	f := new(totpFactor)
	err := tx.NewSelect().Model(f).Where("user_id = ?", u.ID).Scan(ctx)
	switch {
	case err == nil && f.ConfirmedAt != nil:
		return nil, fault.Conflict("already_enrolled", "you already use an authenticator app")
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("look up second factor of user %d: %w", u.ID, err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Period: totpPeriod})
	if err != nil {
		return nil, fmt.Errorf("make a TOTP secret: %w", err)
	}
	f = &totpFactor{UserID: u.ID, Secret: key.Secret(), CreatedAt: time.Now().UTC()}
	if _, err := tx.NewInsert().Model(f).On("CONFLICT (user_id) DO UPDATE").
		Set("secret = EXCLUDED.secret, created_at = EXCLUDED.created_at, last_step = 0").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store TOTP secret: %w", err)
	}
	return &Enrolment{Secret: key.Secret(), URI: key.URL(), key: key}, nil
}

// PendingEnrolment is the unconfirmed secret BeginEnrolment gave u, or nil.
func PendingEnrolment(ctx context.Context, idb bun.IDB, u *units.User, issuer string) (*Enrolment, error) {
	f := new(totpFactor)
	err := idb.NewSelect().Model(f).Where("user_id = ? AND confirmed_at IS NULL", u.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up second factor of user %d: %w", u.ID, err)
	}
	q := url.Values{"secret": {f.Secret}, "issuer": {issuer}, "period": {strconv.Itoa(totpPeriod)},
		"algorithm": {"SHA1"}, "digits": {"6"}}
	uri := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + u.Email, RawQuery: q.Encode()}
	key, err := otp.NewKeyFromURL(uri.String())
	if err != nil {
		return nil, fmt.Errorf("rebuild TOTP key: %w", err)
	}
	return &Enrolment{Secret: f.Secret, URI: key.URL(), key: key}, nil
}

// ConfirmEnrolment confirms userID's pending secret with a code from it,
// marks the session sessionToken (if any) as having given a second factor,
// and returns the recovery codes, shown this once. A wrong code is refused
// and recorded.
func ConfirmEnrolment(ctx context.Context, d *db.DB, userID int64, code, sessionToken string) ([]string, error) {
	var codes []string
	err := audit.InTx(ctx, d, func(tx bun.Tx) error {
		f := new(totpFactor)
		err := tx.NewSelect().Model(f).Where("user_id = ? AND confirmed_at IS NULL", userID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Conflict("no_pending_enrolment", "start the enrolment first")
		}
		if err != nil {
			return fmt.Errorf("look up second factor of user %d: %w", userID, err)
		}
		if err := useTOTP(ctx, tx, f, code, time.Now().UTC()); err != nil {
			return audit.Refuse(userID, "second_factor", strconv.FormatInt(userID, 10), "enrol", nil, err)
		}
		now := time.Now().UTC()
		if _, err := tx.NewUpdate().Model((*totpFactor)(nil)).Set("confirmed_at = ?", now).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("confirm second factor: %w", err)
		}
		if codes, err = replaceRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		if err := markSecondFactor(ctx, tx, sessionToken); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ActorID: userID, ObjectType: "second_factor", ObjectID: strconv.FormatInt(userID, 10),
			Action: "enrol", After: map[string]any{"method": "totp", "recovery_codes": len(codes)}})
	})
	return codes, err
}

// RegenerateRecoveryCodes replaces userID's recovery codes with new ones,
// on behalf of actorID, and returns them (shown this once).
func RegenerateRecoveryCodes(ctx context.Context, tx bun.Tx, actorID, userID int64) ([]string, error) {
	enrolled, err := Enrolled(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	if !enrolled {
		return nil, fault.Conflict("not_enrolled", "recovery codes come with an authenticator app; enrol first")
	}
	codes, err := replaceRecoveryCodes(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	return codes, audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "second_factor", ObjectID: strconv.FormatInt(userID, 10),
		Action: "recovery_codes", After: map[string]any{"recovery_codes": len(codes)}})
}

// ProveSecondFactor marks the session sessionToken of userID as having
// given a second factor, with a TOTP or recovery code: for a session that
// was started before its user needed one.
func ProveSecondFactor(ctx context.Context, d *db.DB, userID int64, sessionToken, code string) error {
	return audit.InTx(ctx, d, func(tx bun.Tx) error {
		if err := useCode(ctx, tx, userID, code); err != nil {
			return err
		}
		return markSecondFactor(ctx, tx, sessionToken)
	})
}

// CompleteSignIn finishes a password sign-in that answered with a
// challenge: with a good code it starts a session (ending previousToken).
// Each challenge takes a few codes and lives a few minutes; a wrong or
// reused code is refused and recorded.
func CompleteSignIn(ctx context.Context, d *db.DB, challenge, code string, client Client, previousToken string) (*SignIn, error) {
	ch := new(signInChallenge)
	// The attempt is counted first, in its own transaction, so a refused
	// code (whose transaction rolls back) still uses one up.
	err := d.InTx(ctx, func(tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*signInChallenge)(nil)).Set("failures = failures + 1").
			Where("token_hash = ? AND expires_at > ? AND failures < ?", hashSecret(challenge), time.Now().UTC(), challengeAttempts).Exec(ctx)
		if err != nil {
			return fmt.Errorf("count sign-in attempt: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errChallengeGone
		}
		return tx.NewSelect().Model(ch).Where("token_hash = ?", hashSecret(challenge)).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	u, err := units.GetUser(ctx, d, ch.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errChallengeGone
	}
	in := &SignIn{User: u}
	err = audit.InTx(ctx, d, func(tx bun.Tx) error {
		if err := useCode(ctx, tx, u.ID, code); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*signInChallenge)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("end sign-in challenges: %w", err)
		}
		in.Token, in.Session, err = startSession(ctx, tx, u.ID, previousToken, client, MethodPassword, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

var errChallengeGone = fault.New(fault.KindUnauthorized, "challenge_expired",
	"this sign-in has expired or taken too many codes; sign in again with your password")

// startChallenge opens a challenge for userID, returning its secret.
func startChallenge(ctx context.Context, tx bun.Tx, userID int64) (string, time.Time, error) {
	now := time.Now().UTC()
	if _, err := tx.NewDelete().Model((*signInChallenge)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
		return "", time.Time{}, fmt.Errorf("purge sign-in challenges: %w", err)
	}
	token := newSecret()
	ch := &signInChallenge{TokenHash: hashSecret(token), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL)}
	if _, err := tx.NewInsert().Model(ch).Exec(ctx); err != nil {
		return "", time.Time{}, fmt.Errorf("start sign-in challenge: %w", err)
	}
	return token, ch.ExpiresAt, nil
}

// useCode accepts a TOTP code (six digits) or an unused recovery code of
// userID, using it up; anything else is a recorded refusal.
func useCode(ctx context.Context, tx bun.Tx, userID int64, code string) error {
	id := strconv.FormatInt(userID, 10)
	code = strings.TrimSpace(code)
	if isTOTPCode(code) {
		f := new(totpFactor)
		err := tx.NewSelect().Model(f).Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Refuse(userID, "second_factor", id, "sign_in", nil, errWrongCode)
		}
		if err != nil {
			return fmt.Errorf("look up second factor of user %d: %w", userID, err)
		}
		if err := useTOTP(ctx, tx, f, code, time.Now().UTC()); err != nil {
			return audit.Refuse(userID, "second_factor", id, "sign_in", nil, err)
		}
		return audit.Record(ctx, tx, audit.Change{ActorID: userID, ObjectType: "second_factor", ObjectID: id,
			Action: "verify", After: map[string]any{"method": "totp"}})
	}
	res, err := tx.NewUpdate().Model((*recoveryCode)(nil)).Set("used_at = ?", time.Now().UTC()).
		Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hashSecret(normaliseRecoveryCode(code))).Exec(ctx)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return audit.Refuse(userID, "second_factor", id, "sign_in", nil, errWrongCode)
	}
	left, err := tx.NewSelect().Model((*recoveryCode)(nil)).Where("user_id = ? AND used_at IS NULL", userID).Count(ctx)
	if err != nil {
		return fmt.Errorf("count recovery codes: %w", err)
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: userID, ObjectType: "second_factor", ObjectID: id,
		Action: "verify", After: map[string]any{"method": "recovery_code", "recovery_codes_left": left}})
}

var (
	errWrongCode = fault.New(fault.KindUnauthorized, "second_factor_wrong", "the code is wrong").With("reason", "wrong_code")
	errCodeReuse = fault.New(fault.KindUnauthorized, "second_factor_reused",
		"this code was already used; wait for the next one").With("reason", "code_reused")
)

// useTOTP accepts code if it is f's code for a time step near now that no
// earlier code was accepted for, and records that step. The update is
// conditional, so two requests racing with one code cannot both pass.
func useTOTP(ctx context.Context, tx bun.Tx, f *totpFactor, code string, now time.Time) error {
	step, ok := matchStep(f.Secret, code, now)
	if !ok {
		return errWrongCode
	}
	if step <= f.LastStep {
		return errCodeReuse
	}
	res, err := tx.NewUpdate().Model((*totpFactor)(nil)).Set("last_step = ?", step).
		Where("user_id = ? AND last_step < ?", f.UserID, step).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record TOTP step: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errCodeReuse
	}
	return nil
}

// matchStep finds the time step near now whose code is code.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	current := now.Unix() / totpPeriod
	for skew := int64(-totpSkew); skew <= totpSkew; skew++ {
		step := current + skew
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// Code is the TOTP code of secret at t: what an authenticator app shows.
func Code(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

func isTOTPCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// replaceRecoveryCodes discards userID's recovery codes and makes new ones.
func replaceRecoveryCodes(ctx context.Context, tx bun.Tx, userID int64) ([]string, error) {
	if _, err := tx.NewDelete().Model((*recoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("discard recovery codes: %w", err)
	}
	codes := make([]string, RecoveryCodeCount)
	rows := make([]recoveryCode, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		rows[i] = recoveryCode{UserID: userID, CodeHash: hashSecret(normaliseRecoveryCode(codes[i]))}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	return codes, nil
}

var recoveryEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newRecoveryCode is 60 random bits, written xxxx-xxxx-xxxx.
func newRecoveryCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	s := recoveryEncoding.EncodeToString(b)[:12]
	return s[:4] + "-" + s[4:8] + "-" + s[8:]
}

// normaliseRecoveryCode forgives case, spaces and dashes.
func normaliseRecoveryCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

func markSecondFactor(ctx context.Context, tx bun.Tx, sessionToken string) error {
	if sessionToken == "" {
		return nil
	}
	if _, err := tx.NewUpdate().Model((*Session)(nil)).Set("second_factor = ?", true).
		Where("token_hash = ?", hashSecret(sessionToken)).Exec(ctx); err != nil {
		return fmt.Errorf("mark session: %w", err)
	}
	return nil
}
