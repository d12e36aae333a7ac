package webtest

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/units"
)

// enrolSecondFactors gives each persona whose roles need a second factor
// (admin, finance, auditor) a confirmed authenticator secret, as a real
// one would have, so they sign in with a password and a code.
func (f *Fixture) enrolSecondFactors() {
	f.T.Helper()
	for _, p := range Personas {
		if !slices.ContainsFunc(p.OrgRoles, func(r string) bool { return slices.Contains(auth.SecondFactorRoles, r) }) {
			continue
		}
		f.EnrolSecondFactor(f.Users[p.Name])
	}
}

// EnrolSecondFactor enrols userID in TOTP and returns the secret.
func (f *Fixture) EnrolSecondFactor(userID int64) string {
	f.T.Helper()
	ctx := context.Background()
	var e *auth.Enrolment
	err := f.DB.InTx(ctx, func(tx bun.Tx) error {
		u, err := units.GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		e, err = auth.BeginEnrolment(ctx, tx, u, auth.TOTPIssuer)
		return err
	})
	if err != nil {
		f.T.Fatalf("enrol user %d: %v", userID, err)
	}
	code, err := auth.Code(e.Secret, time.Now())
	if err != nil {
		f.T.Fatal(err)
	}
	if _, err := auth.ConfirmEnrolment(ctx, f.DB, userID, code, ""); err != nil {
		f.T.Fatalf("confirm enrolment of user %d: %v", userID, err)
	}
	return e.Secret
}

// RecoveryCode makes userID new recovery codes and returns one: what the
// kit signs the enrolled personas in with, since a TOTP code may be used
// only once in its 30 seconds and tests sign in more often than that.
func (f *Fixture) RecoveryCode(userID int64) string {
	f.T.Helper()
	ctx := context.Background()
	var codes []string
	err := f.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		codes, err = auth.RegenerateRecoveryCodes(ctx, tx, 0, userID)
		return err
	})
	if err != nil {
		f.T.Fatalf("recovery codes of user %d: %v", userID, err)
	}
	return codes[0]
}

// CompleteSignIn finishes a sign-in of persona name that POST /session
// answered with res: a challenge (202) is answered with a recovery code, and
// a session that must first enrol (a user made a money-role holder by the
// test itself) enrols through the API, as its user would. Any other answer
// is returned as it is.
func (f *Fixture) CompleteSignIn(c *Client, name string, res Response) Response {
	f.T.Helper()
	switch {
	case res.Status == http.StatusAccepted:
		return c.Call("POST", "/api/v1/session/second-factor", map[string]string{
			"challenge": res.Str("challenge"), "code": f.RecoveryCode(f.Users[name])})
	case res.Status == http.StatusOK && res.JSON["second_factor_enrolment_required"] == true:
		c.CSRF = res.Str("csrf_token")
		begun := c.Call("POST", "/api/v1/me/two-factor", nil)
		code, err := auth.Code(begun.Str("secret"), time.Now())
		if begun.Status != http.StatusCreated || err != nil {
			f.T.Fatalf("enrol %s: %d %s %v", name, begun.Status, begun.Body, err)
		}
		if confirmed := c.Call("POST", "/api/v1/me/two-factor/confirm", map[string]string{"code": code}); confirmed.Status != http.StatusOK {
			f.T.Fatalf("confirm enrolment of %s: %d %s", name, confirmed.Status, confirmed.Body)
		}
	}
	return res
}

var challengeField = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// ChallengeOf is the challenge the login form's code page carries.
func ChallengeOf(p Page) string {
	if m := challengeField.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

var secretField = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// CompleteBrowserSignIn finishes a sign-in of persona name through the
// login form that answered p: the code page is answered with a recovery
// code, and a session sent to enrol (a user made a money-role holder by the
// test itself) enrols on the portal's page, as its user would, and is then
// sent on to next. Any other answer is returned as it is.
func (f *Fixture) CompleteBrowserSignIn(b *Browser, name string, p Page, next string) Page {
	f.T.Helper()
	if challenge := ChallengeOf(p); p.Status == http.StatusOK && challenge != "" {
		return b.Post("/login/code", url.Values{"challenge": {challenge}, "code": {f.RecoveryCode(f.Users[name])}, "next": {next}})
	}
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/settings/two-factor") {
		return p
	}
	b.Get(p.Location) // the enrolment page, and its CSRF token
	begun := b.Post("/settings/two-factor/begin", url.Values{"next": {next}})
	m := secretField.FindStringSubmatch(begun.Body)
	if begun.Status != http.StatusOK || m == nil {
		f.T.Fatalf("enrol %s: %d %s", name, begun.Status, begun.Body)
	}
	code, err := auth.Code(m[1], time.Now())
	if err != nil {
		f.T.Fatal(err)
	}
	if confirmed := b.Post("/settings/two-factor/confirm", url.Values{"code": {code}, "next": {next}}); confirmed.Status != http.StatusOK ||
		!strings.Contains(confirmed.Body, `id="recovery-codes"`) {
		f.T.Fatalf("confirm enrolment of %s: %d %s", name, confirmed.Status, confirmed.Body)
	}
	return Page{Status: http.StatusSeeOther, Location: next}
}
