package units

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/calendar"
)

// DefaultCalendar is the business calendar of a unit that has not set its
// own: weekdays 08:00–16:00 in the organisation's time zone, no holidays.
func DefaultCalendar(timeZone string) calendar.Calendar {
	c := calendar.Calendar{TimeZone: timeZone, Holidays: []string{}}
	for wd := 1; wd <= 5; wd++ {
		c.Hours = append(c.Hours, calendar.Hours{Weekday: wd, Start: "08:00", End: "16:00"})
	}
	return c
}

type unitCalendar struct {
	bun.BaseModel `bun:"table:unit_calendars"`

	UnitID       int64     `bun:"unit_id,pk"`
	CalendarJSON string    `bun:"calendar_json"`
	UpdatedBy    *int64    `bun:"updated_by"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

// CalendarOf returns the unit's business calendar, or the default one, and
// whether the unit set its own.
func CalendarOf(ctx context.Context, idb bun.IDB, unitID int64, orgTimeZone string) (calendar.Calendar, bool, error) {
	row := new(unitCalendar)
	err := idb.NewSelect().Model(row).Where("unit_id = ?", unitID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultCalendar(orgTimeZone), false, nil
	}
	if err != nil {
		return calendar.Calendar{}, false, fmt.Errorf("calendar of unit %d: %w", unitID, err)
	}
	var c calendar.Calendar
	if err := json.Unmarshal([]byte(row.CalendarJSON), &c); err != nil {
		return calendar.Calendar{}, false, fmt.Errorf("calendar of unit %d is corrupt: %w", unitID, err)
	}
	return c, true, nil
}

// SetCalendar validates and stores a unit's business calendar. Requests
// already filed keep the due times they were given.
func SetCalendar(ctx context.Context, tx bun.Tx, actorID, unitID int64, c calendar.Calendar, now time.Time) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Holidays == nil {
		c.Holidays = []string{}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	before, had, err := CalendarOf(ctx, tx, unitID, c.TimeZone)
	if err != nil {
		return err
	}
	row := &unitCalendar{UnitID: unitID, CalendarJSON: string(raw), UpdatedBy: actorRef(actorID), UpdatedAt: now}
	if _, err := tx.NewInsert().Model(row).On("CONFLICT (unit_id) DO UPDATE").
		Set("calendar_json = EXCLUDED.calendar_json, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("store calendar of unit %d: %w", unitID, err)
	}
	change := audit.Change{ActorID: actorID, ObjectType: "calendar", ObjectID: strconv.FormatInt(unitID, 10), Action: "set", After: c}
	if had {
		change.Before = before
	}
	return audit.Record(ctx, tx, change)
}
