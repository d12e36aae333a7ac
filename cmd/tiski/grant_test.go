package main

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// addUsers runs `tiski user add` for each e-mail; the first is an admin.
func addUsers(t *testing.T, url string, emails ...string) {
	t.Helper()
	for i, email := range emails {
		args := []string{"user", "add", "--db", url, "--email", email, "--name", strings.Split(email, "@")[0], "--password-stdin"}
		if i == 0 {
			args = append(args, "--admin")
		}
		if out, err := runCmd(t, "a long enough password\n", args...); err != nil {
			t.Fatalf("user add %s: %v\n%s", email, err, out)
		}
	}
}

func userID(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	u, err := units.GetUserByEmail(context.Background(), d, email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestOperatorGrantBootstrapsFinance(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			url := dbtest.NewURL(t, engine)
			addUsers(t, url, "root@example.org", "sanna@example.org", "anna@example.org")
			out, err := runCmd(t, "", "grant", "--db", url, "--email", "Sanna@Example.org", "--role", "finance")
			if err != nil || !strings.Contains(out, "Granted finance to sanna@example.org") {
				t.Fatalf("grant finance: %v\n%s", err, out)
			}
			d := dbtest.OpenURL(t, url)
			ctx := context.Background()
			root, sanna, anna := userID(t, d, "root@example.org"), userID(t, d, "sanna@example.org"), userID(t, d, "anna@example.org")
			if roles, err := units.OrgRolesOf(ctx, d, sanna); err != nil || !slices.Equal(roles, []string{"finance"}) {
				t.Fatalf("sanna holds %v (%v)", roles, err)
			}
			var byOperator int
			if err := d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE object_type = 'grant' AND object_id = ? AND action = 'grant' AND actor_id IS NULL",
				"org/"+strconv.FormatInt(sanna, 10)+"/finance").Scan(ctx, &byOperator); err != nil || byOperator != 1 {
				t.Fatalf("%d grants recorded as the operator's (%v)", byOperator, err)
			}
			// The first finance user is the second person for the next money role.
			var g *units.OrgGrant
			if err := units.InTx(ctx, d, func(tx bun.Tx) (err error) {
				g, err = units.GrantOrgRole(ctx, tx, root, anna, "auditor")
				return err
			}); err != nil || g.Proposal == nil {
				t.Fatalf("the admin proposes auditor: %+v, %v", g, err)
			}
			if err := units.InTx(ctx, d, func(tx bun.Tx) error {
				_, err := units.ConfirmGrant(ctx, tx, sanna, g.Proposal.ID)
				return err
			}); err != nil {
				t.Fatalf("the bootstrapped finance user confirms: %v", err)
			}
			if roles, _ := units.OrgRolesOf(ctx, d, anna); !slices.Equal(roles, []string{"auditor"}) {
				t.Fatalf("anna holds %v", roles)
			}
			// The operator is bound by segregation of duties too.
			for _, args := range [][]string{
				{"--email", "sanna@example.org", "--role", "admin"},
				{"--email", "root@example.org", "--role", "auditor"},
				{"--email", "anna@example.org", "--role", "superuser"},
				{"--email", "nobody@example.org", "--role", "finance"},
				{"--email", "anna@example.org"},
			} {
				if out, err := runCmd(t, "", append([]string{"grant", "--db", url}, args...)...); err == nil {
					t.Errorf("grant %v succeeded: %s", args, out)
				}
			}
			if roles, _ := units.OrgRolesOf(ctx, d, sanna); !slices.Equal(roles, []string{"finance"}) {
				t.Fatalf("sanna holds %v after refused grants", roles)
			}
		})
	}
}

func TestResetPasswordLinkIsSingleUse(t *testing.T) {
	link := regexp.MustCompile(`(?m)^(\S+)/reset/([A-Za-z0-9_-]{43})$`)
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			url := dbtest.NewURL(t, engine)
			addUsers(t, url, "root@example.org", "sanna@example.org")
			if out, err := runCmd(t, "", "grant", "--db", url, "--email", "sanna@example.org", "--role", "finance"); err != nil {
				t.Fatalf("grant: %v\n%s", err, out)
			}
			t.Setenv("TISKI_BASE_URL", "https://tiski.example.org/")
			out, err := runCmd(t, "", "user", "reset-password", "--db", url, "--email", "sanna@example.org")
			m := link.FindStringSubmatch(out)
			if err != nil || m == nil || m[1] != "https://tiski.example.org" {
				t.Fatalf("reset-password: %v\n%s", err, out)
			}
			d := dbtest.OpenURL(t, url)
			ctx := context.Background()
			if err := auth.ResetPassword(ctx, d, m[2], "sanna's own new password", auth.DefaultHashParams); err != nil {
				t.Fatalf("reset with the printed link: %v", err)
			}
			if err := auth.ResetPassword(ctx, d, m[2], "a second new password", auth.DefaultHashParams); !fault.Is(err, fault.KindInvalid) {
				t.Fatalf("the printed link used twice: %v", err)
			}
			u, err := units.GetUser(ctx, d, userID(t, d, "sanna@example.org"))
			if err != nil || !auth.VerifyPassword("sanna's own new password", u.PasswordHash) {
				t.Fatalf("the reset password does not sign in (%v)", err)
			}
			t.Setenv("TISKI_BASE_URL", "")
			out, err = runCmd(t, "", "user", "reset-password", "--db", url, "--email", "sanna@example.org")
			if m := link.FindStringSubmatch(out); err != nil || m == nil || m[1] != "http://localhost:8080" {
				t.Fatalf("reset-password without TISKI_BASE_URL: %v\n%s", err, out)
			}
			if out, err := runCmd(t, "", "user", "reset-password", "--db", url, "--email", "nobody@example.org"); err == nil {
				t.Fatalf("a link for an unknown user: %s", out)
			}
		})
	}
}

func TestGrantCommandsHaveHelp(t *testing.T) {
	for _, args := range [][]string{{"grant", "--help"}, {"user", "reset-password", "--help"}} {
		out, err := runCmd(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), "help requested") || !strings.Contains(out, "Usage: tiski") || !strings.Contains(out, "-email") {
			t.Errorf("%v: err %v, output %q", args, err, out)
		}
	}
}
