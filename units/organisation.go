package units

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"github.com/tiski/tiski/calendar"
	"github.com/uptrace/bun"
)

// Organisation holds the settings fixed in the database on first start.
type Organisation struct {
	Currency string
	TimeZone string
	// Location is TimeZone resolved once at load, so the code that places
	// times in months and days never parses the zone again.
	Location *time.Location
	// CursorSecret signs list cursors so every server process accepts the
	// cursors of the others and a tampered cursor is refused.
	CursorSecret []byte
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// EnsureOrganisation stores currency, time zone and a fresh cursor secret the
// first time it runs and returns what is stored from then on, whatever is
// passed later: the books cannot change currency by a restart.
func EnsureOrganisation(ctx context.Context, tx bun.Tx, currency, timeZone string) (*Organisation, error) {
	if !currencyCode.MatchString(currency) {
		return nil, fmt.Errorf("currency %q: want an ISO 4217 code such as EUR", currency)
	}
	if _, err := zone(timeZone); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	defaults := map[string]string{"currency": currency, "time_zone": timeZone, "cursor_secret": hex.EncodeToString(secret)}
	for key, value := range defaults {
		if _, err := tx.NewRaw("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, value).Exec(ctx); err != nil {
			return nil, fmt.Errorf("store setting %s: %w", key, err)
		}
	}
	return LoadOrganisation(ctx, tx)
}

// LoadOrganisation reads the stored organisation settings.
func LoadOrganisation(ctx context.Context, idb bun.IDB) (*Organisation, error) {
	var rows []struct {
		Key   string `bun:"key"`
		Value string `bun:"value"`
	}
	if err := idb.NewSelect().Table("settings").Column("key", "value").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	org := &Organisation{}
	for _, r := range rows {
		switch r.Key {
		case "currency":
			org.Currency = r.Value
		case "time_zone":
			org.TimeZone = r.Value
		case "cursor_secret":
			secret, err := hex.DecodeString(r.Value)
			if err != nil {
				return nil, fmt.Errorf("settings: cursor_secret is not hex: %w", err)
			}
			org.CursorSecret = secret
		}
	}
	if org.Currency == "" || org.TimeZone == "" || len(org.CursorSecret) == 0 {
		return nil, fmt.Errorf("settings are incomplete; run tiski migrate or tiski serve once")
	}
	loc, err := zone(org.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	org.Location = loc
	return org, nil
}

// zone resolves the organisation's time zone name (calendar.Zone resolves
// each name once per process).
func zone(name string) (*time.Location, error) {
	loc, err := calendar.Zone(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}
