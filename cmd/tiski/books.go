package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
)

func cmdBillingRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("billing run", "billing run YYYY-MM [--db URL]", stderr)
	month, err := parseMonthArg(fs, args)
	if err != nil {
		return err
	}
	d, org, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := billing.BillingRun(ctx, d, month, org.Location, time.Now().UTC())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Billing run %s: %d subscriptions charged, %d already charged before.\n", month, res.Charged, res.Skipped)
	return nil
}

func cmdPeriodClose(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("period close", "period close YYYY-MM [--db URL]", stderr)
	month, err := parseMonthArg(fs, args)
	if err != nil {
		return err
	}
	d, org, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	var p *billing.Period
	err = d.InTx(ctx, func(tx bun.Tx) (err error) {
		p, err = billing.MovePeriod(ctx, tx, billing.Operator(0), month, "close", org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Period %s is %s.\n", p.Month, p.Status)
	return nil
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("verify", "verify [--db URL]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, _, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	breaches, err := billing.Verify(ctx, d)
	if err != nil {
		return err
	}
	if len(breaches) == 0 {
		fmt.Fprintln(stdout, "The books are sound: every ledger invariant holds.")
		return nil
	}
	for _, b := range breaches {
		fmt.Fprintf(stdout, "BROKEN %s: %s %s\n", b.Check, b.Object, b.Detail)
	}
	return fmt.Errorf("%d ledger invariants broken", len(breaches))
}

// parseMonthArg parses flags and the one YYYY-MM argument, before or after them.
func parseMonthArg(fs *flag.FlagSet, args []string) (string, error) {
	var month string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		month, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if month == "" && len(fs.Args()) == 1 {
		month = fs.Args()[0]
	}
	if err := billing.CheckMonth(month); err != nil {
		fs.Usage()
		return "", errors.New("give the month as YYYY-MM, such as 2026-11")
	}
	return month, nil
}
