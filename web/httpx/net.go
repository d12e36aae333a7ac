package httpx

import (
	"net"
	"net/http"

	"github.com/labstack/echo/v4"
)

// ClientIP takes the client address from X-Forwarded-For only when the
// direct peer is a trusted proxy; otherwise it is the peer itself.
func (k *Kit) ClientIP(r *http.Request) string {
	if len(k.Cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()(r)
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range k.Cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)(r)
}

// ViaTLS reports whether the client reached us over TLS, directly or through
// a trusted proxy that says so.
func (k *Kit) ViaTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if r.Header.Get("X-Forwarded-Proto") != "https" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range k.Cfg.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
