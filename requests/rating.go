package requests

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/policies"
)

// The one-click rating link mailed when a request is resolved.
const (
	RatingPath              = "/rate/"            // the portal path that takes a link's token
	RatingLinkTTL           = 30 * 24 * time.Hour // how long a link rates
	RatingReminderBusinessN = 3                   // business days after which one reminder goes
	ratingKeySetting        = "rating_link_key"   // the setting holding the signing key
)

// RatingLink is one rating link. Only its token's hash is stored; the token
// is signed from the link's id (RatingToken), so the mail that carries it
// can be written, or written again, after commit.
type RatingLink struct {
	bun.BaseModel `bun:"table:rating_links,alias:rl"`

	ID         int64      `bun:"id,pk,autoincrement"`
	RequestID  int64      `bun:"request_id"`
	UserID     int64      `bun:"user_id"`
	TokenHash  string     `bun:"token_hash"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	RemindAt   time.Time  `bun:"remind_at"`
	RemindedAt *time.Time `bun:"reminded_at"`
	UsedAt     *time.Time `bun:"used_at"`
}

// errRatingLink is the one answer for a link that is unknown, used or
// expired, so a guess learns nothing.
var errRatingLink = fault.Conflict("rating_link", "this rating link is unknown, already used or expired")

// RatingKey returns the key that signs rating links, making it on first
// use; concurrent first uses agree (the first insert wins, all read it).
func RatingKey(ctx context.Context, idb bun.IDB) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := idb.NewRaw("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		ratingKeySetting, hex.EncodeToString(fresh)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store the rating key: %w", err)
	}
	var value string
	if err := idb.NewSelect().Table("settings").Column("value").Where("key = ?", ratingKeySetting).Scan(ctx, &value); err != nil {
		return nil, fmt.Errorf("read the rating key: %w", err)
	}
	return hex.DecodeString(value)
}

// RatingToken is the token of link linkID: its id and an HMAC of it.
func RatingToken(key []byte, linkID int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "rating:%d", linkID)
	return fmt.Sprintf("%d.%s", linkID, hex.EncodeToString(m.Sum(nil)[:16]))
}

// RatingURL is the address of the rating page of token.
func RatingURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + RatingPath + token
}

func hashRatingToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issueRatingLink makes the rating link of resolved request r for its
// requester; an earlier unused link of r (resolved before, then reopened)
// stops working. It returns the link's id, which the resolved notice
// carries so its mail can hold the token.
func issueRatingLink(ctx context.Context, tx bun.Tx, r *Request, now time.Time) (int64, error) {
	key, err := RatingKey(ctx, tx)
	if err != nil {
		return 0, err
	}
	if _, err := tx.NewUpdate().Model((*RatingLink)(nil)).Set("expires_at = ?", now).
		Where("request_id = ? AND used_at IS NULL AND expires_at > ?", r.ID, now).Exec(ctx); err != nil {
		return 0, fmt.Errorf("expire earlier rating links of request %d: %w", r.ID, err)
	}
	remindAt, err := afterBusinessDays(ctx, tx, r.ProviderUnitID, now, RatingReminderBusinessN)
	if err != nil {
		return 0, err
	}
	// The hash needs the id: insert with a placeholder unique to this
	// transaction, then set the real one.
	l := &RatingLink{RequestID: r.ID, UserID: r.RequesterID, TokenHash: "pending:" + newPlaceholder(), CreatedAt: now,
		ExpiresAt: now.Add(RatingLinkTTL), RemindAt: remindAt}
	if _, err := tx.NewInsert().Model(l).Returning("id").Exec(ctx); err != nil {
		return 0, fmt.Errorf("make rating link of request %d: %w", r.ID, err)
	}
	if _, err := tx.NewUpdate().Model((*RatingLink)(nil)).Set("token_hash = ?", hashRatingToken(RatingToken(key, l.ID))).
		Where("id = ?", l.ID).Exec(ctx); err != nil {
		return 0, fmt.Errorf("sign rating link %d: %w", l.ID, err)
	}
	return l.ID, nil
}

func newPlaceholder() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// afterBusinessDays is the start of the day after n business days of the
// provider's calendar, counting the day of from when business hours remain
// in it.
func afterBusinessDays(ctx context.Context, idb bun.IDB, providerUnitID int64, from time.Time, n int) (time.Time, error) {
	s, err := scheduleFor(ctx, idb, providerUnitID)
	if err != nil {
		return time.Time{}, err
	}
	t := from
	for range n {
		open := s.AddBusiness(t, time.Minute) // in the calendar's zone
		if open.IsZero() {
			return from.Add(time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
		y, m, d := open.Date()
		t = time.Date(y, m, d+1, 0, 0, 0, 0, open.Location())
	}
	return t.UTC(), nil
}

// RatingLinkOf finds the live link behind token, with the request it rates
// (as its requester sees it). An unknown, used or expired link, or one
// whose request is rated already, is the same refusal.
func RatingLinkOf(ctx context.Context, idb bun.IDB, authz *policies.Authorizer, token string, now time.Time) (*RatingLink, *Request, error) {
	l := new(RatingLink)
	err := idb.NewSelect().Model(l).Where("token_hash = ?", hashRatingToken(token)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errRatingLink
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up rating link: %w", err)
	}
	if l.UsedAt != nil || !now.Before(l.ExpiresAt) {
		return nil, nil, errRatingLink
	}
	rated, err := idb.NewSelect().Model((*Feedback)(nil)).Where("request_id = ?", l.RequestID).Exists(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("find feedback on request %d: %w", l.RequestID, err)
	}
	if rated {
		return nil, nil, errRatingLink
	}
	r, err := Get(ctx, idb, Viewer{UserID: l.UserID, Authz: authz}, l.RequestID)
	if err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

// RateByLink rates the request behind token as its requester, through
// GiveFeedback, and uses the link up. A link used twice or expired is
// refused; a refusal of the rating itself (out of range, not resolved)
// leaves the link unused: the transaction changes nothing.
func RateByLink(ctx context.Context, tx bun.Tx, authz *policies.Authorizer, token string, rating int, comment string, now time.Time) (*Feedback, error) {
	l, _, err := RatingLinkOf(ctx, tx, authz, token, now)
	if err != nil {
		return nil, err
	}
	// The condition makes the link single-use even when two posts race.
	res, err := tx.NewUpdate().Model((*RatingLink)(nil)).Set("used_at = ?", now).
		Where("id = ? AND used_at IS NULL AND expires_at > ?", l.ID, now).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("use rating link %d: %w", l.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, errRatingLink
	}
	f, err := GiveFeedback(ctx, tx, Viewer{UserID: l.UserID, Authz: authz}, l.RequestID, rating, comment, now)
	if fe, ok := fault.As(err); ok && fe.Code == "already_rated" {
		return nil, errRatingLink
	}
	return f, err
}

// RemindRatings sends the one reminder of every live rating link whose
// reminder is due and whose request is still not rated. It is safe when
// several processes sweep at once: the mark is a conditional update and
// the notice has a key, so each reminder is told once.
func RemindRatings(ctx context.Context, tx bun.Tx, now time.Time) (int, error) {
	var due []RatingLink
	if err := tx.NewSelect().Model(&due).
		Where("reminded_at IS NULL AND used_at IS NULL AND remind_at <= ? AND expires_at > ?", now, now).
		Where("NOT EXISTS (SELECT 1 FROM request_feedback f WHERE f.request_id = rl.request_id)").
		OrderExpr("id").Limit(500).Scan(ctx); err != nil {
		return 0, fmt.Errorf("find rating reminders due: %w", err)
	}
	sent := 0
	for _, l := range due {
		res, err := tx.NewUpdate().Model((*RatingLink)(nil)).Set("reminded_at = ?", now).
			Where("id = ? AND reminded_at IS NULL", l.ID).Exec(ctx)
		if err != nil {
			return sent, fmt.Errorf("mark rating reminder %d: %w", l.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		r, err := get(ctx, tx, l.RequestID)
		if err != nil {
			return sent, err
		}
		if err := tellWith(ctx, tx, notify.RatingReminder, r, 0, "", now, "rating_reminder:"+strconv.FormatInt(l.ID, 10),
			map[string]string{"rating_link": strconv.FormatInt(l.ID, 10)}); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}
