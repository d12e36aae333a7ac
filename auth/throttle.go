package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// Login throttling: failures are counted in the database per account and per
// client address over a sliding window, so every server process sees them.
const (
	ThrottleWindow       = 15 * time.Minute
	MaxFailuresPerEmail  = 10
	MaxFailuresPerClient = 50
)

func emailSubject(emailKey string) string { return "email:" + emailKey }
func clientSubject(ip string) string      { return "ip:" + ip }

// CheckThrottle refuses a login attempt once the account or the client
// address has failed too often within the window.
func CheckThrottle(ctx context.Context, idb bun.IDB, emailKey, clientIP string) error {
	since := time.Now().UTC().Add(-ThrottleWindow)
	limits := map[string]int{emailSubject(emailKey): MaxFailuresPerEmail, clientSubject(clientIP): MaxFailuresPerClient}
	for subject, limit := range limits {
		var n int
		if err := idb.NewSelect().Table("login_failures").ColumnExpr("COUNT(*)").
			Where("subject = ? AND failed_at > ?", subject, since).Scan(ctx, &n); err != nil {
			return fmt.Errorf("count login failures: %w", err)
		}
		if n >= limit {
			return &fault.Error{Kind: fault.KindTooManyRequests, Code: "too_many_attempts",
				Message: "too many failed sign-in attempts; try again in a few minutes",
				Details: map[string]any{"retry_after_seconds": int(ThrottleWindow.Seconds())}}
		}
	}
	return nil
}

// RecordFailure counts one failed login for the account and the client.
func RecordFailure(ctx context.Context, idb bun.IDB, emailKey, clientIP string) error {
	now := time.Now().UTC()
	for _, subject := range []string{emailSubject(emailKey), clientSubject(clientIP)} {
		if _, err := idb.NewRaw("INSERT INTO login_failures (subject, failed_at) VALUES (?, ?)", subject, now).Exec(ctx); err != nil {
			return fmt.Errorf("record login failure: %w", err)
		}
	}
	return nil
}

// ClearFailures forgets the account's failures after a successful login.
func ClearFailures(ctx context.Context, idb bun.IDB, emailKey string) error {
	if _, err := idb.NewDelete().Table("login_failures").Where("subject = ?", emailSubject(emailKey)).Exec(ctx); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
