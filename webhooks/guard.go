package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/tiski/tiski/fault"
)

// blockedRanges are the addresses a webhook is never sent to unless the
// operator allows them: an organisation's webhook sender must not become a
// way into its own network or the cloud's metadata service.
var blockedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this" network
	netip.MustParsePrefix("10.0.0.0/8"),     // private
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, with the metadata address 169.254.169.254
	netip.MustParsePrefix("172.16.0.0/12"),  // private
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"), // private
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64, which reaches IPv4 addresses
	netip.MustParsePrefix("fc00::/7"),       // unique local, with the metadata address fd00:ec2::254
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("ff00::/8"),       // multicast
}

// Guard decides which addresses webhooks may reach. Allow holds the ranges
// the operator opened (TISKI_WEBHOOK_ALLOW), checked before the blocked
// ones; Resolver looks host names up at subscription time (the default
// resolver when nil).
type Guard struct {
	Allow    []netip.Prefix
	Resolver *net.Resolver
}

// ParseAllow reads TISKI_WEBHOOK_ALLOW: CIDR ranges separated by commas
// ("127.0.0.1/32,10.20.0.0/16"); a bare address is its own range.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("TISKI_WEBHOOK_ALLOW: %q is neither a CIDR range nor an address", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("TISKI_WEBHOOK_ALLOW: %q is not a CIDR range", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Permits reports whether a webhook may be sent to addr.
func (g *Guard) Permits(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range g.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	for _, p := range blockedRanges {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// errRefusedAddress is the dialler's refusal; a delivery it stops is not
// retried.
var errRefusedAddress = errors.New("refused address")

// control is the net.Dialer Control func: it runs on the address actually
// being dialled, after DNS, so a name that resolved to a public address
// when the subscription was made and to a private one now (DNS rebinding)
// is still refused.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an IP address and port", errRefusedAddress, address)
	}
	if !g.Permits(ap.Addr()) {
		return fmt.Errorf("%w: %s is a loopback, private, link-local or metadata address", errRefusedAddress, ap.Addr())
	}
	return nil
}

// Client is the HTTP client webhooks are sent with: every connection goes
// through the guard, no proxy (a proxy would dial for us, unchecked), no
// redirects followed (the receiver answers itself or not at all).
func (g *Guard) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: g.control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CheckURL refuses, with a clear fault, a URL that is not http(s) or whose
// host is, or resolves to, an address the guard does not permit. The
// dialler checks again at every delivery; this check is there so that the
// subscriber hears of the mistake at once.
func (g *Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, fault.Invalid("url", "url must be an http or https address")
	}
	if u.User != nil {
		return nil, fault.Invalid("url", "url must not carry a user name or password")
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return nil, fault.Invalid("url", "the host %s of the url cannot be resolved", host)
		}
	}
	for _, a := range addrs {
		if !g.Permits(a) {
			return nil, fault.Invalid("url", "webhooks are not sent to %s: it is a loopback, private, link-local or metadata address", a.Unmap().String()).
				With("address", a.Unmap().String())
		}
	}
	return u, nil
}
