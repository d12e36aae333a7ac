package auth_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

var cheapHash = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

func TestResetPasswordLinkIsSingleUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var userID int64
		newLink := func() string {
			t.Helper()
			var token string
			if err := d.InTx(ctx, func(tx bun.Tx) (err error) {
				token, _, err = auth.CreatePasswordReset(ctx, tx, 0, userID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return token
		}
		err := d.InTx(ctx, func(tx bun.Tx) error {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "sanna@example.org", Name: "Sanna"})
			if err != nil {
				return err
			}
			userID = u.ID
			if _, err := units.GrantOrgRole(ctx, tx, 0, u.ID, "finance"); err != nil {
				return err
			}
			_, _, err = auth.StartSession(ctx, tx, u.ID, "", auth.Client{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		token := newLink()
		var stored int
		if err := d.NewRaw("SELECT COUNT(*) FROM password_resets WHERE token_hash = ?", token).Scan(ctx, &stored); err != nil || stored != 0 {
			t.Fatalf("the token itself is stored (%d, %v)", stored, err)
		}
		if err := auth.ResetPassword(ctx, d, token, "short", cheapHash); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("a short password: %v", err)
		}
		if err := auth.ResetPassword(ctx, d, token, "her own new password", cheapHash); err != nil {
			t.Fatalf("reset (the refused short password did not use the link up): %v", err)
		}
		u, err := units.GetUser(ctx, d, userID)
		if err != nil || !auth.VerifyPassword("her own new password", u.PasswordHash) {
			t.Fatalf("the new password does not sign in (%v)", err)
		}
		var sessions int
		if err := d.NewRaw("SELECT COUNT(*) FROM sessions WHERE user_id = ?", userID).Scan(ctx, &sessions); err != nil || sessions != 0 {
			t.Fatalf("%d sessions survive the reset (%v)", sessions, err)
		}
		if err := auth.ResetPassword(ctx, d, token, "someone else's password", cheapHash); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("the link used a second time: %v", err)
		}
		if err := auth.ResetPassword(ctx, d, "made-up", "someone else's password", cheapHash); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("a made-up link: %v", err)
		}
		// A newer link ends the older one; an expired link does nothing.
		older, newer := newLink(), newLink()
		if err := auth.ResetPassword(ctx, d, older, "someone else's password", cheapHash); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("a link replaced by a newer one: %v", err)
		}
		if _, err := d.ExecContext(ctx, "UPDATE password_resets SET expires_at = created_at"); err != nil {
			t.Fatal(err)
		}
		if err := auth.ResetPassword(ctx, d, newer, "someone else's password", cheapHash); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("an expired link: %v", err)
		}
		if u, _ := units.GetUser(ctx, d, userID); !auth.VerifyPassword("her own new password", u.PasswordHash) {
			t.Fatal("a refused link changed the password")
		}
		var trail []string
		if err := d.NewRaw("SELECT action FROM audit_events WHERE object_type = 'user' AND object_id = ? AND action IN ('password_reset_link', 'set_password') ORDER BY id",
			strconv.FormatInt(userID, 10)).Scan(ctx, &trail); err != nil {
			t.Fatal(err)
		}
		if len(trail) != 4 || trail[0] != "password_reset_link" || trail[1] != "set_password" {
			t.Fatalf("audit trail %v", trail)
		}
	})
}
