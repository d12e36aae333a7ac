package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/httpx"
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
	return commentJSON{ID: httpx.FormatID(c.ID), RequestID: httpx.FormatID(c.RequestID), AuthorID: httpx.FormatID(c.AuthorID),
		Body: c.Body, BodyHTML: c.BodyHTML, Internal: c.Internal, CreatedAt: c.CreatedAt.UTC()}
}

type commentBody struct {
	Body     string `json:"body"`
	Internal bool   `json:"internal"`
}

func (s *Handlers) listComments(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	kind := "comments:" + httpx.FormatID(id)
	p, err := s.ReadPage(c, kind)
	if err != nil {
		return err
	}
	rows, err := requests.Comments(c.Request().Context(), s.DB, s.Viewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, kind, p, rows, func(r *requests.Comment) int64 { return r.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toCommentJSON))
}

func (s *Handlers) addComment(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b commentBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	v, now, ctx := s.Viewer(c), time.Now().UTC(), c.Request().Context()
	var created *requests.Comment
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
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
	return attachmentJSON{ID: httpx.FormatID(a.ID), RequestID: httpx.FormatID(a.RequestID), Filename: a.Filename,
		ContentType: a.ContentType, SizeBytes: a.SizeBytes, SHA256: a.SHA256, Internal: a.Internal,
		UploaderID: httpx.FormatID(a.UploaderID), CreatedAt: a.CreatedAt.UTC()}
}

func (s *Handlers) listAttachments(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	kind := "attachments:" + httpx.FormatID(id)
	p, err := s.ReadPage(c, kind)
	if err != nil {
		return err
	}
	rows, err := requests.Attachments(c.Request().Context(), s.DB, s.Viewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, kind, p, rows, func(a *requests.Attachment) int64 { return a.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toAttachmentJSON))
}

// uploadAttachment handles POST /requests/{id}/attachments: one file in the
// multipart field "file" and, for the provider side, "internal"=true. Who
// may post is checked before the body is read, so a caller who may not
// post is not made to upload the file first.
func (s *Handlers) uploadAttachment(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	created, err := s.Attach(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAttachmentJSON(created))
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
	return timeEntryJSON{ID: httpx.FormatID(e.ID), RequestID: httpx.FormatID(e.RequestID), AgentID: httpx.FormatID(e.AgentID),
		Minutes: e.Minutes, Date: e.WorkDate, Billable: e.Billable, Note: e.Note, CreatedAt: e.CreatedAt.UTC()}
}

type timeEntryBody struct {
	Minutes  int    `json:"minutes"`
	Date     string `json:"date"`
	Billable *bool  `json:"billable"`
	Note     string `json:"note"`
}

func (s *Handlers) listTimeEntries(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	kind := "time-entries:" + httpx.FormatID(id)
	p, err := s.ReadPage(c, kind)
	if err != nil {
		return err
	}
	rows, err := requests.TimeEntries(c.Request().Context(), s.DB, s.Viewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, kind, p, rows, func(e *requests.TimeEntry) int64 { return e.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toTimeEntryJSON))
}

func (s *Handlers) logTime(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b timeEntryBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	l := requests.TimeLog{Minutes: b.Minutes, Date: b.Date, Billable: b.Billable == nil || *b.Billable, Note: b.Note}
	v, now, ctx := s.Viewer(c), time.Now().UTC(), c.Request().Context()
	org := *s.Org
	var created *requests.TimeEntry
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
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
	return feedbackJSON{RequestID: httpx.FormatID(f.RequestID), AuthorID: httpx.FormatID(f.AuthorID), Rating: f.Rating,
		Comment: f.Comment, CreatedAt: f.CreatedAt.UTC()}
}

type feedbackBody struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

func (s *Handlers) getFeedback(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	f, err := requests.GetFeedback(c.Request().Context(), s.DB, s.Viewer(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toFeedbackJSON(f))
}

func (s *Handlers) giveFeedback(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	var b feedbackBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	v, now, ctx := s.Viewer(c), time.Now().UTC(), c.Request().Context()
	var created *requests.Feedback
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		created, err = requests.GiveFeedback(ctx, tx, v, id, b.Rating, b.Comment, now)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toFeedbackJSON(created))
}
