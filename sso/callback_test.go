package sso

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCallback(t *testing.T) {
	for _, c := range []struct {
		query string
		ok    bool
		want  Callback
	}{
		{"state=s1&code=c1", true, Callback{State: "s1", Code: "c1"}},
		{"state=s1&error=access_denied&error_description=no+thanks", true, Callback{State: "s1", Error: "access_denied", ErrorDescription: "no thanks"}},
		{"code=c1", false, Callback{}},                                              // no state
		{"state=s1", false, Callback{}},                                             // neither code nor error
		{"state=s1&code=c1&error=x", false, Callback{}},                             // both
		{"state=s1&state=s2&code=c1", false, Callback{}},                            // a parameter twice
		{"state=s1%0A&code=c1", false, Callback{}},                                  // a control character
		{"state=s1&code=%ff", false, Callback{}},                                    // not UTF-8
		{"state=" + strings.Repeat("a", maxParam+1) + "&code=c", false, Callback{}}, // too long
	} {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ParseCallback(q)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseCallback(%q) = %+v, %v; want %+v, %v", c.query, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseCallback: whatever the query, the parser does not panic, and
// what it accepts has a state, exactly one of a code and an error, and
// parameters that are short, valid UTF-8 and free of control characters,
// which read back the same once encoded again.
func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{"state=s&code=c", "state=s&error=access_denied&error_description=x", "state=a&state=b&code=c",
		"state=%00&code=c", "code=c", "", "state=s&code=c&extra=1", "state=%E2%82%AC&code=%F0%9F%98%80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cb, ok := ParseCallback(q)
		if !ok {
			if cb != (Callback{}) {
				t.Fatalf("refused %q but returned %+v", raw, cb)
			}
			return
		}
		if cb.State == "" || (cb.Code == "") == (cb.Error == "") {
			t.Fatalf("accepted %q as %+v", raw, cb)
		}
		for _, v := range []string{cb.State, cb.Code, cb.Error, cb.ErrorDescription} {
			if len(v) > maxParam || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
				t.Fatalf("accepted a bad parameter %q from %q", v, raw)
			}
		}
		again := url.Values{"state": {cb.State}}
		for k, v := range map[string]string{"code": cb.Code, "error": cb.Error, "error_description": cb.ErrorDescription} {
			if v != "" {
				again.Set(k, v)
			}
		}
		if back, ok := ParseCallback(again); !ok || back != cb {
			t.Fatalf("%+v read back as %+v, %v", cb, back, ok)
		}
	})
}

func TestParseGroups(t *testing.T) {
	rules, err := ParseGroups(" it-agents=IT:agent, money=finance,,admins = admin ")
	if err != nil {
		t.Fatal(err)
	}
	want := []GroupRule{{"it-agents", "IT", "agent"}, {"money", "", "finance"}, {"admins", "", "admin"}}
	if len(rules) != len(want) {
		t.Fatalf("rules = %v, want %v", rules, want)
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Fatalf("rule %d = %v, want %v", i, rules[i], want[i])
		}
	}
	for _, bad := range []string{"nogroup", "=IT:agent", "g=IT:owner", "g=:agent", "g=boss"} {
		if _, err := ParseGroups(bad); err == nil {
			t.Errorf("ParseGroups(%q) took it", bad)
		}
	}
}
