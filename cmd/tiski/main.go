// Command tiski runs the Tiski service desk and chargeback portal and its
// operator commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `tiski — internal service desk and chargeback portal

Usage:
  tiski serve [--addr :8080] [--db URL] [--demo]   run the portal and API
  tiski migrate [--db URL]                         apply database migrations
  tiski demo [--db URL]                            load the demo organisation
  tiski user add --email E --name N [--admin] [--password-stdin]
  tiski user reset-password --email E              print a one-time password reset link
  tiski grant --email E --role finance|auditor|admin
                                                   grant an organisation role at once
  tiski token create --email E [--name LABEL] [--expires-in 90d]
                                                   print a new API token once
  tiski token list --email E                       list a user's API tokens
  tiski token revoke --email E --id N              revoke one of a user's API tokens
  tiski billing run YYYY-MM                        charge subscriptions for a month (idempotent)
  tiski subscription list --unit CODE              list a unit's subscriptions and their next charge
  tiski subscription end ID --date YYYY-MM-DD      end a subscription (its last day; nothing charged after)
  tiski period close YYYY-MM                       close an accounting month
  tiski mail imap --unit CODE --url imaps://USER@HOST/INBOX [--poll 1m] [--password-stdin]
                                                   read a unit's inbound mail from an IMAP mailbox
  tiski mail status                                each IMAP mailbox's last read and error
  tiski verify                                     check every ledger invariant
  tiski version                                    print the version

Every command takes --db (or TISKI_DB): sqlite:PATH (default sqlite:tiski.db)
or a postgres:// URL. Run "tiski COMMAND --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tiski:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "user":
		if len(rest) > 0 && rest[0] == "reset-password" {
			return cmdUserResetPassword(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) == 0 || rest[0] != "add" {
			fmt.Fprint(stderr, "usage: tiski user add --email E --name N [--admin] [--password-stdin]\n       tiski user reset-password --email E\n")
			return errors.New(`"tiski user" needs the subcommand add or reset-password`)
		}
		return cmdUserAdd(ctx, rest[1:], stdin, stdout, stderr)
	case "grant":
		return cmdGrant(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "billing":
		if len(rest) == 0 || rest[0] != "run" {
			fmt.Fprint(stderr, "usage: tiski billing run YYYY-MM\n")
			return errors.New(`"tiski billing" needs the subcommand run`)
		}
		return cmdBillingRun(ctx, rest[1:], stdout, stderr)
	case "subscription":
		return cmdSubscription(ctx, rest, stdout, stderr)
	case "period":
		if len(rest) == 0 || rest[0] != "close" {
			fmt.Fprint(stderr, "usage: tiski period close YYYY-MM\n")
			return errors.New(`"tiski period" needs the subcommand close`)
		}
		return cmdPeriodClose(ctx, rest[1:], stdout, stderr)
	case "mail":
		return cmdMail(ctx, rest, stdin, stdout, stderr)
	case "verify":
		return cmdVerify(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "tiski", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// newFlags returns a flag set with the --db flag every command takes.
func newFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tiski %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	dbURL := fs.String("db", "", "database: sqlite:PATH or postgres://… (default $TISKI_DB, else sqlite:tiski.db)")
	return fs, dbURL
}
