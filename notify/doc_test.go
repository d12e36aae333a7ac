package notify_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tiski/tiski/notify"
)

const (
	rulesDoc   = "../docs/notifications.md"
	rulesStart = "<!-- rules:start -->\n"
	rulesEnd   = "<!-- rules:end -->"
)

// TestRulesDocMatchesCode keeps docs/notifications.md and the rules Record
// enforces one and the same table.
func TestRulesDocMatchesCode(t *testing.T) {
	raw, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), rulesStart)
	if !ok {
		t.Fatalf("%s has no %q line", rulesDoc, strings.TrimSpace(rulesStart))
	}
	table, _, ok := strings.Cut(rest, rulesEnd)
	if !ok {
		t.Fatalf("%s has no %q line", rulesDoc, rulesEnd)
	}
	if want := notify.RulesMarkdown(); table != want {
		t.Fatalf("the table in %s differs from notify.RulesMarkdown(); put this between the markers:\n%s", rulesDoc, want)
	}
}
