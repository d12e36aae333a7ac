package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestEachRoomAnswersItsOwnErrors: the portal's errors are pages, the API's
// the JSON envelope, for refusals inside a room's route and for requests no
// route matches alike.
func TestEachRoomAnswersItsOwnErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		api := f.Login("mktmember")
		browser := f.SignIn("mktmember")
		for _, row := range []struct {
			name, method, path string
			status             int
			page               bool   // an HTML page, else the JSON envelope
			code               string // the envelope's code
		}{
			{"unknown page", "GET", "/no-such-page", http.StatusNotFound, true, ""},
			{"page of a hidden object", "GET", "/charges/999999", http.StatusNotFound, true, ""},
			{"page without that method", "GET", "/logout", http.StatusMethodNotAllowed, true, ""},
			{"unknown API route", "GET", "/api/v1/no-such-route", http.StatusNotFound, false, "not_found"},
			{"API object not visible", "GET", "/api/v1/charges/999999", http.StatusNotFound, false, "not_found"},
			{"API route without that method", "PUT", "/api/v1/me", http.StatusMethodNotAllowed, false, "method_not_allowed"},
		} {
			t.Run(row.name, func(t *testing.T) {
				req, err := http.NewRequest(row.method, f.Srv.URL+row.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if row.page {
					p := browser.Do(req)
					if p.Status != row.status || !strings.Contains(p.Body, "<html") {
						t.Fatalf("%s %s = %d, want the %d page: %.200s", row.method, row.path, p.Status, row.status, p.Body)
					}
					return
				}
				res := api.Send(req)
				if res.Status != row.status || res.ErrorCode() != row.code {
					t.Fatalf("%s %s = %d %q, want %d %q", row.method, row.path, res.Status, res.ErrorCode(), row.status, row.code)
				}
			})
		}
	})
}
