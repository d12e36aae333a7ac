package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web"
)

// TestGrantRevokedInOneProcessDeniesInAnother runs two servers, each with its
// own database handle and access rules, on one database: a revocation through
// the first is enforced by the second on the very next request.
func TestGrantRevokedInOneProcessDeniesInAnother(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t, engine)
			f := newFixture(t, dbtest.OpenURL(t, url))
			second := httptest.NewServer(newServer(t, dbtest.OpenURL(t, url), web.Config{}).Handler())
			t.Cleanup(second.Close)

			manager := f.login("itmgr") // the session lives in the shared database
			manager.base = second.URL
			members := "/api/v1/units/" + id(f.units["IT-SD"]) + "/members"
			if res := manager.call("GET", members, nil); res.status != http.StatusOK {
				t.Fatalf("before revoke, on the second server = %d", res.status)
			}
			admin := f.login("admin")
			if res := admin.call("DELETE", "/api/v1/units/"+id(f.units["IT"])+"/members/"+id(f.users["itmgr"])+"/manager", nil); res.status != http.StatusNoContent {
				t.Fatalf("revoke on the first server = %d %s", res.status, res.body)
			}
			if res := manager.call("GET", members, nil); res.status != http.StatusNotFound {
				t.Fatalf("after revoke, on the second server = %d", res.status)
			}
			// And a grant made on the first server works on the second at once.
			if res := admin.call("POST", "/api/v1/units/"+id(f.units["GROUP"])+"/members",
				map[string]any{"user_id": id(f.users["itmgr"]), "role": "manager"}); res.status != http.StatusCreated {
				t.Fatalf("grant = %d %s", res.status, res.body)
			}
			if res := manager.call("GET", members, nil); res.status != http.StatusOK {
				t.Fatalf("after grant, on the second server = %d", res.status)
			}
		})
	}
}

func TestHealthMetricsAndSecurityHeaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := newClient(t, f.srv.URL)
		for _, path := range []string{"/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz"} {
			if res := c.call("GET", path, nil); res.status != http.StatusOK {
				t.Errorf("%s = %d", path, res.status)
			}
		}
		res := c.call("GET", "/api/v1/units", nil)
		for header, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
		} {
			if got := res.header.Get(header); got != want {
				t.Errorf("%s = %q, want %q", header, got, want)
			}
		}
		csp := res.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
		if res.header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id")
		}
		metrics := c.call("GET", "/metrics", nil)
		for _, want := range []string{
			`tiski_http_request_duration_seconds_count{method="GET",route="/api/v1/units",status="401"} 1`,
			"go_sql_open_connections",
		} {
			if !strings.Contains(string(metrics.body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		_ = d.Close()
		if res := c.call("GET", "/readyz", nil); res.status != http.StatusServiceUnavailable {
			t.Errorf("readyz with the database closed = %d", res.status)
		}
	})
}
