package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestCSVDownloadsFollowTheReadersConvention: issue 12, item 7. A Finnish
// user's CSV is semicolon-separated with decimal commas unless ?sep= says
// otherwise; ?sep=comma or semicolon chooses; anything else is a 422
// naming the field and sends no file.
func TestCSVDownloadsFollowTheReadersConvention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStatementDesk(t, d)
		path := "/api/v1/units/" + webtest.ID(k.Units["MKT"]) + "/statements/2026-11.csv"
		read := func(as, query string, sep rune) [][]string {
			t.Helper()
			res := k.get(as, path+query)
			if res.Status != http.StatusOK {
				t.Fatalf("%s GET %s%s = %d %s", as, path, query, res.Status, res.Body)
			}
			r := csv.NewReader(bytes.NewReader(res.Body))
			r.Comma = sep
			records, err := r.ReadAll()
			if err != nil || len(records) != 4 || len(records[0]) < 10 {
				t.Fatalf("%s%s read with %q: %v %q", path, query, sep, err, records)
			}
			return records
		}
		amount := func(records [][]string) string {
			for i, c := range records[0] {
				if c == "amount" {
					return records[1][i]
				}
			}
			t.Fatalf("no amount column in %q", records[0])
			return ""
		}

		if got := amount(read("manager", "", ',')); got != "2400.00" {
			t.Errorf("English default amount = %q", got)
		}
		if got := amount(read("manager", "?sep=semicolon", ';')); got != "2400,00" {
			t.Errorf("?sep=semicolon amount = %q", got)
		}
		if _, err := d.NewUpdate().Table("users").Set("locale = 'fi'").Where("id = ?", k.Users["manager"]).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := amount(read("manager", "", ';')); got != "2400,00" {
			t.Errorf("Finnish default amount = %q", got)
		}
		if got := amount(read("manager", "?sep=comma", ',')); got != "2400.00" {
			t.Errorf("?sep=comma amount = %q", got)
		}

		res := k.get("manager", path+"?sep=tab")
		if res.Status != http.StatusUnprocessableEntity || res.Header.Get("Content-Disposition") != "" {
			t.Fatalf("?sep=tab = %d %s", res.Status, res.Body)
		}
		if details, _ := res.JSON["error"].(map[string]any)["details"].(map[string]any); details["field"] != "sep" {
			t.Errorf("?sep=tab error = %s", res.Body)
		}
	})
}
