package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/calendar"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

type calendarJSON struct {
	UnitID string `json:"unit_id"`
	calendar.Calendar
	// Custom is false while the unit uses the default calendar.
	Custom bool `json:"custom"`
}

// getCalendar handles GET /units/{id}/calendar: anyone who sees the unit.
func (s *Handlers) getCalendar(c echo.Context) error {
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	cal, custom, err := units.CalendarOf(c.Request().Context(), s.DB, u.ID, s.Org.TimeZone)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, calendarJSON{UnitID: httpx.FormatID(u.ID), Calendar: cal, Custom: custom})
}

// putCalendar handles PUT /units/{id}/calendar by a manager of the unit.
func (s *Handlers) putCalendar(c echo.Context) error {
	u, err := s.VisibleUnit(c)
	if err != nil {
		return err
	}
	if !s.Allowed(c, u.ID, "calendar", "manage") {
		return fault.Forbidden("only a manager of %s sets its business hours", u.Code)
	}
	var body calendar.Calendar
	if err := httpx.DecodeJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		return units.SetCalendar(ctx, tx, httpx.CurrentPrincipal(c).ID(), u.ID, body, time.Now().UTC())
	})
	if err != nil {
		return err
	}
	if body.Holidays == nil {
		body.Holidays = []string{}
	}
	return c.JSON(http.StatusOK, calendarJSON{UnitID: httpx.FormatID(u.ID), Calendar: body, Custom: true})
}
