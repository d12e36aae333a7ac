package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// Login throttling. Every attempt is written down before its password is
// checked and only then counted, so attempts made at the same moment see
// each other: the k-th attempt to be written counts at least k rows, and no
// more than the limit are ever checked however many arrive together. Rows
// live in the database, so every server process sees them.
//
// Three subjects are counted over a sliding window:
//   - an account from one address: a hard limit, since it is one guesser;
//   - one address: a hard limit across accounts (a sprayer);
//   - an account from anywhere: no lock, which a stranger could trigger on
//     someone else's account, but a growing delay between checked attempts
//     once its free allowance is used up (1 s, 2 s, 4 s … at most
//     MaxAccountDelay), so a distributed guesser gets about one try a minute
//     while the owner still gets in.
//
// An attempt refused before its password was checked is forgotten for the
// account (it tested nothing), but kept for the address that sent it.
const (
	ThrottleWindow       = 15 * time.Minute
	MaxFailuresPerPair   = 10
	MaxFailuresPerClient = 50
	FreeFailuresPerEmail = 10
	MaxAccountDelay      = time.Minute
)

func emailSubject(emailKey string) string    { return "email:" + emailKey }
func clientSubject(ip string) string         { return "ip:" + ip }
func pairSubject(emailKey, ip string) string { return "pair:" + emailKey + "|" + ip }
func tooMany(retry time.Duration) *fault.Error {
	secs := int(retry.Round(time.Second).Seconds())
	if secs < 1 {
		secs = 1
	}
	return fault.New(fault.KindTooManyRequests, "too_many_attempts", "too many failed sign-in attempts; try again in a few minutes").
		With("retry_after_seconds", secs)
}

// attempt is one sign-in attempt written down before its check.
type attempt struct {
	account, pair, client int64 // login_failures row ids
	clientIP              string
}

// admit writes the attempt down, then counts it: an error refuses it
// before any password is checked.
func admit(ctx context.Context, d *db.DB, emailKey, clientIP string, now time.Time) (*attempt, error) {
	a := &attempt{clientIP: clientIP}
	for _, row := range []struct {
		id      *int64
		subject string
	}{{&a.account, emailSubject(emailKey)}, {&a.pair, pairSubject(emailKey, clientIP)}, {&a.client, clientSubject(clientIP)}} {
		if err := d.NewRaw("INSERT INTO login_failures (subject, failed_at) VALUES (?, ?) RETURNING id", row.subject, now).
			Scan(ctx, row.id); err != nil {
			return nil, fmt.Errorf("record sign-in attempt: %w", err)
		}
	}
	since := now.Add(-ThrottleWindow)
	count := func(subject string) (int, error) {
		var n int
		err := d.NewSelect().Table("login_failures").ColumnExpr("COUNT(*)").
			Where("subject = ? AND failed_at > ?", subject, since).Scan(ctx, &n)
		return n, err
	}
	refuse := func(err error) (*attempt, error) {
		if ferr := a.unchecked(ctx, d); ferr != nil {
			return nil, ferr
		}
		return nil, err
	}
	// Our row is committed before we count, so the k-th attempt to commit
	// counts at least k rows: no more than the limit pass however many
	// arrive together (under a burst, fewer may: a refusal is safe).
	if n, err := count(pairSubject(emailKey, clientIP)); err != nil {
		return nil, fmt.Errorf("count sign-in attempts: %w", err)
	} else if n > MaxFailuresPerPair {
		return refuse(tooMany(ThrottleWindow))
	}
	if n, err := count(clientSubject(clientIP)); err != nil {
		return nil, fmt.Errorf("count sign-in attempts: %w", err)
	} else if n > MaxFailuresPerClient {
		return refuse(tooMany(ThrottleWindow))
	}
	n, err := count(emailSubject(emailKey))
	if err != nil {
		return nil, fmt.Errorf("count sign-in attempts: %w", err)
	}
	if n > FreeFailuresPerEmail {
		var last time.Time
		if err := d.NewSelect().Table("login_failures").Column("failed_at").
			Where("subject = ? AND id <> ?", emailSubject(emailKey), a.account).
			OrderExpr("failed_at DESC").Limit(1).Scan(ctx, &last); err != nil {
			return nil, fmt.Errorf("last sign-in attempt: %w", err)
		}
		if wait := last.Add(accountDelay(n - FreeFailuresPerEmail)).Sub(now); wait > 0 {
			return refuse(tooMany(wait))
		}
	}
	return a, nil
}

// unchecked forgets, for the account, an attempt refused before its
// password was checked: it tested nothing about the account.
func (a *attempt) unchecked(ctx context.Context, idb bun.IDB) error {
	if _, err := idb.NewDelete().Table("login_failures").Where("id = ?", a.account).Exec(ctx); err != nil {
		return fmt.Errorf("forget unchecked attempt: %w", err)
	}
	return nil
}

// accountDelay is the gap an account needs between checked attempts once
// it is `over` attempts beyond its free allowance.
func accountDelay(over int) time.Duration {
	if over > 6 {
		return MaxAccountDelay
	}
	return min(time.Duration(1<<(over-1))*time.Second, MaxAccountDelay)
}

// succeeded forgets the attempt and the failures of the account and of
// this account from this address: a right password is no failure.
func (a *attempt) succeeded(ctx context.Context, idb bun.IDB, emailKey string) error {
	if _, err := idb.NewDelete().Table("login_failures").
		Where("id IN (?) OR subject IN (?)", bun.In([]int64{a.account, a.pair, a.client}),
			bun.In([]string{emailSubject(emailKey), pairSubject(emailKey, a.clientIP)})).Exec(ctx); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}
