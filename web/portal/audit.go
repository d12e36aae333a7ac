package portal

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/web/httpx"
)

// auditPageRows is how many events one page of the trail shows.
const auditPageRows = 50

// auditFilterFields are the query parameters the trail is filtered by; the
// CSV link carries them over.
var auditFilterFields = []string{"object_type", "object_id", "actor_id", "charge_id", "action", "from", "to"}

type auditRow struct {
	ID                   int64
	At                   time.Time
	Actor                string
	ObjectType, ObjectID string
	Action               string
	Refused              bool
	Sentence             string
	Before, After        string
}

type auditData struct {
	Rows        []auditRow
	ObjectTypes []string
	Next        string
	CSV         string
}

// Sentence renders an audit entry's sentence in the user's language.
func (tr translator) Sentence(w audit.Sentence) string {
	return tr.cat.Sentence(tr.locale, w.Key, w.Args...)
}

// auditPage shows the trail the user may read, newest first, filtered and
// paged, with a link to the same events as CSV. To a user who reads none
// of it the page does not exist.
func (s *Pages) auditPage(c echo.Context) error {
	p := httpx.CurrentPrincipal(c)
	scope, err := s.AuditScope(p)
	if err != nil {
		return notFoundPage()
	}
	ctx, q := c.Request().Context(), c.QueryParams()
	v := s.newView(c, "", nil)
	v.Title = v.T.T("audit.title")
	v.Form = q
	v.Path = "/audit"
	data := auditData{ObjectTypes: []string{"adjustment", "budget", "calendar", "charge", "dispute", "grant", "grant_proposal", "period",
		"request", "service", "subscription", "unit", "user"}}
	filters := url.Values{}
	for _, k := range auditFilterFields {
		if val := q.Get(k); val != "" {
			filters.Set(k, val)
		}
	}
	data.CSV = "/api/v1/audit.csv?" + filters.Encode()
	v.Data = &data
	f, err := httpx.AuditQuery(q).Parse(s.Org.Location)
	if fe, ok := fault.As(err); ok && fe.Kind == fault.KindInvalid {
		field, _ := fe.Details["field"].(string)
		v.Errors[field] = v.T.Fault(err)
		return s.render(c, http.StatusUnprocessableEntity, "audit", v)
	} else if err != nil {
		return err
	}
	cur, err := s.ReadCursor(c, "audit")
	if err != nil {
		return err
	}
	page := httpx.Page{Limit: auditPageRows}
	if cur != nil {
		page.AfterID = cur.AfterID
	}
	f.BeforeID, f.Limit = page.AfterID, page.Limit+1
	rows, err := audit.List(ctx, s.DB, scope, f)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "audit", page, rows, func(e *audit.Entry) int64 { return e.ID })
	if next != "" {
		data.Next = nextPage(c, "/audit", next)
	}
	names, err := audit.LoadNames(ctx, s.DB, rows)
	if err != nil {
		return err
	}
	for i := range rows {
		e := &rows[i]
		r := auditRow{ID: e.ID, At: e.At, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Action: e.Action, Refused: e.Action == "refuse",
			Sentence: v.T.Sentence(audit.Describe(e, names, s.Org.Currency)), Before: stateText(e.BeforeJSON), After: stateText(e.AfterJSON)}
		if e.ActorName != nil {
			r.Actor = *e.ActorName
		} else {
			r.Actor = v.T.T("audit.actor.system")
		}
		data.Rows = append(data.Rows, r)
	}
	return s.render(c, http.StatusOK, "audit", v)
}

// stateText is a recorded state as the page shows it; "" for none.
func stateText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
