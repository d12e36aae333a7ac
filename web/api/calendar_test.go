package api_test

import (
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func TestUnitCalendar(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		path := "/api/v1/units/" + webtest.ID(f.Units["IT"]) + "/calendar"
		member := f.Login("mktmember")
		res := member.Call("GET", path, nil)
		if res.Status != http.StatusOK || res.JSON["custom"] != false || res.JSON["time_zone"] != "Europe/Helsinki" {
			t.Fatalf("default calendar = %d %s", res.Status, res.Body)
		}
		good := map[string]any{"time_zone": "Europe/Helsinki", "preset": "fi", "holidays": []string{"2026-12-31"},
			"hours": []map[string]any{{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "13:00", "end": "17:00"}}}
		for _, who := range []string{"mktmember", "itagent", "finance", "admin"} {
			if res := f.Login(who).Call("PUT", path, good); res.Status != http.StatusForbidden {
				t.Errorf("PUT by %s = %d", who, res.Status)
			}
		}
		manager := f.Login("itmgr")
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
			if res := manager.Call("PUT", path, body); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("bad calendar %d = %d %s", i, res.Status, res.Body)
			}
		}
		if f.Count("unit_calendars") != 0 {
			t.Fatal("a refused calendar was stored")
		}
		if res := manager.Call("PUT", path, good); res.Status != http.StatusOK {
			t.Fatalf("PUT = %d %s", res.Status, res.Body)
		}
		res = member.Call("GET", path, nil)
		if res.JSON["custom"] != true || res.JSON["preset"] != "fi" {
			t.Fatalf("stored calendar = %s", res.Body)
		}
	})
}
