package mailin

import (
	"regexp"
	"strings"
)

// attribution matches the line a mail client writes above the history it
// quotes ("On Mon, 1 Dec 2026, Ann wrote:", Finnish "… kirjoitti:"), and
// the separators Outlook-style clients use.
var attribution = regexp.MustCompile(`(?i)^(on\s.*\swrote:|.*\skirjoitti:|-{2,}\s*(original message|alkuperäinen viesti)\s*-{2,}|_{10,})\s*$`)

// cutQuoted keeps what the sender wrote of a reply: everything above the
// first quoted line, attribution or separator of the history below it.
func cutQuoted(text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") || attribution.MatchString(t) {
			lines = lines[:i]
			break
		}
		if strings.HasPrefix(t, "From:") && i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "Sent:") {
			lines = lines[:i]
			break
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
