package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
)

const tokenUsage = `usage: tiski token create --email E [--name LABEL] [--expires-in 90d]
       tiski token list --email E
       tiski token revoke --email E --id N
`

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "create":
		return cmdTokenCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return cmdTokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return cmdTokenRevoke(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, tokenUsage)
	return errors.New(`"tiski token" needs the subcommand create, list or revoke`)
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("token create", "token create --email E [--name LABEL] [--expires-in 90d]", stderr)
	email := fs.String("email", "", "e-mail of the user the token acts as (required)")
	label := fs.String("name", "api", "a label to recognise the token by")
	expiresIn := fs.String("expires-in", "90d", "the token's lifetime: days (30d) or a Go duration (12h); at most 365d")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		fs.Usage()
		return errors.New("--email is required")
	}
	ttl, err := parseLifetime(*expiresIn)
	if err != nil {
		return err
	}
	d, u, err := openForUser(ctx, *dbURL, *email, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	var secret string
	var t *auth.APIToken
	err = d.InTx(ctx, func(tx bun.Tx) (err error) {
		secret, t, err = auth.CreateToken(ctx, tx, 0, u.ID, *label, ttl)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API token %d for %s, expires %s (shown once; store it now):\n%s\n",
		t.ID, u.Email, t.Expiry().Format(time.RFC3339), secret)
	return nil
}

// parseLifetime reads a token lifetime: whole days ("30d") or a Go duration.
func parseLifetime(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--expires-in %q: give whole days such as 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	ttl, err := time.ParseDuration(s)
	if err != nil || ttl <= 0 {
		return 0, fmt.Errorf("--expires-in %q: give days such as 30d or a duration such as 12h", s)
	}
	return ttl, nil
}

func cmdTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("token list", "token list --email E", stderr)
	email := fs.String("email", "", "e-mail of the user whose tokens to list (required)")
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
	ts, err := auth.ListTokens(ctx, d, u.ID)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		fmt.Fprintf(stdout, "%s has no API tokens.\n", u.Email)
		return nil
	}
	now := time.Now().UTC()
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATE\tCREATED\tLAST USED\tEXPIRES")
	for _, t := range ts {
		lastUsed := "never"
		if t.LastUsedAt != nil {
			lastUsed = t.LastUsedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.State(now),
			t.CreatedAt.UTC().Format(time.RFC3339), lastUsed, t.Expiry().UTC().Format(time.RFC3339))
	}
	return w.Flush()
}

func cmdTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("token revoke", "token revoke --email E --id N", stderr)
	email := fs.String("email", "", "e-mail of the token's user (required)")
	id := fs.Int64("id", 0, "the token's id, as token list shows it (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *id <= 0 {
		fs.Usage()
		return errors.New("--email and --id are required")
	}
	d, u, err := openForUser(ctx, *dbURL, *email, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.InTx(ctx, func(tx bun.Tx) error { return auth.RevokeToken(ctx, tx, 0, u.ID, *id) })
	if err != nil {
		return fmt.Errorf("revoke token %d of %s: %w", *id, u.Email, err)
	}
	fmt.Fprintf(stdout, "Revoked API token %d of %s.\n", *id, u.Email)
	return nil
}
