package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web"
	"github.com/tiski/tiski/web/webtest"
)

// TestGrantRevokedInOneProcessDeniesInAnother runs two servers, each with its
// own database handle and access rules, on one database: a revocation through
// the first is enforced by the second on the very next request.
func TestGrantRevokedInOneProcessDeniesInAnother(t *testing.T) {
	for _, engine := range dbtest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t, engine)
			f := webtest.NewFixture(t, dbtest.OpenURL(t, url))
			second := httptest.NewServer(webtest.NewServer(t, dbtest.OpenURL(t, url), web.Config{}).Handler())
			t.Cleanup(second.Close)

			manager := f.Login("itmgr") // the session lives in the shared database
			manager.Base = second.URL
			members := "/api/v1/units/" + webtest.ID(f.Units["IT-SD"]) + "/members"
			if res := manager.Call("GET", members, nil); res.Status != http.StatusOK {
				t.Fatalf("before revoke, on the second server = %d", res.Status)
			}
			admin := f.Login("admin")
			if res := admin.Call("DELETE", "/api/v1/units/"+webtest.ID(f.Units["IT"])+"/members/"+webtest.ID(f.Users["itmgr"])+"/manager", nil); res.Status != http.StatusNoContent {
				t.Fatalf("revoke on the first server = %d %s", res.Status, res.Body)
			}
			if res := manager.Call("GET", members, nil); res.Status != http.StatusNotFound {
				t.Fatalf("after revoke, on the second server = %d", res.Status)
			}
			// And a grant made on the first server works on the second at once.
			if res := admin.Call("POST", "/api/v1/units/"+webtest.ID(f.Units["HQ"])+"/members",
				map[string]any{"user_id": webtest.ID(f.Users["itmgr"]), "role": "manager"}); res.Status != http.StatusCreated {
				t.Fatalf("grant = %d %s", res.Status, res.Body)
			}
			if res := manager.Call("GET", members, nil); res.Status != http.StatusOK {
				t.Fatalf("after grant, on the second server = %d", res.Status)
			}
		})
	}
}

func TestHealthMetricsAndSecurityHeaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		c := webtest.NewClient(t, f.Srv.URL)
		for _, path := range []string{"/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz"} {
			if res := c.Call("GET", path, nil); res.Status != http.StatusOK {
				t.Errorf("%s = %d", path, res.Status)
			}
		}
		res := c.Call("GET", "/api/v1/units", nil)
		for header, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
		} {
			if got := res.Header.Get(header); got != want {
				t.Errorf("%s = %q, want %q", header, got, want)
			}
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id")
		}
		// Finding (issue 17, item 5): /metrics needed no authentication on
		// the main listener; it is served on a listener of its own.
		for _, path := range []string{"/metrics", "/api/v1/metrics"} {
			if res := c.Call("GET", path, nil); res.Status != http.StatusNotFound {
				t.Errorf("%s on the main listener = %d, want 404", path, res.Status)
			}
		}
		srv := webtest.NewServer(t, d, web.Config{})
		main, operator := httptest.NewServer(srv.Handler()), httptest.NewServer(srv.MetricsHandler())
		t.Cleanup(main.Close)
		t.Cleanup(operator.Close)
		webtest.NewClient(t, main.URL).Call("GET", "/api/v1/units", nil)
		metrics := webtest.NewClient(t, operator.URL).Call("GET", "/metrics", nil)
		for _, want := range []string{
			`tiski_http_request_duration_seconds_count{method="GET",route="/api/v1/units",status="401"} 1`,
			"go_sql_open_connections",
		} {
			if !strings.Contains(string(metrics.Body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		_ = d.Close()
		if res := c.Call("GET", "/readyz", nil); res.Status != http.StatusServiceUnavailable {
			t.Errorf("readyz with the database closed = %d", res.Status)
		}
	})
}
