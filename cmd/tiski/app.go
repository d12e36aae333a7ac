package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/units"
)

// orgSettings are the currency and time zone a new database's organisation
// is created with; once stored they never change.
type orgSettings struct{ currency, timeZone string }

// openDatabase opens and migrates the database and fixes the organisation's
// currency and time zone on first start from TISKI_CURRENCY and
// TISKI_TIMEZONE (EUR and UTC by default).
func openDatabase(ctx context.Context, flagURL string, log *slog.Logger) (*db.DB, *units.Organisation, error) {
	return openAs(ctx, flagURL, log, orgSettings{envOr("TISKI_CURRENCY", "EUR"), envOr("TISKI_TIMEZONE", "UTC")})
}

// openDemoDatabase is openDatabase for the demo: a new database's
// organisation is the demo's, Helsinki-based, because the demo's history
// put on another clock charges evenings to the wrong day or month.
func openDemoDatabase(ctx context.Context, flagURL string, log *slog.Logger) (*db.DB, *units.Organisation, error) {
	d, org, err := openAs(ctx, flagURL, log, orgSettings{demo.Currency, demo.TimeZone})
	if err == nil && org.TimeZone != demo.TimeZone {
		log.Warn("the organisation's time zone was fixed before the demo loaded; the demo runs on it",
			"database", org.TimeZone, "demo", demo.TimeZone)
	}
	return d, org, err
}

func openAs(ctx context.Context, flagURL string, log *slog.Logger, settings orgSettings) (*db.DB, *units.Organisation, error) {
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
	var org *units.Organisation
	err = d.InTx(ctx, func(tx bun.Tx) (err error) {
		org, err = units.EnsureOrganisation(ctx, tx, settings.currency, settings.timeZone)
		return err
	})
	if err != nil {
		_ = d.Close()
		return nil, nil, fmt.Errorf("organisation settings: %w", err)
	}
	if currency := os.Getenv("TISKI_CURRENCY"); currency != "" && currency != org.Currency {
		log.Warn("TISKI_CURRENCY differs from the currency fixed in the database; the database wins",
			"env", currency, "database", org.Currency)
	}
	if timeZone := os.Getenv("TISKI_TIMEZONE"); timeZone != "" && timeZone != org.TimeZone {
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
