package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db/dbtest"
)

// Finding (issue 17, item 4): the operator could create tokens but neither
// list nor revoke them, nor give them a lifetime.
func TestTokenListAndRevoke(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			url := dbtest.NewURL(t, engine)
			addUsers(t, url, "ops@example.org")
			if out, err := runCmd(t, "", "token", "create", "--db", url, "--email", "ops@example.org", "--expires-in", "400d"); err == nil {
				t.Fatalf("a token for 400 days: %s", out)
			}
			out, err := runCmd(t, "", "token", "create", "--db", url, "--email", "ops@example.org", "--name", "backup", "--expires-in", "7d")
			if err != nil {
				t.Fatalf("token create: %v\n%s", err, out)
			}
			id := regexp.MustCompile(`API token (\d+) for`).FindStringSubmatch(out)
			if id == nil {
				t.Fatalf("create names no id: %s", out)
			}
			d := dbtest.OpenURL(t, url)
			var expires time.Time
			if err := d.NewRaw("SELECT expires_at FROM api_tokens WHERE id = ?", id[1]).Scan(context.Background(), &expires); err != nil {
				t.Fatal(err)
			}
			if left := time.Until(expires); left < 6*24*time.Hour || left > 7*24*time.Hour {
				t.Fatalf("--expires-in 7d left %v", left)
			}
			out, err = runCmd(t, "", "token", "list", "--db", url, "--email", "ops@example.org")
			if err != nil || !regexp.MustCompile(`(?m)^`+id[1]+`\s+backup\s+active\s`).MatchString(out) {
				t.Fatalf("token list: %v\n%s", err, out)
			}
			if out, err := runCmd(t, "", "token", "revoke", "--db", url, "--email", "ops@example.org", "--id", id[1]); err != nil {
				t.Fatalf("token revoke: %v\n%s", err, out)
			}
			out, _ = runCmd(t, "", "token", "list", "--db", url, "--email", "ops@example.org")
			if !strings.Contains(out, "revoked") {
				t.Fatalf("list after revoke:\n%s", out)
			}
			if out, err := runCmd(t, "", "token", "revoke", "--db", url, "--email", "ops@example.org", "--id", id[1]); err == nil {
				t.Fatalf("revoking twice succeeded: %s", out)
			}
		})
	}
}
