// Package httpx is the kit both web rooms share: the signed-in principal,
// CSRF, the one fault-to-status table and the JSON error envelope, the
// parsers of ids and bodies, signed list cursors, client address helpers,
// and the object lookups the API and the portal check access with the same
// way. It holds no handler of either room.
package httpx

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/sso"
	"github.com/tiski/tiski/units"
)

// Config holds the web layer's settings.
type Config struct {
	// TrustedProxies are the networks whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed; empty trusts nobody.
	TrustedProxies []*net.IPNet
	// BodyLimit caps request bodies, as echo's size strings ("1M"), except
	// attachment uploads.
	BodyLimit string
	// AttachmentLimit caps one uploaded file, in bytes.
	AttachmentLimit int64
	// RequestTimeout bounds the work of one request.
	RequestTimeout time.Duration
	// PasswordHash are the argon2id costs for passwords set through the API.
	PasswordHash auth.HashParams
	// AdjustmentApprovalLimitMinor is the largest manual adjustment, in minor
	// units, that posts without a second finance user's approval.
	AdjustmentApprovalLimitMinor int64
	// WebhookAllow are the ranges webhooks may reach although they are
	// loopback, private, link-local or metadata addresses (TISKI_WEBHOOK_ALLOW).
	WebhookAllow []netip.Prefix
	// InboundMailLimit is the largest e-mail taken in, in bytes (0: mailin's
	// default); POST /api/v1/mail/inbound takes bodies up to twice it, so a
	// larger message still reaches the quarantine with its header.
	InboundMailLimit int64
	// SSO is the organisation's OpenID Connect provider; off without an
	// issuer.
	SSO sso.Settings
	// SSOClient reaches the provider (nil: a client with a 10 s timeout).
	SSOClient *http.Client
	// LocalLogin says who may still sign in with a password.
	LocalLogin auth.LocalLogin
}

// DefaultAttachmentLimit is the largest file one upload may carry.
const DefaultAttachmentLimit int64 = 10 << 20

// MultipartOverhead is what the multipart envelope may add to the file: the
// boundaries, part headers and the small form fields beside the file.
const MultipartOverhead = 64 << 10

// Kit is what both rooms are built on: their dependencies and the helpers
// that read a request with them. Each room embeds one.
type Kit struct {
	DB    *db.DB
	Authz *policies.Authorizer
	Org   *units.Organisation
	Log   *slog.Logger
	Cfg   Config
}

// NewKit gathers what the rooms share.
func NewKit(d *db.DB, authz *policies.Authorizer, org *units.Organisation, log *slog.Logger, cfg Config) *Kit {
	if cfg.AttachmentLimit <= 0 {
		cfg.AttachmentLimit = DefaultAttachmentLimit
	}
	return &Kit{DB: d, Authz: authz, Org: org, Log: log, Cfg: cfg}
}

// Today is the current date in the organisation's time zone.
func (k *Kit) Today() string { return catalog.Today(time.Now(), k.Org.Location) }
