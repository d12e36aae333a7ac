package portal

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/httpx"
)

// requestWork is the request page's files and time: what is there and what
// the viewer may add.
type requestWork struct {
	Attachments []requests.Attachment
	Time        []requests.TimeEntry
	TotalTime   int // minutes
	CanAttach   bool
	SeesTime    bool
	CanLogTime  bool
	Today       string // the default day of a new time entry
}

func (s *Pages) requestWork(c echo.Context, v requests.Viewer, r *requests.Request) (requestWork, error) {
	ctx := c.Request().Context()
	w := requestWork{CanAttach: v.MayPost(r, false) == nil, SeesTime: v.SeesTime(r),
		Today: catalog.Today(time.Now(), s.Org.Location)}
	var err error
	if w.Attachments, err = requests.Attachments(ctx, s.DB, v, r.ID, 0, 200); err != nil {
		return w, err
	}
	if w.SeesTime {
		if w.Time, err = requests.TimeEntries(ctx, s.DB, v, r.ID, 0, 500); err != nil {
			return w, err
		}
		for _, te := range w.Time {
			w.TotalTime += te.Minutes
		}
		w.CanLogTime = v.Authz.Can(v.UserID, r.ProviderUnitID, "request", "log_time") && r.Status.TakesWork()
	}
	return w, nil
}

// attachmentForm takes one file from the request page. A file the server
// refuses (too large, a forbidden type, a bad name) is said beside the
// file field; nothing is stored.
func (s *Pages) attachmentForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	if _, err := s.Attach(c, id); err != nil {
		if msg, ok := uploadProblem(s.tr(c), err); ok {
			return s.showRequest(c, http.StatusUnprocessableEntity, false, map[string]string{"file": msg}, url.Values{}, "")
		}
		return err
	}
	tr := s.tr(c)
	setFlash(c, tr.T("flash.attached"))
	return c.Redirect(http.StatusSeeOther, "/requests/"+httpx.FormatID(id)+"#files")
}

// uploadProblem is the message a refused upload shows on the page.
func uploadProblem(tr translator, err error) (string, bool) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if msg, ok := he.Message.(string); ok {
			return msg, true
		}
	}
	if fe, ok := fault.As(err); ok && fe.Kind != fault.KindNotFound && fe.Kind != fault.KindForbidden {
		return tr.Fault(err), true
	}
	return "", false
}

// timeForm logs an agent's time from the request page.
func (s *Pages) timeForm(c echo.Context) error {
	org := *s.Org
	return s.requestForm(c, "flash.timelogged", "#time",
		func(ctx context.Context, tx bun.Tx, v requests.Viewer, id int64, form url.Values, now time.Time) error {
			minutes, err := strconv.Atoi(form.Get("minutes"))
			if err != nil {
				return fault.Invalid("minutes", "give the minutes as a whole number, such as 45")
			}
			l := requests.TimeLog{Minutes: minutes, Date: form.Get("date"), Billable: form.Get("billable") == "on", Note: form.Get("note")}
			_, err = requests.LogTime(ctx, tx, v, org, id, l, now)
			return err
		})
}
