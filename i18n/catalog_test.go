package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEveryLocaleHasTheSameKeys(t *testing.T) {
	c := newCatalog(t)
	if got := c.Locales(); !slices.Contains(got, "en") || !slices.Contains(got, "fi") {
		t.Fatalf("locales = %v, want English and Finnish among them", got)
	}
	for _, locale := range c.Locales() {
		for key := range c.texts[Fallback] {
			if _, ok := c.texts[locale][key]; !ok {
				t.Errorf("%s: %q has no text", locale, key)
			}
		}
		for key := range c.texts[locale] {
			if _, ok := c.texts[Fallback][key]; !ok {
				t.Errorf("%s: %q is not in %s.json", locale, key, Fallback)
			}
		}
	}
}

// verbs are the printf verbs of a text in order, %% left out.
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?([a-zA-Z%])`)

func verbsOf(text string) string {
	var out []string
	for _, m := range verbs.FindAllStringSubmatch(text, -1) {
		if m[1] != "%" {
			out = append(out, m[1])
		}
	}
	return strings.Join(out, " ")
}

func TestTextsAreFilledAndTakeTheSameArguments(t *testing.T) {
	c := newCatalog(t)
	for _, locale := range c.Locales() {
		for key, text := range c.texts[locale] {
			// A separator may be a (no-break) space; no other text may be blank.
			if text == "" || (strings.TrimSpace(text) == "" && key != "format.group") {
				t.Errorf("%s: %q is empty", locale, key)
			}
			if want, got := verbsOf(c.texts[Fallback][key]), verbsOf(text); got != want {
				t.Errorf("%s: %q takes %q, %s takes %q", locale, key, got, Fallback, want)
			}
		}
	}
}

// moduleRoot is the directory of go.mod above the package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package")
		}
		dir = parent
	}
}

// The portal calls its translator as .T.T "key" in templates, or
// (.T.In locale).T "key" for a text in another language, and as T("key")
// or T(locale, "key") in Go; a navigation item names its text as
// Key: "key", a flash picks it as key := "key".
var (
	templateKey = regexp.MustCompile(`(?:\.T\.T|\)\.T)\s+"([^"]+)"`)
	goKey       = regexp.MustCompile(`(?:\.T\((?:[^"\n]*?,\s*)?|Key:\s*|\bkey\s*:?=\s*)"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)
)

func TestEveryKeyThePortalUsesExists(t *testing.T) {
	c := newCatalog(t)
	root := moduleRoot(t)
	used := 0
	err := filepath.WalkDir(filepath.Join(root, "web"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var pattern *regexp.Regexp
		switch {
		case strings.HasSuffix(path, ".html"):
			pattern = templateKey
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			pattern = goKey
		default:
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range pattern.FindAllStringSubmatch(string(raw), -1) {
			used++
			if _, ok := c.texts[Fallback][m[1]]; !ok {
				t.Errorf("%s uses %q, which has no text", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 300 {
		t.Errorf("found only %d uses of keys; is the pattern still the portal's?", used)
	}
}

func TestTFallsBackToEnglishThenToTheKey(t *testing.T) {
	c := newCatalog(t)
	if got := c.T("fi", "flash.ordered", "REQ-000001"); got != "Pyyntö REQ-000001 lähetetty." {
		t.Errorf("fi = %q", got)
	}
	if got := c.T("sv", "flash.ordered", "REQ-000001"); got != "Request REQ-000001 placed." {
		t.Errorf("unknown locale = %q", got)
	}
	if got := c.T("fi", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
}

// swedish is a third locale as one file would bring it: a few texts and its
// own way of writing numbers and dates (ISO dates, a space between digit
// groups, the krona sign after the amount, its own month names).
const swedish = `{"nav.home": "Hem",
	"format.decimal": ",", "format.group": "\u202f", "format.percent": "{number}\u00a0%",
	"format.money": "{sign}{number}\u00a0{symbol}", "format.money.code": "{sign}{number}\u00a0{code}",
	"format.date": "2006-01-02", "format.time": "2006-01-02 kl. 15:04",
	"format.month": "{month} {year}", "format.month.names": "jan feb mar apr maj jun jul aug sep okt nov dec"}`

// englishFile is the English message file built into the binary.
func englishFile(t *testing.T) []byte {
	t.Helper()
	raw, err := fs.ReadFile(files, "locales/en.json")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestALanguageIsAFile(t *testing.T) {
	en := englishFile(t)
	c, err := Load(fstest.MapFS{"en.json": {Data: en}, "sv.json": {Data: []byte(swedish)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Locales(), ","); got != "en,sv" {
		t.Errorf("locales = %s", got)
	}
	if got := c.T("sv", "nav.home"); got != "Hem" {
		t.Errorf("sv = %q", got)
	}
	if got := c.T("sv", "nav.queue"); got != "Queue" {
		t.Errorf("sv falls back to %q", got)
	}
	if got := c.Match("sv-SE,en;q=0.5"); got != "sv" {
		t.Errorf("match = %q", got)
	}
	at := time.Date(2026, 11, 23, 12, 5, 0, 0, time.UTC)
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"money", c.Money("sv", money.Money{Minor: -123456, Currency: "EUR"}), "-1\u202f234,56\u00a0€"},
		{"money by code", c.Money("sv", money.Money{Minor: 1234567, Currency: "SEK"}), "12\u202f345,67\u00a0SEK"},
		{"date", c.Date("sv", at), "2026-11-23"},
		{"time", c.Time("sv", helsinki, at), "2026-11-23 kl. 14:05"},
		{"month", c.MonthName("sv", at), "nov 2026"},
		{"percent", c.Percent("sv", "97.5"), "97,5\u00a0%"},
		{"bytes", c.Bytes("sv", 12800), "12,5 KiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("sv %s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	// A fault without a Swedish text reads in English, its amounts the Swedish way.
	five := money.Money{Minor: 500, Currency: "EUR"}
	refusal := fault.Conflict("budget_exceeded", "posting %s would take the unit's hard budget for %s below zero: %s of %s used, %s remaining; finance must raise the budget first",
		five, "2026-11", five, five, five)
	if got := c.Fault("sv", refusal); !strings.HasPrefix(got, "Posting 5,00\u00a0€ would take") {
		t.Errorf("sv fault = %q", got)
	}
	// A locale that names no format of its own writes the English way.
	c, err = Load(fstest.MapFS{"en.json": {Data: en}, "da.json": {Data: []byte(`{"nav.home": "Hjem"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Money("da", money.Money{Minor: 123456, Currency: "EUR"}); got != "€1,234.56" {
		t.Errorf("a locale without formats writes %q", got)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a catalogue without English":     {"sv.json": {Data: []byte(swedish)}},
		"a text that is no string":        {"en.json": {Data: []byte(`{"a": 1}`)}},
		"English without its formats":     {"en.json": {Data: []byte(`{"nav.home": "Home"}`)}},
		"month names that are not twelve": {"en.json": {Data: en}, "sv.json": {Data: []byte(`{"format.month.names": "jan feb"}`)}},
	} {
		if _, err := Load(fsys); err == nil {
			t.Errorf("%s loaded", name)
		}
	}
}

func TestTheLocalesUsersChooseAreTheFiles(t *testing.T) {
	if got, want := Available(), newCatalog(t).Locales(); !slices.Equal(got, want) || !slices.Contains(got, "fi") {
		t.Errorf("Available() = %v, the catalogue has %v", got, want)
	}
}

func TestMatchPrefersTheSettingThenTheHeaviestLanguage(t *testing.T) {
	c := newCatalog(t)
	cases := []struct {
		prefs []string
		want  string
	}{
		{[]string{"fi"}, "fi"},
		{[]string{"", "fi-FI,fi;q=0.9,en;q=0.8"}, "fi"},
		{[]string{"", "de-DE,en;q=0.5,fi;q=0.9"}, "fi"},
		{[]string{"en", "fi"}, "en"},
		{[]string{"sv", "de"}, "en"},
		{[]string{"FI-fi"}, "fi"},
		{[]string{"fi;q=0,en"}, "en"},
		{nil, "en"},
	}
	for _, tc := range cases {
		if got := c.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.prefs, got, tc.want)
		}
	}
}
