package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/fault"
)

// DecodeJSON reads the request body into v strictly: JSON media type, valid
// UTF-8, one object, no unknown fields, matching types.
func DecodeJSON(c echo.Context, v any) error {
	mediaType, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // the body limit was exceeded
		}
		return BadRequest("bad_request", nil, "could not read the request body")
	}
	if !utf8.Valid(body) {
		return BadRequest("invalid_utf8", nil, "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return BadRequest("malformed_json", nil, "the request body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return BadRequest("malformed_json", nil, "the request body is not well-formed JSON")
	case errors.As(err, &typeErr):
		return BadRequest("wrong_type", map[string]any{"field": typeErr.Field},
			"field %s must be a %s", fault.Field(typeErr.Field), typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return BadRequest("unknown_field", map[string]any{"field": field}, "unknown field %s", field)
	}
	if _, ok := fault.As(err); ok {
		return err // a field's own decoder (money, say) already said what is wrong
	}
	return BadRequest("malformed_json", nil, "the request body could not be read: %s", err.Error())
}

// Optional distinguishes a JSON field that is absent from one set to null.
type Optional[T any] struct {
	Set   bool
	Value *T
}

func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}
