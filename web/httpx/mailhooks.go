package httpx

import (
	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/webhooks"
)

// InboundMailPath is where relays POST raw messages.
const InboundMailPath = "/api/v1/mail/inbound"

// MailBodyLimit is the body limit of InboundMailPath: twice the message
// limit, so that a message over it is still read far enough to be
// quarantined as oversized with its header, not refused at the door.
func (c Config) MailBodyLimit() int64 { return 2 * c.MailLimit() }

// MailLimit is the largest message mailin takes.
func (c Config) MailLimit() int64 {
	if c.InboundMailLimit > 0 {
		return c.InboundMailLimit
	}
	return mailin.DefaultMaxBytes
}

// MailDeps are what mailin works with in both rooms.
func (k *Kit) MailDeps() mailin.Deps {
	return mailin.Deps{DB: k.DB, Authz: k.Authz, Org: *k.Org, MaxBytes: k.Cfg.MailLimit()}
}

// WebhookStore is the subscription store both rooms create through: every
// event kind, the chat texts in the given locales, the guard of
// TISKI_WEBHOOK_ALLOW.
func (k *Kit) WebhookStore(locales []string) *webhooks.Store {
	known := make([]string, 0, len(notify.Kinds()))
	for _, kind := range notify.Kinds() {
		known = append(known, string(kind))
	}
	return &webhooks.Store{Guard: &webhooks.Guard{Allow: k.Cfg.WebhookAllow}, Known: known, Locales: locales}
}

// WebhookKeeper is the signed-in user as keeper of webhooks.
func (k *Kit) WebhookKeeper(c echo.Context) webhooks.Keeper {
	return webhooks.Keeper{UserID: CurrentPrincipal(c).ID(), Authz: k.Authz}
}
