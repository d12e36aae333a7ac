package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/fault"
)

// ErrorBody is the one error envelope of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the envelope's content: a stable code, a message and the
// fault's details.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// ErrTimeout is the answer to a request that ran out of time.
var ErrTimeout = errors.New("request timed out")

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

// FaultStatus is the HTTP status of a domain fault; ok is false for an
// error that is no fault.
func FaultStatus(err error) (status int, ok bool) {
	fe, ok := fault.As(err)
	if !ok {
		return 0, false
	}
	return statusOfKind[fe.Kind], true
}

// Describe is the single place where an error becomes a status and an
// envelope; causes the caller must not see are logged, not shown.
func Describe(log *slog.Logger, err error, c echo.Context) (int, ErrorBody) {
	if fe, ok := fault.As(err); ok {
		return statusOfKind[fe.Kind], ErrorBody{ErrorDetail{Code: fe.Code, Message: fe.Message, Details: fe.Details}}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Code >= 500 && he.Code != http.StatusServiceUnavailable {
			logInternal(log, err, c)
			return he.Code, internalBody
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
		return he.Code, ErrorBody{ErrorDetail{Code: code, Message: msg}}
	}
	// A room that renders its own errors sees the deadline before the
	// timeout middleware turns it into ErrTimeout.
	if errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable, ErrorBody{ErrorDetail{Code: "timeout", Message: "the request took too long; try again"}}
	}
	logInternal(log, err, c)
	return http.StatusInternalServerError, internalBody
}

var internalBody = ErrorBody{ErrorDetail{Code: "internal", Message: "internal error; the request id is in the X-Request-Id header"}}

func logInternal(log *slog.Logger, err error, c echo.Context) {
	log.Error("request failed", "err", err, "method", c.Request().Method, "path", c.Path(),
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}

// WriteError answers with the JSON error envelope.
func WriteError(log *slog.Logger, err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := Describe(log, err, c)
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
		log.Error("write error response", "err", err)
	}
}

// BadRequest reports input the server cannot parse at all; format and
// args make its message, as in every fault, so it reads in any language.
func BadRequest(code string, details map[string]any, format string, args ...any) error {
	e := fault.New(fault.KindMalformed, code, format, args...)
	e.Details = details
	return e
}

// Recover turns a panic in a handler into a 500, logged with its request id.
func Recover(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.Error("panic in handler", "panic", r, "path", c.Path(),
						"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
					err = echo.NewHTTPError(http.StatusInternalServerError)
				}
			}()
			return next(c)
		}
	}
}
