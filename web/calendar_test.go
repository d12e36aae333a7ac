package web_test

import (
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

func TestUnitCalendar(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		path := "/api/v1/units/" + id(f.units["IT"]) + "/calendar"
		member := f.login("mktmember")
		res := member.call("GET", path, nil)
		if res.status != http.StatusOK || res.json["custom"] != false || res.json["time_zone"] != "Europe/Helsinki" {
			t.Fatalf("default calendar = %d %s", res.status, res.body)
		}
		good := map[string]any{"time_zone": "Europe/Helsinki", "preset": "fi", "holidays": []string{"2026-12-31"},
			"hours": []map[string]any{{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "13:00", "end": "17:00"}}}
		for _, who := range []string{"mktmember", "itagent", "finance", "admin"} {
			if res := f.login(who).call("PUT", path, good); res.status != http.StatusForbidden {
				t.Errorf("PUT by %s = %d", who, res.status)
			}
		}
		manager := f.login("itmgr")
		bad := []map[string]any{
			{"time_zone": "Europe/Helsinki", "hours": []map[string]any{}},
			{"time_zone": "Mars/Olympus", "hours": good["hours"]},
			{"time_zone": "Europe/Helsinki", "hours": []map[string]any{{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "15:00"}}},
			{"time_zone": "Europe/Helsinki", "hours": []map[string]any{{"weekday": 8, "start": "08:00", "end": "12:00"}}},
			{"time_zone": "Europe/Helsinki", "hours": []map[string]any{{"weekday": 1, "start": "12:00", "end": "08:00"}}},
			{"time_zone": "Europe/Helsinki", "hours": good["hours"], "holidays": []string{"31.12.2026"}},
			{"time_zone": "Europe/Helsinki", "hours": good["hours"], "preset": "se"},
		}
		for i, body := range bad {
			if res := manager.call("PUT", path, body); res.status != http.StatusUnprocessableEntity {
				t.Errorf("bad calendar %d = %d %s", i, res.status, res.body)
			}
		}
		if f.count("unit_calendars") != 0 {
			t.Fatal("a refused calendar was stored")
		}
		if res := manager.call("PUT", path, good); res.status != http.StatusOK {
			t.Fatalf("PUT = %d %s", res.status, res.body)
		}
		res = member.call("GET", path, nil)
		if res.json["custom"] != true || res.json["preset"] != "fi" {
			t.Fatalf("stored calendar = %s", res.body)
		}
	})
}
