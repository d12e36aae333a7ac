package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/fault"
)

// errorBody is the one error envelope of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

var statusOfKind = map[fault.Kind]int{
	fault.KindInvalid:         http.StatusUnprocessableEntity,
	fault.KindNotFound:        http.StatusNotFound,
	fault.KindForbidden:       http.StatusForbidden,
	fault.KindConflict:        http.StatusConflict,
	fault.KindUnauthorized:    http.StatusUnauthorized,
	fault.KindTooManyRequests: http.StatusTooManyRequests,
	fault.KindMalformed:       http.StatusBadRequest,
}

var codeOfStatus = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "payload_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "invalid",
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusServiceUnavailable:    "unavailable",
}

// handleError is the single place where errors become HTTP responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.describeError(err, c)
	if isPortalPath(c.Request().URL.Path) {
		if perr := s.renderErrorPage(c, status, body.Error.Message); perr != nil {
			s.log.Error("render error page", "err", perr)
		}
		return
	}
	if status == http.StatusTooManyRequests {
		if secs, ok := body.Error.Details["retry_after_seconds"].(int); ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		}
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		s.log.Error("write error response", "err", err)
	}
}

func (s *Server) describeError(err error, c echo.Context) (int, errorBody) {
	if fe, ok := fault.As(err); ok {
		return statusOfKind[fe.Kind], errorBody{errorDetail{Code: fe.Code, Message: fe.Message, Details: fe.Details}}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Code >= 500 && he.Code != http.StatusServiceUnavailable {
			s.logInternal(err, c)
			return he.Code, errorBody{errorDetail{Code: "internal", Message: "internal error; the request id is in the X-Request-Id header"}}
		}
		code, ok := codeOfStatus[he.Code]
		if !ok {
			code = "error"
		}
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		if he.Code == http.StatusNotFound && msg == "Not Found" {
			msg = "no such route"
		}
		return he.Code, errorBody{errorDetail{Code: code, Message: msg}}
	}
	if errors.Is(err, errTimeout) {
		return http.StatusServiceUnavailable, errorBody{errorDetail{Code: "timeout", Message: "the request took too long; try again"}}
	}
	s.logInternal(err, c)
	return http.StatusInternalServerError, errorBody{errorDetail{Code: "internal", Message: "internal error; the request id is in the X-Request-Id header"}}
}

func (s *Server) logInternal(err error, c echo.Context) {
	s.log.Error("request failed", "err", err, "method", c.Request().Method, "path", c.Path(),
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}

// badRequest reports input the server cannot parse at all.
func badRequest(code, msg string, details map[string]any) error {
	return &fault.Error{Kind: fault.KindMalformed, Code: code, Message: msg, Details: details}
}

// asFaultStatus returns the HTTP status of a domain fault.
func asFaultStatus(err error) (int, bool) {
	fe, ok := fault.As(err)
	if !ok {
		return 0, false
	}
	return statusOfKind[fe.Kind], true
}
