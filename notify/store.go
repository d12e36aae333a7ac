package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// Notification is one event told to one user, in the app.
type Notification struct {
	bun.BaseModel `bun:"table:notifications,alias:n"`

	ID        int64        `bun:"id,pk,autoincrement"`
	EventID   int64        `bun:"event_id"`
	UserID    int64        `bun:"user_id"`
	CreatedAt time.Time    `bun:"created_at"`
	ReadAt    *time.Time   `bun:"read_at"`
	Event     *StoredEvent `bun:"rel:belongs-to,join:event_id=id"`
}

// Link is the portal path of the object a notification is about.
func (n Notification) Link() string {
	if n.Event == nil {
		return "/notifications"
	}
	return LinkOf(*n.Event)
}

// LinkOf is the portal path of an event's object.
func LinkOf(e StoredEvent) string {
	switch e.ObjectType {
	case "request":
		return fmt.Sprintf("/requests/%d", e.ObjectID)
	case "dispute":
		if id := e.Args()["request_id"]; id != "" {
			return "/requests/" + id
		}
		return "/finance/disputes"
	case "adjustment":
		return "/finance/adjustments"
	case "queue":
		return "/queue"
	case "budget":
		return "/budgets"
	case "statement": // the consumer unit's charges of the month, with its statement
		return fmt.Sprintf("/charges?period=%s&consumer_unit_id=%d#statements", e.Args()["ref"], e.ObjectID)
	}
	return "/notifications"
}

// List returns up to limit of the user's notifications, newest first,
// below beforeID when it is not 0 (the cursor of the next page).
func List(ctx context.Context, idb bun.IDB, userID, beforeID int64, limit int, unreadOnly bool) ([]Notification, error) {
	var rows []Notification
	q := idb.NewSelect().Model(&rows).Relation("Event").Where("n.user_id = ?", userID).OrderExpr("n.id DESC").Limit(int64(limit))
	if beforeID > 0 {
		q = q.Where("n.id < ?", beforeID)
	}
	if unreadOnly {
		q = q.Where("n.read_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("notifications of user %d: %w", userID, err)
	}
	return rows, nil
}

// UnreadCount is how many of the user's notifications are unread.
func UnreadCount(ctx context.Context, idb bun.IDB, userID int64) (int, error) {
	n, err := idb.NewSelect().Model((*Notification)(nil)).Where("user_id = ? AND read_at IS NULL", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("unread notifications of user %d: %w", userID, err)
	}
	return int(n), nil
}

// MarkRead marks one of the user's notifications read; someone else's is
// not found. Marking a read one again changes nothing.
func MarkRead(ctx context.Context, idb bun.IDB, userID, id int64, now time.Time) error {
	var owner int64
	err := idb.NewSelect().Model((*Notification)(nil)).Column("user_id").Where("id = ?", id).Scan(ctx, &owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != userID) {
		return fault.NotFound("notification")
	}
	if err != nil {
		return fmt.Errorf("find notification %d: %w", id, err)
	}
	if _, err := idb.NewUpdate().Model((*Notification)(nil)).Set("read_at = ?", now.UTC()).
		Where("id = ? AND user_id = ? AND read_at IS NULL", id, userID).Exec(ctx); err != nil {
		return fmt.Errorf("mark notification %d read: %w", id, err)
	}
	return nil
}

// MarkAllRead marks every unread notification of the user read and returns
// how many it marked.
func MarkAllRead(ctx context.Context, idb bun.IDB, userID int64, now time.Time) (int, error) {
	res, err := idb.NewUpdate().Model((*Notification)(nil)).Set("read_at = ?", now.UTC()).
		Where("user_id = ? AND read_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("mark notifications of user %d read: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// GetEvent returns one stored event.
func GetEvent(ctx context.Context, idb bun.IDB, id int64) (*StoredEvent, error) {
	e := new(StoredEvent)
	if err := idb.NewSelect().Model(e).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("notification event")
		}
		return nil, fmt.Errorf("get notification event %d: %w", id, err)
	}
	return e, nil
}

// Preference is one user's choice for one kind: in-app always, e-mail
// unless turned off.
type Preference struct {
	Kind  Kind `json:"kind"`
	Email bool `json:"email"`
	// Digest, for a kind that has one, is the choice of one daily digest
	// instead of an e-mail for each; nil for the other kinds, and on
	// SetPreferences nil leaves the choice as it is.
	Digest *bool `json:"digest,omitempty"`
}

type prefRow struct {
	bun.BaseModel `bun:"table:notification_prefs"`

	UserID int64 `bun:"user_id,pk"`
	Kind   Kind  `bun:"kind,pk"`
	Email  bool  `bun:"email"`
	Digest bool  `bun:"digest"`
}

// Preferences lists the user's e-mail choice for every kind, in rule order.
func Preferences(ctx context.Context, idb bun.IDB, userID int64) ([]Preference, error) {
	var rows []prefRow
	if err := idb.NewSelect().Model(&rows).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("preferences of user %d: %w", userID, err)
	}
	out := make([]Preference, 0, len(Rules))
	for _, k := range Kinds() {
		p := Preference{Kind: k, Email: true}
		digest := false
		if i := slices.IndexFunc(rows, func(r prefRow) bool { return r.Kind == k }); i >= 0 {
			p.Email, digest = rows[i].Email, rows[i].Digest
		}
		if r, _ := RuleFor(k); r.Digest {
			p.Digest = &digest
		}
		out = append(out, p)
	}
	return out, nil
}

// SetPreferences stores the user's e-mail choices; an unknown kind is
// refused and changes nothing.
func SetPreferences(ctx context.Context, tx bun.Tx, userID int64, prefs []Preference) error {
	for _, p := range prefs {
		r, ok := RuleFor(p.Kind)
		if !ok {
			return fault.Invalid("kind", "unknown notification kind %q", string(p.Kind))
		}
		if p.Digest != nil && !r.Digest {
			return fault.Invalid("digest", "notification kind %q has no daily digest", string(p.Kind))
		}
	}
	for _, p := range prefs {
		row := &prefRow{UserID: userID, Kind: p.Kind, Email: p.Email}
		q := tx.NewInsert().Model(row).On("CONFLICT (user_id, kind) DO UPDATE").Set("email = EXCLUDED.email")
		if p.Digest != nil {
			row.Digest = *p.Digest
			q = q.Set("digest = EXCLUDED.digest")
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("set preference %s of user %d: %w", p.Kind, userID, err)
		}
	}
	return nil
}

// emailOff returns which of the users get no e-mail of kind for each
// event: they turned it off, or chose the daily digest instead.
func emailOff(ctx context.Context, idb bun.IDB, userIDs []int64, kind Kind) (map[int64]bool, error) {
	var off []int64
	if err := idb.NewSelect().Model((*prefRow)(nil)).Column("user_id").
		Where("user_id IN (?) AND kind = ? AND (email = ? OR digest = ?)", bun.In(userIDs), kind, false, true).Scan(ctx, &off); err != nil {
		return nil, fmt.Errorf("notify: e-mail preferences: %w", err)
	}
	m := make(map[int64]bool, len(off))
	for _, id := range off {
		m[id] = true
	}
	return m, nil
}
