package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/units"
)

const mailUsage = "usage: tiski mail imap --unit CODE --url imaps://USER@HOST[:993][/MAILBOX] [--poll 1m] [--password-stdin]\n       tiski mail status\n"

func cmdMail(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "imap":
			return cmdMailIMAP(ctx, args[1:], stdin, stdout, stderr)
		case "status":
			return cmdMailStatus(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, mailUsage)
	return errors.New(`"tiski mail" needs the subcommand imap or status`)
}

// cmdMailIMAP sets the IMAP mailbox `tiski serve` reads for a unit's
// inbound address. The password is best given on standard input, where no
// process listing shows it; it is kept with the mailbox and never printed.
func cmdMailIMAP(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("mail imap", "mail imap --unit CODE --url imaps://USER@HOST[:993][/MAILBOX] [--poll 1m] [--password-stdin]", stderr)
	code := fs.String("unit", "", "code of the provider unit whose inbound address the mailbox receives (required)")
	rawURL := fs.String("url", "", "the mailbox: imaps://user@host:993/INBOX (TLS), imap://user@host:143/INBOX (STARTTLS, required) "+
		"or imap+insecure://user@127.0.0.1:1143/INBOX (no TLS, for a server on this machine) (required)")
	poll := fs.Duration("poll", mailin.DefaultPoll, "how often the mailbox is read")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *code == "" || *rawURL == "" {
		fs.Usage()
		return errors.New("--unit and --url are required")
	}
	if *poll < time.Second {
		return errors.New("--poll must be at least 1s")
	}
	m, err := mailin.ParseMailboxURL(*rawURL)
	if err != nil {
		return err
	}
	if *passwordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		m.Password = strings.TrimRight(line, "\r\n")
	}
	m.PollSeconds = int(*poll / time.Second)
	d, _, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	unit, err := units.GetUnitByCode(ctx, d, *code)
	if err != nil {
		return err
	}
	var set *mailin.Mailbox
	err = audit.InTx(ctx, d, func(tx bun.Tx) (err error) {
		set, err = mailin.SetMailbox(ctx, tx, 0, unit.ID, *m, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Mail to %s is read from %s every %s by tiski serve.\n", set.Address, set.Server()+"/"+set.Folder, set.Poll())
	return nil
}

// cmdMailStatus prints each IMAP mailbox with its last read and, when it
// is failing, its error and the next try.
func cmdMailStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("mail status", "mail status [--db URL]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, _, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	boxes, err := mailin.Mailboxes(ctx, d)
	if err != nil {
		return err
	}
	if len(boxes) == 0 {
		fmt.Fprintln(stdout, "No IMAP mailbox is read; set one with tiski mail imap.")
		return nil
	}
	failing := 0
	for _, b := range boxes {
		fmt.Fprintln(stdout, b.Status())
		if b.Failures > 0 {
			failing++
		}
	}
	if failing > 0 {
		return fmt.Errorf("%d of %d mailboxes failing", failing, len(boxes))
	}
	return nil
}
