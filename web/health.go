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

func (s *Server) metricsPage(c echo.Context) error {
	s.metrics.handler().ServeHTTP(c.Response(), c.Request())
	return nil
}
