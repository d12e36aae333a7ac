package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/export"
	"github.com/tiski/tiski/web/httpx"
)

// auditPageKind is the cursor kind of the audit trail.
const auditPageKind = "audit"

type auditActorJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type auditEntryJSON struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	Actor      *auditActorJSON `json:"actor"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Action     string          `json:"action"`
	Refused    bool            `json:"refused"`
	Sentence   string          `json:"sentence"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

func rawState(s *string) json.RawMessage {
	if s == nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(*s)
}

func (s *Handlers) toAuditEntryJSON(e *audit.Entry, names audit.Names, locale string) auditEntryJSON {
	j := auditEntryJSON{ID: httpx.FormatID(e.ID), At: e.At.UTC(), ObjectType: e.ObjectType, ObjectID: e.ObjectID, Action: e.Action,
		Refused: e.Action == "refuse", Before: rawState(e.BeforeJSON), After: rawState(e.AfterJSON), Sentence: s.sentence(e, names, locale)}
	if e.ActorID != nil {
		j.Actor = &auditActorJSON{ID: httpx.FormatID(*e.ActorID)}
		if e.ActorName != nil {
			j.Actor.Name = *e.ActorName
		}
	}
	return j
}

func (s *Handlers) sentence(e *audit.Entry, names audit.Names, locale string) string {
	w := audit.Describe(e, names, s.Org.Currency)
	return s.Texts.Sentence(locale, w.Key, w.Args...)
}

// listAudit handles GET /audit: the trail the caller may read (auditors
// all of it, finance the money trail, managers their units' requests and
// charges), newest first, filtered and paged.
func (s *Handlers) listAudit(c echo.Context) error {
	principal := httpx.CurrentPrincipal(c)
	scope, err := s.AuditScope(principal)
	if err != nil {
		return err
	}
	p, err := s.ReadPage(c, auditPageKind)
	if err != nil {
		return err
	}
	f, err := httpx.AuditQuery(c.QueryParams()).Parse(s.Org.Location)
	if err != nil {
		return err
	}
	f.BeforeID, f.Limit = p.AfterID, p.Limit+1
	ctx := c.Request().Context()
	rows, err := audit.List(ctx, s.DB, scope, f)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, auditPageKind, p, rows, func(e *audit.Entry) int64 { return e.ID })
	names, err := audit.LoadNames(ctx, s.DB, rows)
	if err != nil {
		return err
	}
	locale := principal.User.Locale
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, func(e *audit.Entry) auditEntryJSON {
		return s.toAuditEntryJSON(e, names, locale)
	}))
}

// AuditColumns are the columns of audit.csv.
var AuditColumns = []string{"id", "at", "actor_id", "actor", "object_type", "object_id", "action", "sentence", "before", "after"}

// auditFilePage is how many events the file reads at a time.
const auditFilePage = 500

// exportAudit handles GET /audit.csv: the whole filtered trail the caller
// may read, as a file, in the caller's CSV dialect.
func (s *Handlers) exportAudit(c echo.Context) error {
	principal := httpx.CurrentPrincipal(c)
	scope, err := s.AuditScope(principal)
	if err != nil {
		return err
	}
	f, err := httpx.AuditQuery(c.QueryParams()).Parse(s.Org.Location)
	if err != nil {
		return err
	}
	dialect, err := httpx.CSVDialect(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	return s.download(c, csvContentType, "audit.csv", func(w io.Writer) error {
		cw := export.NewCSVIn(w, dialect)
		if err := s.writeAudit(ctx, cw, scope, f, principal.User.Locale); err != nil {
			return err
		}
		return cw.Close()
	})
}

func (s *Handlers) writeAudit(ctx context.Context, w export.Writer, scope audit.Scope, f audit.Filter, locale string) error {
	if err := w.Write(export.Header(AuditColumns...)); err != nil {
		return err
	}
	f.Limit = auditFilePage
	for {
		rows, err := audit.List(ctx, s.DB, scope, f)
		if err != nil {
			return err
		}
		names, err := audit.LoadNames(ctx, s.DB, rows)
		if err != nil {
			return err
		}
		for i := range rows {
			e := &rows[i]
			actorID, actor := export.TextCell(""), export.TextCell("")
			if e.ActorID != nil {
				actorID = export.IntCell(*e.ActorID)
			}
			if e.ActorName != nil {
				actor = export.TextCell(*e.ActorName)
			}
			if err := w.Write([]export.Cell{export.IntCell(e.ID), export.TextCell(e.At.UTC().Format(time.RFC3339)), actorID, actor,
				export.TextCell(e.ObjectType), export.TextCell(e.ObjectID), export.TextCell(e.Action),
				export.TextCell(s.sentence(e, names, locale)), export.TextCell(deref(e.BeforeJSON)), export.TextCell(deref(e.AfterJSON))}); err != nil {
				return err
			}
		}
		if len(rows) < auditFilePage {
			return nil
		}
		f.BeforeID = rows[len(rows)-1].ID
	}
}
