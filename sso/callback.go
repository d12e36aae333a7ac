package sso

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Callback is what the provider sent back to the redirect URL.
type Callback struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
}

// maxParam bounds one callback parameter: a state or code is far shorter.
const maxParam = 2048

// ParseCallback reads the callback's query. Each parameter must appear at
// most once, be valid UTF-8 without control characters and fit maxParam;
// otherwise ok is false and the callback is refused as malformed.
func ParseCallback(q url.Values) (cb Callback, ok bool) {
	get := func(name string) (string, bool) {
		vs := q[name]
		switch {
		case len(vs) == 0:
			return "", true
		case len(vs) > 1:
			return "", false
		}
		v := vs[0]
		if len(v) > maxParam || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
			return "", false
		}
		return v, true
	}
	var good [4]bool
	cb.State, good[0] = get("state")
	cb.Code, good[1] = get("code")
	cb.Error, good[2] = get("error")
	cb.ErrorDescription, good[3] = get("error_description")
	for _, g := range good {
		if !g {
			return Callback{}, false
		}
	}
	if cb.State == "" || (cb.Code == "") == (cb.Error == "") {
		return Callback{}, false
	}
	return cb, true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
