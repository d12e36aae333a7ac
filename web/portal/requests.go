package portal

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// requestRow is a request as lists show it.
type requestRow struct {
	requests.Request
	Service string
	Unit    string
}

type requestsPage struct {
	Heading  string
	Rows     []requestRow
	Next     string
	Statuses []requests.Status
	Scope    string
}

// listPage renders a list of requests; the scopes are the portal's views
// over the same visibility rules as the API.
func (s *Pages) listPage(c echo.Context, heading string, f requests.Filter, scope string) error {
	v := s.Viewer(c)
	f.Sort, f.Limit = requests.DefaultSort, 26
	if raw := c.QueryParam("status"); raw != "" && httpx.KnownStatus(requests.Status(raw)) {
		f.Statuses = []requests.Status{requests.Status(raw)}
	}
	f.Query = strings.TrimSpace(c.QueryParam("q"))
	cur, err := s.ReadCursor(c, httpx.RequestKind(f.Sort))
	if err != nil {
		return err
	}
	f.After = httpx.RequestsAfter(cur)
	rows, err := requests.List(c.Request().Context(), s.DB, v, f)
	if err != nil {
		return err
	}
	data := requestsPage{Statuses: requests.Statuses, Scope: scope}
	if len(rows) == f.Limit {
		rows = rows[:f.Limit-1]
		data.Next = nextPage(c, c.Request().URL.Path, s.SealRequestCursor(&rows[len(rows)-1], f.Sort))
	}
	if data.Rows, err = s.requestRows(c, rows); err != nil {
		return err
	}
	view := s.newView(c, "", data)
	view.Title = view.T.T(heading)
	data.Heading = view.Title
	view.Data = data
	view.Form = c.QueryParams()
	return s.render(c, http.StatusOK, "requests", view)
}

func (s *Pages) requestRows(c echo.Context, rows []requests.Request) ([]requestRow, error) {
	ctx := c.Request().Context()
	services, unitNames := map[int64]string{}, map[int64]string{}
	out := make([]requestRow, len(rows))
	for i, r := range rows {
		if _, ok := services[r.ServiceID]; !ok {
			if svc, err := catalog.GetService(ctx, s.DB, r.ServiceID); err == nil {
				services[r.ServiceID] = svc.Name
			}
		}
		if _, ok := unitNames[r.ConsumerUnitID]; !ok {
			if u, err := units.GetUnit(ctx, s.DB, r.ConsumerUnitID); err == nil {
				unitNames[r.ConsumerUnitID] = u.Name
			}
		}
		out[i] = requestRow{Request: r, Service: services[r.ServiceID], Unit: unitNames[r.ConsumerUnitID]}
	}
	return out, nil
}

func (s *Pages) requestsPage(c echo.Context) error {
	f := requests.Filter{}
	scope := c.QueryParam("scope")
	if scope == "mine" {
		f.RequesterID = httpx.CurrentPrincipal(c).ID()
	}
	return s.listPage(c, "requests.title", f, scope)
}

// queuePage is the provider side's queue: unassigned or mine, still open.
func (s *Pages) queuePage(c echo.Context) error {
	f := requests.Filter{Statuses: []requests.Status{requests.Open, requests.InProgress, requests.WaitingOnCustomer}}
	queues, _ := s.Authz.UnitsWhere(httpx.CurrentPrincipal(c).ID(), "request", "read_queue")
	if len(queues) == 1 {
		f.ProviderUnitID = queues[0]
	}
	switch c.QueryParam("scope") {
	case "mine":
		f.AssigneeID = httpx.CurrentPrincipal(c).ID()
	case "unassigned":
		f.Unassigned = true
	}
	if sla := c.QueryParam("sla"); sla == "at_risk" || sla == "breached" {
		f.SLA = sla
	}
	return s.listPage(c, "nav.queue", f, c.QueryParam("scope"))
}

func (s *Pages) approvalsPage(c echo.Context) error {
	return s.listPage(c, "nav.approvals", requests.Filter{Statuses: []requests.Status{requests.PendingApproval}}, "")
}

// requestPage shows one request: facts, actions the user may take, the
// conversation and the timeline.
type requestDetail struct {
	// Knowledge is the provider side's related articles and the ones it
	// may link in a public comment; nil for anyone else.
	Knowledge *requestKnowledge
	Row       requestRow
	Actions   []string
	Comments  []requests.Comment
	Events    []requests.Event
	Names     map[int64]string
	Internal  bool
	CanRate   bool
	Feedback  *requests.Feedback
	Stale     bool
	Work      requestWork
	Overrun   *overrunBox // nil unless the fulfilment costs more than the estimate's tolerance
}

func (s *Pages) requestPage(c echo.Context) error {
	return s.showRequest(c, http.StatusOK, false, nil, url.Values{}, "")
}

func (s *Pages) showRequest(c echo.Context, status int, stale bool, errs map[string]string, form url.Values, problem string) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	ctx, v := c.Request().Context(), s.Viewer(c)
	r, err := requests.Get(ctx, s.DB, v, id)
	if err != nil {
		return err
	}
	rows, err := s.requestRows(c, []requests.Request{*r})
	if err != nil {
		return err
	}
	actions := v.AllowedActions(r, time.Now())
	d := requestDetail{Row: rows[0], Internal: v.SeesInternal(r), Stale: stale, Names: map[int64]string{}}
	// The overrun box carries its own approve button.
	d.Actions = slices.DeleteFunc(slices.Clone(actions), func(a string) bool { return a == "approve_overrun" })
	if d.Overrun, err = s.overrun(ctx, r, rows[0].Unit, actions); err != nil {
		return err
	}
	if d.Comments, err = requests.Comments(ctx, s.DB, v, id, 0, 200); err != nil {
		return err
	}
	if d.Events, err = requests.Events(ctx, s.DB, v, id); err != nil {
		return err
	}
	fb, err := requests.GetFeedback(ctx, s.DB, v, id)
	if err != nil && !fault.Is(err, fault.KindNotFound) {
		return err
	}
	d.Feedback = fb
	d.CanRate = fb == nil && r.RequesterID == v.UserID && (r.Status == requests.Resolved || r.Status == requests.Closed)
	if d.Work, err = s.requestWork(c, v, r); err != nil {
		return err
	}
	if d.Knowledge, err = s.requestKnowledge(c, r); err != nil {
		return err
	}
	people := []int64{r.RequesterID}
	if r.AssigneeID != nil {
		people = append(people, *r.AssigneeID)
	}
	for _, cm := range d.Comments {
		people = append(people, cm.AuthorID)
	}
	for _, a := range d.Work.Attachments {
		people = append(people, a.UploaderID)
	}
	for _, te := range d.Work.Time {
		people = append(people, te.AgentID)
	}
	for _, e := range d.Events {
		if e.ActorID != nil {
			people = append(people, *e.ActorID)
		}
	}
	for _, pid := range people {
		if _, ok := d.Names[pid]; !ok {
			if u, err := units.GetUser(ctx, s.DB, pid); err == nil {
				d.Names[pid] = u.Name
			}
		}
	}
	view := s.newView(c, r.Number()+" "+r.Title, d)
	if errs != nil {
		view.Errors = errs
	}
	view.Form, view.Problem = form, problem
	return s.render(c, status, "request", view)
}

// needsConfirmation lists actions that post money or cannot be undone.
var needsConfirmation = map[string]bool{"resolve": true, "cancel": true, "reject": true, "approve_overrun": true}

// actForm takes a lifecycle action from the request page. Without the
// portal's script a confirmation page asks first; a stale version says so
// and offers to reload.
func (s *Pages) actForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	action := form.Get("action")
	version, _ := strconv.ParseInt(form.Get("version"), 10, 64)
	if needsConfirmation[action] {
		if asked, err := s.needConfirm(c, form, "confirm."+action, "/requests/"+httpx.FormatID(id)); asked || err != nil {
			return err
		}
	}
	a := requests.Action{Name: action, Version: version, Note: form.Get("note")}
	if action == "assign" {
		a.AssigneeID = httpx.CurrentPrincipal(c).ID()
	}
	if _, err := s.ApplyAction(c, id, a); err != nil {
		if fe, ok := fault.As(err); ok && fe.Code == "stale_version" {
			return s.showRequest(c, http.StatusConflict, true, nil, url.Values{}, "")
		}
		if r, ok := formFault(s.tr(c), requestTexts, err); ok {
			errs, problem := r.Errors, r.Problem
			return s.showRequest(c, http.StatusUnprocessableEntity, false, errs, form, problem)
		}
		return err
	}
	tr := s.tr(c)
	setFlash(c, tr.T("flash.updated"))
	return c.Redirect(http.StatusSeeOther, "/requests/"+httpx.FormatID(id))
}

// requestForm runs one form of the request page: do, in a transaction, then
// a flash message and back to the page at anchor. A refused form shows the
// page again with the messages beside the fields and what was typed.
func (s *Pages) requestForm(c echo.Context, flashKey, anchor string,
	do func(ctx context.Context, tx bun.Tx, v requests.Viewer, id int64, form url.Values, now time.Time) error) error {
	id, err := httpx.PathID(c, "id", "request")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	ctx, v, now := c.Request().Context(), s.Viewer(c), time.Now().UTC()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error { return do(ctx, tx, v, id, form, now) })
	if err != nil {
		if r, ok := formFault(s.tr(c), requestTexts, err); ok {
			errs, problem := r.Errors, r.Problem
			return s.showRequest(c, http.StatusUnprocessableEntity, false, errs, form, problem)
		}
		return err
	}
	tr := s.tr(c)
	setFlash(c, tr.T(flashKey))
	return c.Redirect(http.StatusSeeOther, "/requests/"+httpx.FormatID(id)+anchor)
}

func (s *Pages) commentForm(c echo.Context) error {
	return s.requestForm(c, "flash.commented", "#comments",
		func(ctx context.Context, tx bun.Tx, v requests.Viewer, id int64, form url.Values, now time.Time) error {
			_, err := requests.AddComment(ctx, tx, v, id, form.Get("body"), form.Get("internal") == "on", now)
			return err
		})
}

func (s *Pages) rateForm(c echo.Context) error {
	return s.requestForm(c, "flash.rated", "",
		func(ctx context.Context, tx bun.Tx, v requests.Viewer, id int64, form url.Values, now time.Time) error {
			rating, _ := strconv.Atoi(form.Get("rating"))
			_, err := requests.GiveFeedback(ctx, tx, v, id, rating, form.Get("comment"), now)
			return err
		})
}

type homePage struct {
	Mine      []requestRow
	Approvals []requestRow
	Queue     []requestRow
	IsAgent   bool
	Approver  bool
	Finance   *financeAttention
}

// homePage shows what needs the user's attention, by role.
func (s *Pages) homePage(c echo.Context) error {
	ctx, v := c.Request().Context(), s.Viewer(c)
	active := []requests.Status{requests.PendingApproval, requests.Open, requests.InProgress, requests.WaitingOnCustomer, requests.Resolved}
	var data homePage
	load := func(f requests.Filter) ([]requestRow, error) {
		f.Sort, f.Limit = requests.DefaultSort, 10
		rows, err := requests.List(ctx, s.DB, v, f)
		if err != nil {
			return nil, err
		}
		return s.requestRows(c, rows)
	}
	var err error
	if data.Mine, err = load(requests.Filter{RequesterID: v.UserID, Statuses: active}); err != nil {
		return err
	}
	approve, org := s.Authz.UnitsWhere(v.UserID, "request", "approve")
	if data.Approver = org || len(approve) > 0; data.Approver {
		pending, err := load(requests.Filter{Statuses: []requests.Status{requests.PendingApproval}})
		if err != nil {
			return err
		}
		for _, r := range pending {
			if r.RequesterID != v.UserID {
				data.Approvals = append(data.Approvals, r)
			}
		}
	}
	queues, _ := s.Authz.UnitsWhere(v.UserID, "request", "read_queue")
	if data.IsAgent = len(queues) > 0; data.IsAgent {
		if data.Queue, err = load(requests.Filter{Statuses: []requests.Status{requests.Open, requests.InProgress}, Unassigned: true}); err != nil {
			return err
		}
	}
	if data.Finance, err = s.financeAttention(c); err != nil {
		return err
	}
	view := s.newView(c, "", data)
	view.Title = view.T.T("home.title", httpx.CurrentPrincipal(c).User.Name)
	return s.render(c, http.StatusOK, "home", view)
}

// Estimate is the request's quoted cost.
func (r requestRow) Estimate() money.Money {
	return money.Money{Minor: r.EstimateMinor, Currency: r.Currency}
}
