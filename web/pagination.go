package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/fault"
)

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// page is the position in a list that a request asks for.
type page struct {
	AfterID int64
	Limit   int
}

// list is the envelope of every list response.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

type cursorBody struct {
	Kind      string    `json:"k"`
	AfterID   int64     `json:"a"`
	UpdatedAt time.Time `json:"u,omitzero"`
}

// readPage parses ?limit= and ?cursor= for a list of the given kind. Cursors
// are signed, so a tampered one or one from another list is refused.
func (s *Server) readPage(c echo.Context, kind string) (page, error) {
	p, _, err := s.readCursorPage(c, kind)
	return p, err
}

// readCursorPage is readPage that also returns the whole cursor, for lists
// ordered by more than the id.
func (s *Server) readCursorPage(c echo.Context, kind string) (page, *cursorBody, error) {
	p := page{Limit: defaultPageSize}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			return p, nil, fault.Invalid("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		p.Limit = n
	}
	if raw := c.QueryParam("cursor"); raw != "" {
		body, ok := s.openCursor(raw)
		if !ok || body.Kind != kind {
			return p, nil, fault.Invalid("cursor", "the cursor is not valid for this list; start again without it")
		}
		p.AfterID = body.AfterID
		return p, &body, nil
	}
	return p, nil, nil
}

// trimPage drops the one extra row fetched to detect a next page and
// returns the cursor to that page, or "" on the last one.
func trimPage[T any](s *Server, kind string, p page, rows []T, idOf func(*T) int64) ([]T, string) {
	if len(rows) <= p.Limit {
		return rows, ""
	}
	rows = rows[:p.Limit]
	return rows, s.sealCursor(cursorBody{Kind: kind, AfterID: idOf(&rows[p.Limit-1])})
}

// listOf maps rows to their JSON form in the list envelope.
func listOf[T, J any](rows []T, next string, toJSON func(*T) J) list[J] {
	out := list[J]{Items: make([]J, len(rows)), NextCursor: next}
	for i := range rows {
		out.Items[i] = toJSON(&rows[i])
	}
	return out
}

func (s *Server) sealCursor(b cursorBody) string {
	payload, _ := json.Marshal(b)
	enc := base64.RawURLEncoding.EncodeToString(payload)
	return enc + "." + base64.RawURLEncoding.EncodeToString(s.cursorMAC(enc))
}

func (s *Server) openCursor(raw string) (cursorBody, bool) {
	enc, sig, ok := strings.Cut(raw, ".")
	if !ok {
		return cursorBody{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.cursorMAC(enc)) {
		return cursorBody{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return cursorBody{}, false
	}
	var b cursorBody
	if json.Unmarshal(payload, &b) != nil || b.AfterID < 0 {
		return cursorBody{}, false
	}
	return b, true
}

func (s *Server) cursorMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.org.CursorSecret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// pathID parses an id from the path; anything else is a missing object.
func pathID(c echo.Context, name, object string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.NotFound(object)
	}
	return id, nil
}

// parseID parses an id given as a JSON string field.
func parseID(field, raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Invalid(field, "%s must be an id such as \"42\"", field)
	}
	return id, nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }
