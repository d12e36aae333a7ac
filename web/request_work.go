package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// The work around a request: its conversation, files, time and feedback.

type commentJSON struct {
	ID        string    `json:"id"`
	RequestID string    `json:"request_id"`
	AuthorID  string    `json:"author_id"`
	Body      string    `json:"body"`
	BodyHTML  string    `json:"body_html"`
	Internal  bool      `json:"internal"`
	CreatedAt time.Time `json:"created_at"`
}

func toCommentJSON(c *requests.Comment) commentJSON {
	return commentJSON{ID: formatID(c.ID), RequestID: formatID(c.RequestID), AuthorID: formatID(c.AuthorID),
		Body: c.Body, BodyHTML: c.BodyHTML, Internal: c.Internal, CreatedAt: c.CreatedAt.UTC()}
}

type commentBody struct {
	Body     string `json:"body"`
	Internal bool   `json:"internal"`
}

func (s *Server) listComments(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	kind := "comments:" + formatID(id)
	p, err := s.readPage(c, kind)
	if err != nil {
		return err
	}
	rows, err := requests.Comments(c.Request().Context(), s.db, s.viewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := trimPage(s, kind, p, rows, func(r *requests.Comment) int64 { return r.ID })
	return c.JSON(http.StatusOK, listOf(rows, next, toCommentJSON))
}

func (s *Server) addComment(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b commentBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	v, now, ctx := s.viewer(c), time.Now().UTC(), c.Request().Context()
	var created *requests.Comment
	err = s.db.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = requests.AddComment(ctx, tx, v, id, b.Body, b.Internal, now)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toCommentJSON(created))
}

type attachmentJSON struct {
	ID          string    `json:"id"`
	RequestID   string    `json:"request_id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	SizeBytes   int64     `json:"size_bytes"`
	SHA256      string    `json:"sha256"`
	Internal    bool      `json:"internal"`
	UploaderID  string    `json:"uploader_id"`
	CreatedAt   time.Time `json:"created_at"`
}

func toAttachmentJSON(a *requests.Attachment) attachmentJSON {
	return attachmentJSON{ID: formatID(a.ID), RequestID: formatID(a.RequestID), Filename: a.Filename,
		ContentType: a.ContentType, SizeBytes: a.SizeBytes, SHA256: a.SHA256, Internal: a.Internal,
		UploaderID: formatID(a.UploaderID), CreatedAt: a.CreatedAt.UTC()}
}

// DefaultAttachmentLimit is the largest file one upload may carry.
const DefaultAttachmentLimit int64 = 10 << 20

// multipartOverhead is what the multipart envelope may add to the file: the
// boundaries, part headers and the small form fields beside the file.
const multipartOverhead = 64 << 10

func (s *Server) attachmentLimit() int64 { return s.cfg.AttachmentLimit }

func (s *Server) listAttachments(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	kind := "attachments:" + formatID(id)
	p, err := s.readPage(c, kind)
	if err != nil {
		return err
	}
	rows, err := requests.Attachments(c.Request().Context(), s.db, s.viewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := trimPage(s, kind, p, rows, func(a *requests.Attachment) int64 { return a.ID })
	return c.JSON(http.StatusOK, listOf(rows, next, toAttachmentJSON))
}

// uploadAttachment handles POST /requests/{id}/attachments: one file in the
// multipart field "file" and, for the provider side, "internal"=true. Who
// may post is checked before the body is read, so a caller who may not
// post is not made to upload the file first.
func (s *Server) uploadAttachment(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	created, err := s.attach(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAttachmentJSON(created))
}

// attach stores the uploaded file on request id, for the API and the
// portal alike.
func (s *Server) attach(c echo.Context, id int64) (*requests.Attachment, error) {
	v, ctx := s.viewer(c), c.Request().Context()
	r, err := requests.Get(ctx, s.db, v, id)
	if err != nil {
		return nil, err
	}
	if err := v.MayPost(r, false); err != nil {
		return nil, err
	}
	u, err := s.readUpload(c)
	if err != nil {
		return nil, err
	}
	var created *requests.Attachment
	err = s.db.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = requests.Attach(ctx, tx, v, id, u, time.Now().UTC())
		return err
	})
	return created, err
}

// readUpload reads the multipart body of an upload within the attachment
// limit, keeping the file name exactly as the client sent it so that a
// name with directory parts is refused rather than silently shortened.
func (s *Server) readUpload(c echo.Context) (requests.Upload, error) {
	limit := s.attachmentLimit()
	tooLarge := echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("the file is larger than the limit of %s", humanBytes(limit)))
	req := c.Request()
	mediaType, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEMultipartForm {
		return requests.Upload{}, echo.NewHTTPError(http.StatusUnsupportedMediaType,
			"send the file as multipart/form-data in the field \"file\"")
	}
	if req.ContentLength > limit+multipartOverhead {
		return requests.Upload{}, tooLarge
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit+multipartOverhead)
	if err := req.ParseMultipartForm(limit + multipartOverhead); err != nil {
		var maxErr *http.MaxBytesError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &maxErr), errors.Is(err, multipart.ErrMessageTooLarge):
			return requests.Upload{}, tooLarge
		case errors.As(err, &he):
			return requests.Upload{}, he
		}
		return requests.Upload{}, badRequest("malformed_multipart", "the multipart body could not be read", nil)
	}
	form := req.MultipartForm
	files := form.File["file"]
	if len(files) != 1 {
		return requests.Upload{}, fault.Invalid("file", "send exactly one file in the multipart field \"file\"")
	}
	fh := files[0]
	if fh.Size > limit {
		return requests.Upload{}, tooLarge
	}
	var u requests.Upload
	switch internal := form.Value["internal"]; {
	case len(internal) == 0:
	case len(internal) == 1 && (internal[0] == "true" || internal[0] == "false"):
		u.Internal = internal[0] == "true"
	default:
		return requests.Upload{}, fault.Invalid("internal", "internal must be true or false")
	}
	// multipart.FileHeader.Filename is already reduced to its base name;
	// the Content-Disposition header has what the client really sent.
	_, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition"))
	if err != nil {
		return requests.Upload{}, badRequest("malformed_multipart", "the file part has no readable Content-Disposition", nil)
	}
	u.Filename = params["filename"]
	f, err := fh.Open()
	if err != nil {
		return requests.Upload{}, fmt.Errorf("open uploaded file: %w", err)
	}
	defer f.Close()
	if u.Content, err = io.ReadAll(io.LimitReader(f, limit+1)); err != nil {
		return requests.Upload{}, fmt.Errorf("read uploaded file: %w", err)
	}
	if int64(len(u.Content)) > limit {
		return requests.Upload{}, tooLarge
	}
	return u, nil
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// downloadAttachment serves a file as a download of the type sniffed at
// upload, so a browser neither guesses the type nor renders it in place.
func (s *Server) downloadAttachment(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	attachmentID, err := pathID(c, "attachment_id", "attachment")
	if err != nil {
		return err
	}
	a, content, err := requests.OpenAttachment(c.Request().Context(), s.db, s.viewer(c), id, attachmentID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, "attachment; filename*=UTF-8''"+encodeRFC5987(a.Filename))
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(content)))
	return c.Blob(http.StatusOK, a.ContentType, content)
}

// encodeRFC5987 percent-encodes s as an RFC 5987 ext-value, keeping only
// attr-chars as they are.
func encodeRFC5987(s string) string {
	const attrChars = "!#$&+-.^_`|~"
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(attrChars, c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type timeEntryJSON struct {
	ID        string    `json:"id"`
	RequestID string    `json:"request_id"`
	AgentID   string    `json:"agent_id"`
	Minutes   int       `json:"minutes"`
	Date      string    `json:"date"`
	Billable  bool      `json:"billable"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

func toTimeEntryJSON(e *requests.TimeEntry) timeEntryJSON {
	return timeEntryJSON{ID: formatID(e.ID), RequestID: formatID(e.RequestID), AgentID: formatID(e.AgentID),
		Minutes: e.Minutes, Date: e.WorkDate, Billable: e.Billable, Note: e.Note, CreatedAt: e.CreatedAt.UTC()}
}

type timeEntryBody struct {
	Minutes  int    `json:"minutes"`
	Date     string `json:"date"`
	Billable *bool  `json:"billable"`
	Note     string `json:"note"`
}

func (s *Server) listTimeEntries(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	kind := "time-entries:" + formatID(id)
	p, err := s.readPage(c, kind)
	if err != nil {
		return err
	}
	rows, err := requests.TimeEntries(c.Request().Context(), s.db, s.viewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := trimPage(s, kind, p, rows, func(e *requests.TimeEntry) int64 { return e.ID })
	return c.JSON(http.StatusOK, listOf(rows, next, toTimeEntryJSON))
}

func (s *Server) logTime(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b timeEntryBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	l := requests.TimeLog{Minutes: b.Minutes, Date: b.Date, Billable: b.Billable == nil || *b.Billable, Note: b.Note}
	v, now, ctx := s.viewer(c), time.Now().UTC(), c.Request().Context()
	org := *s.org
	var created *requests.TimeEntry
	err = s.db.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = requests.LogTime(ctx, tx, v, org, id, l, now)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toTimeEntryJSON(created))
}

type feedbackJSON struct {
	RequestID string    `json:"request_id"`
	AuthorID  string    `json:"author_id"`
	Rating    int       `json:"rating"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
}

func toFeedbackJSON(f *requests.Feedback) feedbackJSON {
	return feedbackJSON{RequestID: formatID(f.RequestID), AuthorID: formatID(f.AuthorID), Rating: f.Rating,
		Comment: f.Comment, CreatedAt: f.CreatedAt.UTC()}
}

type feedbackBody struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

func (s *Server) getFeedback(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	f, err := requests.GetFeedback(c.Request().Context(), s.db, s.viewer(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toFeedbackJSON(f))
}

func (s *Server) giveFeedback(c echo.Context) error {
	id, err := pathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b feedbackBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	v, now, ctx := s.viewer(c), time.Now().UTC(), c.Request().Context()
	var created *requests.Feedback
	err = s.db.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = requests.GiveFeedback(ctx, tx, v, id, b.Rating, b.Comment, now)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toFeedbackJSON(created))
}
