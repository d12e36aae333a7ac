package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/units"
	"github.com/uptrace/bun"
)

const subscriptionUsage = "usage: tiski subscription list --unit CODE\n       tiski subscription end ID --date YYYY-MM-DD\n"

func cmdSubscription(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return cmdSubscriptionList(ctx, args[1:], stdout, stderr)
		case "end":
			return cmdSubscriptionEnd(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, subscriptionUsage)
	return errors.New(`"tiski subscription" needs the subcommand list or end`)
}

func cmdSubscriptionList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("subscription list", "subscription list --unit CODE [--db URL]", stderr)
	code := fs.String("unit", "", "the unit's code (required): its subscriptions as consumer and as provider")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *code == "" {
		fs.Usage()
		return errors.New("--unit is required")
	}
	d, _, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	unit, err := units.GetUnitByCode(ctx, d, *code)
	if err != nil {
		return err
	}
	list, err := billing.ListSubscriptions(ctx, d, billing.Operator(0), unit.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-6s %-10s %-8s %-8s %-16s %12s %-10s %s\n", "ID", "REQUEST", "FROM", "TO", "SERVICE", "MONTHLY", "SINCE", "NEXT CHARGE")
	for _, s := range list {
		next := "none: ended " + *optional(s.EndDate)
		if s.NextMonth != "" {
			next = s.NextMonth + " " + money.Money{Minor: s.NextAmountMinor, Currency: s.Currency}.String()
			if s.EndDate != nil {
				next += ", ends " + *s.EndDate
			}
		}
		fmt.Fprintf(stdout, "%-6d %-10s %-8s %-8s %-16s %12s %-10s %s\n", s.ID, s.RequestNumber(), s.ConsumerUnitCode, s.ProviderUnitCode,
			s.ServiceCode, money.Money{Minor: s.MonthlyPriceMinor, Currency: s.Currency}.String(), s.StartDate, next)
	}
	return nil
}

func optional(s *string) *string {
	if s == nil {
		empty := ""
		return &empty
	}
	return s
}

func cmdSubscriptionEnd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("subscription end", "subscription end ID --date YYYY-MM-DD [--db URL]", stderr)
	date := fs.String("date", "", "the subscription's last day, YYYY-MM-DD (required): its month is charged up to it, nothing after")
	var idArg string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		idArg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if idArg == "" && len(fs.Args()) == 1 {
		idArg = fs.Args()[0]
	}
	id, err := strconv.ParseInt(idArg, 10, 64)
	if err != nil || id <= 0 || *date == "" {
		fs.Usage()
		return errors.New("give the subscription's id and --date YYYY-MM-DD")
	}
	d, org, err := openDatabase(ctx, *dbURL, quietLog(stderr))
	if err != nil {
		return err
	}
	defer d.Close()
	var s *billing.SubscriptionView
	err = audit.InTx(ctx, d, func(tx bun.Tx) (err error) {
		s, err = billing.EndSubscription(ctx, tx, billing.Operator(0), id, *date, org.Location, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Subscription %d (%s, %s for %s) ends on %s; nothing is charged after it.\n", s.ID, s.RequestNumber(), s.ServiceCode,
		s.ConsumerUnitCode, *s.EndDate)
	return nil
}
