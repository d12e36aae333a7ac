// Package webhooks sends the events people hear about to other systems:
// subscriptions per unit (kept by its managers) or for the whole
// organisation (kept by admins), each hearing chosen event kinds, at a URL
// that gets a JSON body signed the Standard Webhooks way or a plain {"text"}
// body that Slack, Mattermost and Teams incoming webhooks accept.
//
// notify.Record puts one message per matching subscription in the outbox
// (channel "webhook"), in the transaction of the change; the outbox worker
// hands each to the Deliverer here, which signs it, posts it through a
// Guard that refuses internal addresses on the address actually dialled,
// and logs every attempt. Retries and their backoff are the outbox's.
package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// Formats of a webhook body.
const (
	FormatJSON = "json" // the event as JSON, Standard Webhooks style
	FormatChat = "chat" // {"text": "..."} for chat incoming webhooks
)

// Subscription is one URL hearing some event kinds of a unit (UnitID) or
// of the whole organisation (UnitID nil).
type Subscription struct {
	bun.BaseModel `bun:"table:webhook_subscriptions,alias:ws"`

	ID        int64      `bun:"id,pk,autoincrement"`
	UnitID    *int64     `bun:"unit_id"`
	Name      string     `bun:"name"`
	URL       string     `bun:"url"`
	Format    string     `bun:"format"`
	Locale    string     `bun:"locale"`
	Secret    string     `bun:"secret" json:"-"`
	CreatedBy int64      `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at"`
	DeletedAt *time.Time `bun:"deleted_at"`
	Kinds     []string   `bun:"-"`
}

type subscriptionKind struct {
	bun.BaseModel `bun:"table:webhook_subscription_kinds"`

	SubscriptionID int64  `bun:"subscription_id,pk"`
	Kind           string `bun:"kind,pk"`
}

// Input is what a subscriber says; UnitID 0 is the organisation.
type Input struct {
	UnitID int64
	Name   string
	URL    string
	Format string // json (the default) or chat
	Locale string // of a chat text: en (the default) or fi
	Kinds  []string
}

// Store keeps subscriptions. Known lists the event kinds a subscription
// may hear (notify.Kinds) and Locales the languages of chat texts.
type Store struct {
	Guard   *Guard
	Known   []string
	Locales []string
}

// Create checks in and stores a subscription with a fresh secret, audited;
// the returned subscription carries the secret, which is shown this once.
// Nothing is stored when any input is bad.
func (s *Store) Create(ctx context.Context, tx bun.Tx, actorID int64, in Input, now time.Time) (*Subscription, error) {
	sub, err := s.check(ctx, in)
	if err != nil {
		return nil, err
	}
	sub.Secret, sub.CreatedBy, sub.CreatedAt = NewSecret(), actorID, now.UTC()
	if _, err := tx.NewInsert().Model(sub).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("webhooks: create subscription: %w", err)
	}
	for _, k := range sub.Kinds {
		if _, err := tx.NewInsert().Model(&subscriptionKind{SubscriptionID: sub.ID, Kind: k}).Exec(ctx); err != nil {
			return nil, fmt.Errorf("webhooks: subscribe %d to %s: %w", sub.ID, k, err)
		}
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "webhook_subscription",
		ObjectID: strconv.FormatInt(sub.ID, 10), Action: "create", After: sub.public()}); err != nil {
		return nil, err
	}
	return sub, nil
}

func (s *Store) check(ctx context.Context, in Input) (*Subscription, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, fault.Invalid("name", "%s is required", "name")
	}
	if len([]rune(name)) > 200 {
		return nil, fault.Invalid("name", "name must be at most 200 characters")
	}
	if len(in.URL) > 2000 {
		return nil, fault.Invalid("url", "url must be at most 2000 characters")
	}
	format := in.Format
	if format == "" {
		format = FormatJSON
	}
	if format != FormatJSON && format != FormatChat {
		return nil, fault.Invalid("format", "format must be json or chat")
	}
	locale := in.Locale
	if locale == "" {
		locale = "en"
	}
	if len(s.Locales) > 0 && !slices.Contains(s.Locales, locale) {
		return nil, fault.Invalid("locale", "locale must be one of %s", strings.Join(s.Locales, ", "))
	}
	if len(in.Kinds) == 0 {
		return nil, fault.Invalid("kinds", "kinds must name at least one event kind")
	}
	kinds := slices.Clone(in.Kinds)
	for _, k := range kinds {
		if !slices.Contains(s.Known, k) {
			return nil, fault.Invalid("kinds", "unknown event kind %s", k).With("kind", k)
		}
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	u, err := s.Guard.CheckURL(ctx, in.URL)
	if err != nil {
		return nil, err
	}
	sub := &Subscription{Name: name, URL: u.String(), Format: format, Locale: locale, Kinds: kinds}
	if in.UnitID != 0 {
		sub.UnitID = &in.UnitID
	}
	return sub, nil
}

// public is the subscription without its secret, for the audit trail.
func (s *Subscription) public() Subscription {
	c := *s
	c.Secret = ""
	return c
}

// Get returns a live subscription, with its kinds, or a not-found fault.
func Get(ctx context.Context, idb bun.IDB, id int64) (*Subscription, error) {
	sub := new(Subscription)
	if err := idb.NewSelect().Model(sub).Where("id = ? AND deleted_at IS NULL", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("webhook subscription")
		}
		return nil, fmt.Errorf("webhooks: get subscription %d: %w", id, err)
	}
	if err := withKinds(ctx, idb, []*Subscription{sub}); err != nil {
		return nil, err
	}
	return sub, nil
}

// List returns the live subscriptions of a unit, or of the organisation
// when unitID is 0, oldest first.
func List(ctx context.Context, idb bun.IDB, unitID int64) ([]*Subscription, error) {
	var rows []*Subscription
	q := idb.NewSelect().Model(&rows).Where("deleted_at IS NULL").OrderExpr("id")
	if unitID == 0 {
		q = q.Where("unit_id IS NULL")
	} else {
		q = q.Where("unit_id = ?", unitID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("webhooks: list subscriptions: %w", err)
	}
	if err := withKinds(ctx, idb, rows); err != nil {
		return nil, err
	}
	return rows, nil
}

func withKinds(ctx context.Context, idb bun.IDB, subs []*Subscription) error {
	if len(subs) == 0 {
		return nil
	}
	byID := make(map[int64]*Subscription, len(subs))
	ids := make([]int64, len(subs))
	for i, s := range subs {
		byID[s.ID], ids[i] = s, s.ID
		s.Kinds = nil
	}
	var kinds []subscriptionKind
	if err := idb.NewSelect().Model(&kinds).Where("subscription_id IN (?)", bun.In(ids)).OrderExpr("subscription_id, kind").Scan(ctx); err != nil {
		return fmt.Errorf("webhooks: kinds of subscriptions: %w", err)
	}
	for _, k := range kinds {
		byID[k.SubscriptionID].Kinds = append(byID[k.SubscriptionID].Kinds, k.Kind)
	}
	return nil
}

// Delete ends a subscription, audited: it hears nothing more and its
// pending messages fail at delivery. Its delivery log stays.
func Delete(ctx context.Context, tx bun.Tx, actorID int64, sub *Subscription, now time.Time) error {
	res, err := tx.NewUpdate().Model((*Subscription)(nil)).Set("deleted_at = ?", now.UTC()).
		Where("id = ? AND deleted_at IS NULL", sub.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("webhooks: delete subscription %d: %w", sub.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("webhook subscription")
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "webhook_subscription",
		ObjectID: strconv.FormatInt(sub.ID, 10), Action: "delete", Before: sub.public()})
}

// Delivery is one attempt to deliver one message.
type Delivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID             int64  `bun:"id,pk,autoincrement"`
	OutboxID       int64  `bun:"outbox_id"`
	SubscriptionID int64  `bun:"subscription_id"`
	EventID        int64  `bun:"event_id"`
	Attempt        int    `bun:"attempt"`
	Outcome        string `bun:"outcome"` // delivered or failed
	// MessageStatus is the outbox message's status now: pending (it will
	// be tried again), delivered, or failed (for good; an admin can re-send).
	MessageStatus string    `bun:"message_status,scanonly"`
	ResponseCode  int       `bun:"response_code"`
	Error         string    `bun:"error"`
	At            time.Time `bun:"at"`
	Kind          string    `bun:"kind,scanonly"`
}

// Deliveries lists a subscription's attempts, newest first, below beforeID
// when it is not 0.
func Deliveries(ctx context.Context, idb bun.IDB, subscriptionID, beforeID int64, limit int) ([]Delivery, error) {
	var rows []Delivery
	q := idb.NewSelect().Model(&rows).ColumnExpr("wd.*").ColumnExpr("ne.kind AS kind").ColumnExpr("o.status AS message_status").
		Join("JOIN notification_events AS ne ON ne.id = wd.event_id").Join("JOIN outbox AS o ON o.id = wd.outbox_id").
		Where("wd.subscription_id = ?", subscriptionID).OrderExpr("wd.id DESC").Limit(int64(limit))
	if beforeID > 0 {
		q = q.Where("wd.id < ?", beforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("webhooks: deliveries of subscription %d: %w", subscriptionID, err)
	}
	return rows, nil
}
