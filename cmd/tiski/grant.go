package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/units"
)

// defaultBaseURL is where reset links point when TISKI_BASE_URL is not set.
const defaultBaseURL = "http://localhost:8080"

// cmdGrant grants an organisation role at once. The operator on the server is
// the second person a money role needs, so this is how the first finance
// user is made; the audit trail records the grant with no actor (the
// operator).
func cmdGrant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("grant", "grant --email E --role finance|auditor|admin", stderr)
	email := fs.String("email", "", "e-mail of the user who receives the role (required)")
	role := fs.String("role", "", "organisation role: finance, auditor or admin (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *role == "" {
		fs.Usage()
		return errors.New("--email and --role are required")
	}
	d, u, err := openForUser(ctx, *dbURL, *email, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	err = audit.InTx(ctx, d, func(tx bun.Tx) error {
		_, err := units.GrantOrgRole(ctx, tx, 0, u.ID, *role)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Granted %s to %s.\n", *role, u.Email)
	return nil
}

// cmdUserResetPassword prints a one-time link with which the user sets their
// own password; it is how a holder of a money role, whose password no admin
// may set, gets back in.
func cmdUserResetPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("user reset-password", "user reset-password --email E", stderr)
	email := fs.String("email", "", "e-mail of the user who resets their password (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		fs.Usage()
		return errors.New("--email is required")
	}
	d, u, err := openForUser(ctx, *dbURL, *email, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	var token string
	err = d.InTx(ctx, func(tx bun.Tx) (err error) {
		token, _, err = auth.CreatePasswordReset(ctx, tx, 0, u.ID)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Password reset link for %s (works once, for %s; give it to them only):\n%s\n",
		u.Email, auth.ResetLinkTTL, auth.ResetLink(envOr("TISKI_BASE_URL", defaultBaseURL), token))
	return nil
}
