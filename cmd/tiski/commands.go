package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/units"
)

func quietLog(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("migrate", "migrate [--db URL]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, _, err := openDatabase(ctx, *dbURL, slog.New(slog.NewTextHandler(stdout, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintln(stdout, "The database is up to date.")
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("demo", "demo [--db URL]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, _, err := openDemoDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := loadDemo(ctx, d); err != nil {
		return err
	}
	printDemoLogins(stdout)
	return nil
}

func printDemoLogins(w io.Writer) {
	fmt.Fprintf(w, "The demo organisation is loaded. Every demo user's password is %q.\n\n", demo.Password)
	for _, p := range demo.People {
		fmt.Fprintf(w, "  %-34s %s\n", p.Email, p.Persona)
	}
	fmt.Fprintln(w)
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("user add", "user add --email E --name N [--locale "+strings.Join(units.Locales(), "|")+"] [--admin] [--password-stdin]", stderr)
	email := fs.String("email", "", "e-mail address (required)")
	name := fs.String("name", "", "full name (required)")
	locale := fs.String("locale", "en", "interface language: "+strings.Join(units.Locales(), " or "))
	admin := fs.Bool("admin", false, "grant the organisation-wide admin role")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		fs.Usage()
		return errors.New("--email and --name are required")
	}
	var hash string
	if *passwordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		hash, err = auth.HashPassword(strings.TrimRight(line, "\r\n"), auth.DefaultHashParams)
		if err != nil {
			return err
		}
	}
	d, _, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	var u *units.User
	err = d.InTx(ctx, func(tx bun.Tx) (err error) {
		u, err = units.CreateUser(ctx, tx, 0, units.User{Email: *email, Name: *name, Locale: *locale, PasswordHash: hash})
		if err != nil {
			return err
		}
		if *admin {
			_, err = units.GrantOrgRole(ctx, tx, 0, u.ID, "admin")
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added user %s (id %d).\n", u.Email, u.ID)
	return nil
}

// openForUser opens the database and finds the user a command acts for.
func openForUser(ctx context.Context, dbURL, email string, stderr io.Writer) (*db.DB, *units.User, error) {
	d, _, err := openDatabase(ctx, dbURL, quietLog(stderr))
	if err != nil {
		return nil, nil, err
	}
	u, err := units.GetUserByEmail(ctx, d, email)
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("user %s: %w", email, err)
	}
	return d, u, nil
}
