package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/web/httpx"
)

type notificationJSON struct {
	ID         string            `json:"id"`
	Kind       notify.Kind       `json:"kind"`
	ObjectType string            `json:"object_type"`
	ObjectID   string            `json:"object_id"`
	ActorID    *string           `json:"actor_id"`
	Args       map[string]string `json:"args"`
	Link       string            `json:"link"`
	CreatedAt  time.Time         `json:"created_at"`
	ReadAt     *time.Time        `json:"read_at"`
}

func toNotificationJSON(n *notify.Notification) notificationJSON {
	out := notificationJSON{ID: httpx.FormatID(n.ID), Link: n.Link(), CreatedAt: n.CreatedAt.UTC(), ReadAt: utcPtr(n.ReadAt)}
	if e := n.Event; e != nil {
		out.Kind, out.ObjectType, out.ObjectID, out.ActorID, out.Args = e.Kind, e.ObjectType, httpx.FormatID(e.ObjectID), optionalID(e.ActorID), e.Args()
	}
	return out
}

// listNotifications handles GET /notifications: the caller's own, newest
// first; ?unread=true for the unread ones only.
func (s *Handlers) listNotifications(c echo.Context) error {
	p, err := s.ReadPage(c, "notifications")
	if err != nil {
		return err
	}
	unread := c.QueryParam("unread")
	if unread != "" && unread != "true" && unread != "false" {
		return fault.Invalid("unread", "unread must be true or false")
	}
	rows, err := notify.List(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID(), p.AfterID, p.Limit+1, unread == "true")
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "notifications", p, rows, func(n *notify.Notification) int64 { return n.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toNotificationJSON))
}

// unreadNotifications handles GET /notifications/unread-count.
func (s *Handlers) unreadNotifications(c echo.Context) error {
	n, err := notify.UnreadCount(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"unread": n})
}

// readNotification handles POST /notifications/{id}/read; another user's
// notification is not found.
func (s *Handlers) readNotification(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "notification")
	if err != nil {
		return err
	}
	if err := notify.MarkRead(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID(), id, time.Now()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// readAllNotifications handles POST /notifications/read-all.
func (s *Handlers) readAllNotifications(c echo.Context) error {
	n, err := notify.MarkAllRead(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID(), time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"marked": n})
}

// getNotificationPreferences handles GET /notifications/preferences: the
// caller's e-mail choice for every kind (in-app notifications always stay).
func (s *Handlers) getNotificationPreferences(c echo.Context) error {
	prefs, err := notify.Preferences(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]notify.Preference{"items": prefs})
}

type preferencesBody struct {
	Items []struct {
		Kind   notify.Kind `json:"kind"`
		Email  *bool       `json:"email"`
		Digest *bool       `json:"digest"`
	} `json:"items"`
}

// putNotificationPreferences handles PUT /notifications/preferences: the
// kinds named change, the others stay; an unknown kind changes nothing.
func (s *Handlers) putNotificationPreferences(c echo.Context) error {
	var b preferencesBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	prefs := make([]notify.Preference, 0, len(b.Items))
	for _, it := range b.Items {
		if it.Email == nil {
			return fault.Invalid("email", "email must be true or false")
		}
		prefs = append(prefs, notify.Preference{Kind: it.Kind, Email: *it.Email, Digest: it.Digest})
	}
	ctx := c.Request().Context()
	userID := httpx.CurrentPrincipal(c).ID()
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error { return notify.SetPreferences(ctx, tx, userID, prefs) }); err != nil {
		return err
	}
	return s.getNotificationPreferences(c)
}

type outboxJSON struct {
	ID            string     `json:"id"`
	Channel       string     `json:"channel"`
	DeliveryKey   string     `json:"delivery_key"`
	EventID       string     `json:"event_id"`
	RecipientID   *string    `json:"recipient_id"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

func toOutboxJSON(m *outbox.Message) outboxJSON {
	return outboxJSON{ID: httpx.FormatID(m.ID), Channel: m.Channel, DeliveryKey: m.DeliveryKey, EventID: httpx.FormatID(m.EventID),
		RecipientID: optionalID(m.RecipientID), Status: m.Status, Attempts: m.Attempts, NextAttemptAt: m.NextAttemptAt.UTC(),
		LastError: m.LastError, CreatedAt: m.CreatedAt.UTC(), DeliveredAt: utcPtr(m.DeliveredAt)}
}

// listOutbox handles GET /outbox for admins: messages newest first,
// ?status=failed for those that wait for a re-send.
func (s *Handlers) listOutbox(c echo.Context) error {
	p, err := s.ReadPage(c, "outbox")
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains([]string{outbox.Pending, outbox.Delivered, outbox.Failed}, status) {
		return fault.Invalid("status", "status must be pending, delivered or failed")
	}
	rows, err := outbox.List(c.Request().Context(), s.DB, status, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "outbox", p, rows, func(m *outbox.Message) int64 { return m.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toOutboxJSON))
}

// resendOutbox handles POST /outbox/{id}/resend for admins: a failed
// message is queued again, audited.
func (s *Handlers) resendOutbox(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "outbox message")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var m *outbox.Message
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		m, err = outbox.Resend(ctx, tx, httpx.CurrentPrincipal(c).ID(), id, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOutboxJSON(m))
}
