package portal

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/web/httpx"
)

// notificationsPageSize is how many notifications one page shows.
const notificationsPageSize = 30

type notificationRow struct {
	ID     int64
	Label  string
	Text   string
	Note   string
	Link   string
	At     time.Time
	Unread bool
}

type notificationsData struct {
	Rows []notificationRow
	Next string
}

// notificationsPage lists the user's notifications, newest first, each
// with a link to its object and a button that marks it read.
func (s *Pages) notificationsPage(c echo.Context) error {
	cur, err := s.ReadCursor(c, "notifications")
	if err != nil {
		return err
	}
	var before int64
	if cur != nil {
		before = cur.AfterID
	}
	rows, err := notify.List(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID(), before, notificationsPageSize+1, false)
	if err != nil {
		return err
	}
	p := httpx.Page{Limit: notificationsPageSize}
	rows, next := httpx.TrimPage(s.Kit, "notifications", p, rows, func(n *notify.Notification) int64 { return n.ID })
	v := s.newView(c, "", nil)
	data := notificationsData{}
	if next != "" {
		data.Next = nextPage(c, "/notifications", next)
	}
	for _, n := range rows {
		row := notificationRow{ID: n.ID, Link: n.Link(), At: n.CreatedAt, Unread: n.ReadAt == nil}
		if e := n.Event; e != nil {
			args := e.Args()
			row.Label = v.T.T("notify.kind." + string(e.Kind))
			row.Text = v.T.T("notify.text."+string(e.Kind), args["ref"], args["title"])
			row.Note = args["note"]
		}
		data.Rows = append(data.Rows, row)
	}
	v.Data, v.Title = data, v.T.T("notifications.title")
	return s.render(c, http.StatusOK, "notifications", v)
}

// readNotificationForm marks one notification read and, when the form
// asks to open it, goes on to its object.
func (s *Pages) readNotificationForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "notification")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	uid := httpx.CurrentPrincipal(c).ID()
	if err := notify.MarkRead(ctx, s.DB, uid, id, time.Now()); err != nil {
		return err
	}
	if c.FormValue("open") != "" {
		rows, err := notify.List(ctx, s.DB, uid, id+1, 1, false)
		if err == nil && len(rows) == 1 && rows[0].ID == id {
			return c.Redirect(http.StatusSeeOther, rows[0].Link())
		}
	}
	return c.Redirect(http.StatusSeeOther, "/notifications")
}

// readAllNotificationsForm marks every notification of the user read.
func (s *Pages) readAllNotificationsForm(c echo.Context) error {
	if _, err := notify.MarkAllRead(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID(), time.Now()); err != nil {
		return err
	}
	setFlash(c, s.tr(c).T("notifications.flash.all_read"))
	return c.Redirect(http.StatusSeeOther, "/notifications")
}

type preferenceRow struct {
	Kind  notify.Kind
	Label string
	Email bool
	// HasDigest says the kind offers a daily digest; Digest is the choice.
	HasDigest, Digest bool
}

// notificationSettingsPage shows the user's e-mail choice per kind.
func (s *Pages) notificationSettingsPage(c echo.Context) error {
	prefs, err := notify.Preferences(c.Request().Context(), s.DB, httpx.CurrentPrincipal(c).ID())
	if err != nil {
		return err
	}
	v := s.newView(c, "", nil)
	rows := make([]preferenceRow, len(prefs))
	for i, p := range prefs {
		rows[i] = preferenceRow{Kind: p.Kind, Label: v.T.T("notify.kind." + string(p.Kind)), Email: p.Email, HasDigest: p.Digest != nil, Digest: p.Digest != nil && *p.Digest}
	}
	v.Data, v.Title, v.Path = rows, v.T.T("notifications.settings.title"), "/notifications/settings"
	return s.render(c, http.StatusOK, "notification_settings", v)
}

// notificationSettingsForm stores the choices: a ticked box is e-mail on.
func (s *Pages) notificationSettingsForm(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var prefs []notify.Preference
	for _, k := range notify.Kinds() {
		p := notify.Preference{Kind: k, Email: form.Get("email_"+string(k)) != ""}
		if r, _ := notify.RuleFor(k); r.Digest {
			digest := form.Get("digest_"+string(k)) != ""
			p.Digest = &digest
		}
		prefs = append(prefs, p)
	}
	ctx := c.Request().Context()
	uid := httpx.CurrentPrincipal(c).ID()
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error { return notify.SetPreferences(ctx, tx, uid, prefs) }); err != nil {
		return err
	}
	setFlash(c, s.tr(c).T("notifications.settings.saved"))
	return c.Redirect(http.StatusSeeOther, "/notifications/settings")
}

type outboxData struct {
	Tabs     []navItem
	Statuses []string
	Status   string
	Rows     []outbox.Message
	Next     string
}

// adminOutboxPage lists the outbox's messages for admins, failed ones
// first by default, each with its error and a re-send button.
func (s *Pages) adminOutboxPage(c echo.Context) error {
	if !s.Allowed(c, httpx.OrgWide, "outbox", "manage") {
		return notFoundPage()
	}
	status := c.QueryParam("status")
	switch status {
	case "":
		status = outbox.Failed
	case "all":
	case outbox.Failed, outbox.Pending, outbox.Delivered:
	default:
		return notFoundPage()
	}
	cur, err := s.ReadCursor(c, "outbox")
	if err != nil {
		return err
	}
	var before int64
	if cur != nil {
		before = cur.AfterID
	}
	filter := status
	if filter == "all" {
		filter = ""
	}
	rows, err := outbox.List(c.Request().Context(), s.DB, filter, before, notificationsPageSize+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "outbox", httpx.Page{Limit: notificationsPageSize}, rows, func(m *outbox.Message) int64 { return m.ID })
	data := outboxData{Tabs: s.adminAccessFor(c).tabs("/admin/outbox"), Status: status, Rows: rows,
		Statuses: []string{outbox.Failed, outbox.Pending, outbox.Delivered, "all"}}
	if next != "" {
		data.Next = nextPage(c, "/admin/outbox", next)
	}
	v := s.newView(c, "", data)
	v.Title = v.T.T("outbox.title")
	return s.render(c, http.StatusOK, "admin_outbox", v)
}

// adminResendForm puts a failed message back in the queue, audited.
func (s *Pages) adminResendForm(c echo.Context) error {
	if !s.Allowed(c, httpx.OrgWide, "outbox", "manage") {
		return notFoundPage()
	}
	id, err := httpx.PathID(c, "id", "outbox message")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	uid := httpx.CurrentPrincipal(c).ID()
	if err := s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := outbox.Resend(ctx, tx, uid, id, time.Now())
		return err
	}); err != nil {
		return err
	}
	setFlash(c, s.tr(c).T("outbox.flash.resent", id))
	return c.Redirect(http.StatusSeeOther, "/admin/outbox")
}
