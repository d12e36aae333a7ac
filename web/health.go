package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type healthJSON struct {
	Status string `json:"status"`
}

// healthz answers while the process runs.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, healthJSON{Status: "ok"})
}

// readyz answers 200 only while the database answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		s.Log.Warn("readiness check failed", "err", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the database does not answer")
	}
	return c.JSON(http.StatusOK, healthJSON{Status: "ready"})
}

// MetricsHandler serves the server's Prometheus metrics at /metrics, for a
// listener of its own: the main one does not serve them.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}
