package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/web/httpx"
	"github.com/tiski/tiski/webhooks"
)

// deliveriesPageSize is how many attempts the delivery log shows at once.
const deliveriesPageSize = 30

// webhookScope is where subscriptions are kept: a unit, or the
// organisation (ID 0).
type webhookScope struct {
	ID    int64
	Label string
}

type webhooksData struct {
	Scopes  []webhookScope
	Scope   webhookScope
	Subs    []*webhooks.Subscription
	Kinds   []string
	Formats []string
	Locales []string
	Checked map[string]bool // the kinds ticked on the form
}

type webhookData struct {
	Sub        *webhooks.Subscription
	Scope      webhookScope
	Secret     string // shown once, right after the creation
	Deliveries []webhooks.Delivery
	Next       string
}

// webhookScopes lists where the user keeps subscriptions: the
// organisation for admins, then the units (those they manage and below).
func (s *Pages) webhookScopes(c echo.Context) ([]webhookScope, error) {
	k := s.WebhookKeeper(c)
	var out []webhookScope
	tr := s.tr(c)
	if k.Keeps(0) {
		out = append(out, webhookScope{ID: 0, Label: tr.T("webhooks.organisation")})
	}
	list, err := s.unitsFor(c, "webhook", "manage")
	if err != nil {
		return nil, err
	}
	for _, u := range list {
		out = append(out, webhookScope{ID: u.ID, Label: u.Label()})
	}
	return out, nil
}

func scopeOf(scopes []webhookScope, id int64) (webhookScope, bool) {
	for _, sc := range scopes {
		if sc.ID == id {
			return sc, true
		}
	}
	return webhookScope{}, false
}

// webhooksPage lists the subscriptions of one scope (?unit_id=, the first
// the user keeps without it) with the form that adds one.
func (s *Pages) webhooksPage(c echo.Context) error {
	return s.showWebhooks(c, http.StatusOK, c.QueryParam("unit_id"), nil, nil)
}

func (s *Pages) showWebhooks(c echo.Context, status int, rawUnit string, errs map[string]string, form url.Values) error {
	scopes, err := s.webhookScopes(c)
	if err != nil {
		return err
	}
	if len(scopes) == 0 {
		return notFoundPage()
	}
	scope := scopes[0]
	if rawUnit != "" {
		id, err := strconv.ParseInt(rawUnit, 10, 64)
		found := false
		if err == nil {
			scope, found = scopeOf(scopes, id)
		}
		if !found {
			return notFoundPage()
		}
	}
	ctx := c.Request().Context()
	subs, err := webhooks.ListAs(ctx, s.DB, s.WebhookKeeper(c), scope.ID)
	if err != nil {
		return err
	}
	data := webhooksData{Scopes: scopes, Scope: scope, Subs: subs, Formats: []string{webhooks.FormatJSON, webhooks.FormatChat}, Locales: s.texts.Locales()}
	for _, k := range notify.Kinds() {
		data.Kinds = append(data.Kinds, string(k))
	}
	v := s.newView(c, "", data)
	v.Title, v.Path = v.T.T("webhooks.title"), "/webhooks"
	if errs != nil {
		v.Errors = errs
	}
	if form != nil {
		v.Form = form
		data.Checked = map[string]bool{}
		for _, k := range form["kinds"] {
			data.Checked[k] = true
		}
		v.Data = data
	} else {
		v.Form.Set("format", webhooks.FormatJSON)
		v.Form.Set("locale", v.Locale)
	}
	return s.render(c, status, "webhooks", v)
}

// createWebhookForm adds a subscription and shows it with its secret,
// this once; refused input is shown beside its field.
func (s *Pages) createWebhookForm(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var unitID int64
	if raw := form.Get("unit_id"); raw != "" && raw != "0" {
		if unitID, err = strconv.ParseInt(raw, 10, 64); err != nil {
			return notFoundPage()
		}
	}
	in := webhooks.Input{UnitID: unitID, Name: form.Get("name"), URL: form.Get("url"), Format: form.Get("format"),
		Locale: form.Get("locale"), Kinds: form["kinds"]}
	ctx := c.Request().Context()
	var sub *webhooks.Subscription
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		sub, err = s.WebhookStore(s.texts.Locales()).CreateAs(ctx, tx, s.WebhookKeeper(c), in, time.Now())
		return err
	})
	if err != nil {
		r, ok := formFault(s.tr(c), adminTexts, err)
		if !ok {
			return err
		}
		return s.showWebhooks(c, r.Status, httpx.FormatID(unitID), r.at("name"), form)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store") // the page carries the secret
	return s.showWebhook(c, http.StatusCreated, sub, sub.Secret)
}

// webhookPage shows one subscription and its delivery log, newest first.
func (s *Pages) webhookPage(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "webhook subscription")
	if err != nil {
		return err
	}
	sub, err := webhooks.GetAs(c.Request().Context(), s.DB, s.WebhookKeeper(c), id)
	if err != nil {
		return err
	}
	return s.showWebhook(c, http.StatusOK, sub, "")
}

func (s *Pages) showWebhook(c echo.Context, status int, sub *webhooks.Subscription, secret string) error {
	kind := "webhook-deliveries:" + httpx.FormatID(sub.ID)
	cur, err := s.ReadCursor(c, kind)
	if err != nil {
		return err
	}
	var before int64
	if cur != nil {
		before = cur.AfterID
	}
	ctx := c.Request().Context()
	rows, err := webhooks.Deliveries(ctx, s.DB, sub.ID, before, deliveriesPageSize+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, kind, httpx.Page{Limit: deliveriesPageSize}, rows, func(d *webhooks.Delivery) int64 { return d.ID })
	tr := s.tr(c)
	data := webhookData{Sub: sub, Secret: secret, Deliveries: rows, Scope: webhookScope{Label: tr.T("webhooks.organisation")}}
	if sub.UnitID != nil {
		ref := s.unitRef(ctx, unitNames{}, *sub.UnitID)
		data.Scope = webhookScope{ID: ref.ID, Label: ref.Label()}
	}
	path := "/webhooks/" + httpx.FormatID(sub.ID)
	if next != "" {
		data.Next = nextPage(c, path, next)
	}
	v := s.newView(c, sub.Name, data)
	v.Path = "/webhooks"
	return s.render(c, status, "webhook", v)
}

// deleteWebhookForm ends a subscription after a confirmation; its log stays.
func (s *Pages) deleteWebhookForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "webhook subscription")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sub, err := webhooks.GetAs(ctx, s.DB, s.WebhookKeeper(c), id)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	back := "/webhooks?unit_id=" + httpx.FormatID(sub.Scope())
	if asked, err := s.needConfirm(c, form, "webhooks.delete.confirm", "/webhooks/"+httpx.FormatID(sub.ID)); asked || err != nil {
		return err
	}
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := webhooks.DeleteAs(ctx, tx, s.WebhookKeeper(c), id, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	setFlash(c, s.tr(c).T("flash.webhook_deleted", sub.Name))
	return c.Redirect(http.StatusSeeOther, back)
}
