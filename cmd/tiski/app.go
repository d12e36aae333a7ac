package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/units"
)

// openDatabase opens and migrates the database and fixes the organisation's
// currency and time zone on first start.
func openDatabase(ctx context.Context, flagURL string, log *slog.Logger) (*db.DB, *units.Organisation, error) {
	d, err := db.Open(ctx, db.URLFromEnv(flagURL))
	if err != nil {
		return nil, nil, err
	}
	applied, err := d.Migrate(ctx)
	if err != nil {
		_ = d.Close()
		return nil, nil, err
	}
	for _, name := range applied {
		log.Info("applied migration", "migration", name)
	}
	currency, timeZone := envOr("TISKI_CURRENCY", "EUR"), envOr("TISKI_TIMEZONE", "UTC")
	var org *units.Organisation
	err = d.InTx(ctx, func(tx bun.Tx) (err error) {
		org, err = units.EnsureOrganisation(ctx, tx, currency, timeZone)
		return err
	})
	if err != nil {
		_ = d.Close()
		return nil, nil, fmt.Errorf("organisation settings: %w", err)
	}
	if org.Currency != currency && os.Getenv("TISKI_CURRENCY") != "" {
		log.Warn("TISKI_CURRENCY differs from the currency fixed in the database; the database wins",
			"env", currency, "database", org.Currency)
	}
	if org.TimeZone != timeZone && os.Getenv("TISKI_TIMEZONE") != "" {
		log.Warn("TISKI_TIMEZONE differs from the time zone fixed in the database; the database wins",
			"env", timeZone, "database", org.TimeZone)
	}
	return d, org, nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
