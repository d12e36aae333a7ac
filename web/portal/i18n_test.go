package portal

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestEveryTextIsTranslated checks both languages have the same keys and
// that every key a template uses exists.
func TestEveryTextIsTranslated(t *testing.T) {
	seen := map[string]int{}
	for _, part := range []catalogue{requestMessages, moneyMessages, adminMessages} {
		for key := range part["en"] {
			seen[key]++
		}
	}
	for key, n := range seen {
		if n > 1 {
			t.Errorf("%s is defined in %d area files", key, n)
		}
	}
	for key := range messages["en"] {
		if _, ok := messages["fi"][key]; !ok {
			t.Errorf("%s has no Finnish text", key)
		}
	}
	for key := range messages["fi"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("%s has no English text", key)
		}
	}
	used := regexp.MustCompile(`\.T\.T "([a-z_.]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range used.FindAllStringSubmatch(string(raw), -1) {
			if _, ok := messages["en"][m[1]]; !ok {
				t.Errorf("%s uses %s, which has no text", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMoneyAndTimeFollowTheLocale(t *testing.T) {
	en, fi := translator{locale: "en"}, translator{locale: "fi"}
	if got := en.T("flash.ordered", "REQ-000001"); got != "Request REQ-000001 placed." {
		t.Errorf("en = %q", got)
	}
	if got := fi.T("flash.ordered", "REQ-000001"); got != "Pyyntö REQ-000001 lähetetty." {
		t.Errorf("fi = %q", got)
	}
	if got := fi.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
}
