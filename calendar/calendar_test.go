package calendar_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tiski/tiski/calendar"
	"github.com/tiski/tiski/fault"
)

func officeHours() calendar.Calendar {
	return calendar.Calendar{
		TimeZone: "Europe/Helsinki",
		Hours: []calendar.Hours{
			{Weekday: 1, Start: "08:00", End: "16:00"},
			{Weekday: 2, Start: "08:00", End: "16:00"},
			{Weekday: 3, Start: "08:00", End: "16:00"},
			{Weekday: 4, Start: "08:00", End: "16:00"},
			{Weekday: 5, Start: "08:00", End: "16:00"},
		},
		Holidays: []string{"2026-12-23"},
		Preset:   "fi",
	}
}

func TestCalendarJSONShape(t *testing.T) {
	const body = `{"time_zone":"Europe/Helsinki","hours":[{"weekday":1,"start":"08:00","end":"16:00"}],"holidays":["2026-12-24"],"preset":"fi"}`
	var c calendar.Calendar
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	want := calendar.Calendar{
		TimeZone: "Europe/Helsinki",
		Hours:    []calendar.Hours{{Weekday: 1, Start: "08:00", End: "16:00"}},
		Holidays: []string{"2026-12-24"},
		Preset:   "fi",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("decoded %+v, want %+v", c, want)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != body {
		t.Fatalf("encoded %s, want %s", out, body)
	}
}

func TestValidateAcceptsGoodCalendars(t *testing.T) {
	for name, c := range map[string]calendar.Calendar{
		"office hours":         officeHours(),
		"no preset":            {TimeZone: "UTC", Hours: []calendar.Hours{{Weekday: 7, Start: "00:00", End: "24:00"}}},
		"split day":            {TimeZone: "Europe/Helsinki", Hours: []calendar.Hours{{Weekday: 1, Start: "12:00", End: "16:00"}, {Weekday: 1, Start: "08:00", End: "12:00"}}},
		"same time, other day": {TimeZone: "Europe/Helsinki", Hours: []calendar.Hours{{Weekday: 1, Start: "08:00", End: "16:00"}, {Weekday: 2, Start: "08:00", End: "16:00"}}},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateRefusesBadInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*calendar.Calendar)
		field string
	}{
		{"no hours", func(c *calendar.Calendar) { c.Hours = nil }, "hours"},
		{"weekday 0", func(c *calendar.Calendar) { c.Hours[0].Weekday = 0 }, "hours[0].weekday"},
		{"weekday 8", func(c *calendar.Calendar) { c.Hours[2].Weekday = 8 }, "hours[2].weekday"},
		{"start without leading zero", func(c *calendar.Calendar) { c.Hours[1].Start = "8:00" }, "hours[1].start"},
		{"start not a time", func(c *calendar.Calendar) { c.Hours[1].Start = "noon" }, "hours[1].start"},
		{"start 24:00", func(c *calendar.Calendar) { c.Hours[1].Start = "24:00" }, "hours[1].start"},
		{"end minute 60", func(c *calendar.Calendar) { c.Hours[3].End = "16:60" }, "hours[3].end"},
		{"end 25:00", func(c *calendar.Calendar) { c.Hours[3].End = "25:00" }, "hours[3].end"},
		{"start equals end", func(c *calendar.Calendar) { c.Hours[4].End = "08:00" }, "hours[4]"},
		{"start after end", func(c *calendar.Calendar) { c.Hours[4].Start, c.Hours[4].End = "22:00", "06:00" }, "hours[4]"},
		{"overlap", func(c *calendar.Calendar) {
			c.Hours = append(c.Hours, calendar.Hours{Weekday: 3, Start: "15:59", End: "18:00"})
		}, "hours[5]"},
		{"unknown time zone", func(c *calendar.Calendar) { c.TimeZone = "Europe/Atlantis" }, "time_zone"},
		{"empty time zone", func(c *calendar.Calendar) { c.TimeZone = "" }, "time_zone"},
		{"server-local time zone", func(c *calendar.Calendar) { c.TimeZone = "Local" }, "time_zone"},
		{"holiday not a date", func(c *calendar.Calendar) { c.Holidays = []string{"2026-12-24", "Christmas"} }, "holidays[1]"},
		{"holiday out of range", func(c *calendar.Calendar) { c.Holidays = []string{"2026-02-30"} }, "holidays[0]"},
		{"holiday in another format", func(c *calendar.Calendar) { c.Holidays = []string{"24.12.2026"} }, "holidays[0]"},
		{"unknown preset", func(c *calendar.Calendar) { c.Preset = "se" }, "preset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := officeHours()
			tt.edit(&c)
			for _, err := range []error{c.Validate(), compileErr(c)} {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != fault.KindInvalid {
					t.Fatalf("got %v, want an invalid fault", err)
				}
				if fe.Details["field"] != tt.field {
					t.Fatalf("field = %v, want %s (%s)", fe.Details["field"], tt.field, fe.Message)
				}
			}
		})
	}
}

func compileErr(c calendar.Calendar) error {
	s, err := c.Compile()
	if (s == nil) == (err == nil) {
		panic("Compile must return exactly one of a schedule or an error")
	}
	return err
}
