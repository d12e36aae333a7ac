package units_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

func TestAdminCannotSetMoneyRolePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStaff(t, d)
		ctx := context.Background()
		setPassword := func(actor, user, hash string) error {
			return audit.InTx(ctx, d, func(tx bun.Tx) error {
				_, err := units.UpdateUser(ctx, tx, s.users[actor], s.users[user], units.UserChange{PasswordHash: &hash})
				return err
			})
		}
		hashOf := func(user string) string {
			u, err := units.GetUser(ctx, d, s.users[user])
			if err != nil {
				t.Fatal(err)
			}
			return u.PasswordHash
		}
		wantRefused(t, "admin sets finance's password", setPassword("admin", "finance", "admin-knows-it"), fault.KindForbidden, "money_role_password")
		if hashOf("finance") != "" {
			t.Fatal("finance's password changed")
		}
		if n := s.refusals("user", id(s.users["finance"])); n != 1 {
			t.Fatalf("%d refusals recorded, want 1", n)
		}
		// A proposed money role protects the password too, so a stand-in
		// cannot be given a known password while it waits for confirmation.
		if _, err := s.grantOrg("admin", "anna", "auditor"); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, "admin sets a proposed auditor's password", setPassword("admin", "anna", "admin-knows-it"), fault.KindForbidden, "money_role_password")
		// Others' passwords and one's own stay settable.
		if err := setPassword("admin", "ben", "set-by-admin"); err != nil || hashOf("ben") != "set-by-admin" {
			t.Fatalf("admin sets a plain user's password: %v", err)
		}
		if err := setPassword("finance", "finance", "her-own"); err != nil || hashOf("finance") != "her-own" {
			t.Fatalf("finance sets her own password: %v", err)
		}
	})
}

// TestUserLocaleIsOneOfTheMessageFiles: a user may choose any locale Tiski
// has a message file for, and no other; a refusal names the choices and
// writes nothing.
func TestUserLocaleIsOneOfTheMessageFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		create := func(email, locale string) error {
			return d.InTx(ctx, func(tx bun.Tx) error {
				_, err := units.CreateUser(ctx, tx, 0, units.User{Email: email, Name: "N", Locale: locale})
				return err
			})
		}
		for _, locale := range units.Locales() {
			if err := create(locale+"@example.org", locale); err != nil {
				t.Errorf("locale %s refused: %v", locale, err)
			}
		}
		err := create("sv@example.org", "sv")
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindInvalid || fe.Message != "locale must be one of en, fi" {
			t.Fatalf("locale sv: %v, want invalid naming en, fi", err)
		}
		if _, err := units.GetUserByEmail(ctx, d, "sv@example.org"); !fault.Is(err, fault.KindNotFound) {
			t.Errorf("the refused user was written: %v", err)
		}
	})
}
