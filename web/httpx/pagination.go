package httpx

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
	"github.com/tiski/tiski/requests"
)

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// Page is the position in a list that a request asks for.
type Page struct {
	AfterID int64
	Limit   int
}

// List is the envelope of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Cursor is where a signed list cursor points.
type Cursor struct {
	Kind      string    `json:"k"`
	AfterID   int64     `json:"a"`
	UpdatedAt time.Time `json:"u,omitzero"`
}

// ReadPage parses ?limit= and ?cursor= for a list of the given kind. Cursors
// are signed, so a tampered one or one from another list is refused.
func (k *Kit) ReadPage(c echo.Context, kind string) (Page, error) {
	p, _, err := k.ReadCursorPage(c, kind)
	return p, err
}

// ReadCursorPage is ReadPage that also returns the whole cursor, for lists
// ordered by more than the id.
func (k *Kit) ReadCursorPage(c echo.Context, kind string) (Page, *Cursor, error) {
	p := Page{Limit: defaultPageSize}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			return p, nil, fault.Invalid("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		p.Limit = n
	}
	cur, err := k.ReadCursor(c, kind)
	if cur != nil {
		p.AfterID = cur.AfterID
	}
	return p, cur, err
}

// ReadCursor opens ?cursor= for a list of the given kind, nil without one.
// It is the one cursor parser of the API and the portal (whose pages keep
// their own page sizes), so a cursor pages the same list in both rooms.
func (k *Kit) ReadCursor(c echo.Context, kind string) (*Cursor, error) {
	raw := c.QueryParam("cursor")
	if raw == "" {
		return nil, nil
	}
	body, ok := k.openCursor(raw)
	if !ok || body.Kind != kind {
		return nil, fault.Invalid("cursor", "the cursor is not valid for this list; start again without it")
	}
	return &body, nil
}

// RequestKind is the cursor kind of a request list in the given sort, so a
// cursor of one order never pages another.
func RequestKind(sort string) string { return "requests:" + sort }

// RequestsAfter is where a request list resumes after cur (nil: the start).
func RequestsAfter(cur *Cursor) *requests.Cursor {
	if cur == nil {
		return nil
	}
	return &requests.Cursor{ID: cur.AfterID, UpdatedAt: cur.UpdatedAt}
}

// SealRequestCursor signs the cursor to the page after r, the last request
// shown of a list in the given sort.
func (k *Kit) SealRequestCursor(r *requests.Request, sort string) string {
	last := requests.CursorAfter(r, sort)
	return k.SealCursor(Cursor{Kind: RequestKind(sort), AfterID: last.ID, UpdatedAt: last.UpdatedAt})
}

// TrimPage drops the one extra row fetched to detect a next page and
// returns the cursor to that page, or "" on the last one.
func TrimPage[T any](k *Kit, kind string, p Page, rows []T, idOf func(*T) int64) ([]T, string) {
	if len(rows) <= p.Limit {
		return rows, ""
	}
	rows = rows[:p.Limit]
	return rows, k.SealCursor(Cursor{Kind: kind, AfterID: idOf(&rows[p.Limit-1])})
}

// ListOf maps rows to their JSON form in the list envelope.
func ListOf[T, J any](rows []T, next string, toJSON func(*T) J) List[J] {
	out := List[J]{Items: make([]J, len(rows)), NextCursor: next}
	for i := range rows {
		out.Items[i] = toJSON(&rows[i])
	}
	return out
}

// SealCursor signs a cursor for the next page.
func (k *Kit) SealCursor(b Cursor) string {
	payload, _ := json.Marshal(b)
	enc := base64.RawURLEncoding.EncodeToString(payload)
	return enc + "." + base64.RawURLEncoding.EncodeToString(k.cursorMAC(enc))
}

func (k *Kit) openCursor(raw string) (Cursor, bool) {
	enc, sig, ok := strings.Cut(raw, ".")
	if !ok {
		return Cursor{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.cursorMAC(enc)) {
		return Cursor{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return Cursor{}, false
	}
	var b Cursor
	if json.Unmarshal(payload, &b) != nil || b.AfterID < 0 {
		return Cursor{}, false
	}
	return b, true
}

func (k *Kit) cursorMAC(payload string) []byte {
	m := hmac.New(sha256.New, k.Org.CursorSecret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// PathID parses an id from the path; anything else is a missing object.
func PathID(c echo.Context, name, object string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.NotFound(object)
	}
	return id, nil
}

// ParseID parses an id given as a JSON string field.
func ParseID(field, raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Invalid(field, "%s must be an id such as \"42\"", field)
	}
	return id, nil
}

// FormatID is an id as the API and the forms write it.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
