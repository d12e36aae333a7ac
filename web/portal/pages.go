package portal

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/httpx"
)

// The templates are the layout, the partials every page may use, and one
// file per page; a page's name is its file's name.
//
//go:embed templates/layout/*.html templates/partials/*.html templates/pages/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

const (
	flashCookie   = "tiski_flash"
	partialHeader = "X-Tiski-Partial"
)

// pageSet holds each page parsed together with the layout and partials.
type pageSet map[string]*template.Template

func parsePages() (pageSet, error) {
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout/layout.html", "templates/partials/*.html"}
	pages := pageSet{}
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "templates/pages/"), ".html")
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, append(shared, path)...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var templateFuncs = template.FuncMap{
	// sanitized marks HTML that the server already sanitized (rendered
	// comments); nothing a user typed reaches a page any other way.
	"sanitized": func(s string) template.HTML { return template.HTML(s) },
	"deref": func(v any) any {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && !rv.IsNil() {
			return rv.Elem().Interface()
		}
		return v
	},
	// pair hands a shared row template the page (for its translator) and
	// the row: {{template "row" (pair $ .)}}.
	"pair": func(page, item any) map[string]any { return map[string]any{"Page": page, "Item": item} },
	"seq": func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	},
}

// navItem is one entry of the portal's main navigation.
type navItem struct {
	Href, Key string
	Section   string // a path prefix the item also stands for
	Current   bool
}

// view is what every page template receives.
type view struct {
	T      translator
	Locale string
	// Languages are the other locales the user may switch to.
	Languages []string
	User      *units.User
	Nav       []navItem
	CSRF      string
	Flash     string
	Title     string
	Path      string
	Data      any
	Errors    map[string]string // form field → message
	Form      url.Values        // what the user typed, to show again
	Problem   string            // a message for the whole form
	Unread    int               // the signed-in user's unread notifications (the bell)
}

// Err returns the message for a form field, if any.
func (v view) Err(field string) string { return v.Errors[field] }

// Model says how a service is priced: "per hour", "per monitor".
func (v view) Model(svc catalog.Service) string {
	if svc.PricingModel == "per_unit" {
		label := svc.UnitLabel
		if label == "" {
			label = "unit"
		}
		return v.T.T("model.per_unit", label)
	}
	return v.T.T("model." + svc.PricingModel)
}

// tableOf pairs rows with the view for the request table partial.
type tableOf struct {
	V    view
	Rows []requestRow
}

// With hands a list of requests to the request table partial.
func (v view) With(rows []requestRow) tableOf { return tableOf{V: v, Rows: rows} }

// Val returns what the user typed into a form field.
func (v view) Val(field string) string { return v.Form.Get(field) }

func (s *Pages) newView(c echo.Context, title string, data any) view {
	tr := s.tr(c)
	v := view{T: tr, Locale: tr.locale, Title: title, Path: c.Request().URL.Path,
		Data: data, Errors: map[string]string{}, Form: url.Values{}}
	if p := httpx.CurrentPrincipal(c); p != nil {
		v.User, v.CSRF, v.Nav = p.User, p.CSRFToken, s.navFor(c)
		v.Languages = slices.DeleteFunc(s.texts.Locales(), func(l string) bool { return l == tr.locale })
		if n, err := notify.UnreadCount(c.Request().Context(), s.DB, p.ID()); err == nil {
			v.Unread = n // a bell that cannot count shows none rather than failing the page
		}
	}
	if ck, err := c.Cookie(flashCookie); err == nil {
		if msg, err := url.QueryUnescape(ck.Value); err == nil {
			v.Flash = msg
		}
		c.SetCookie(&http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	return v
}

// navFor lists the sections the signed-in user has something to do in.
func (s *Pages) navFor(c echo.Context) []navItem {
	uid := httpx.CurrentPrincipal(c).ID()
	somewhere := func(obj, act string) bool {
		units, org := s.Authz.UnitsWhere(uid, obj, act)
		return org || len(units) > 0
	}
	items := []navItem{{Href: "/", Key: "nav.home"}, {Href: "/catalog", Key: "nav.catalog"}, {Href: "/knowledge", Key: "nav.knowledge"}, {Href: "/requests", Key: "nav.requests"}}
	if somewhere("request", "read_queue") {
		items = append(items, navItem{Href: "/queue", Key: "nav.queue"})
	}
	if somewhere("request", "approve") {
		items = append(items, navItem{Href: "/approvals", Key: "nav.approvals"})
	}
	if somewhere("charge", "read") {
		items = append(items, navItem{Href: "/charges", Key: "nav.charges"}, navItem{Href: "/subscriptions", Key: "nav.subscriptions"})
	}
	if somewhere("budget", "read") {
		items = append(items, navItem{Href: "/budgets", Key: "nav.budgets"})
	}
	if somewhere("period", "read") {
		items = append(items, navItem{Href: "/finance/periods", Key: "nav.periods"},
			navItem{Href: "/finance/disputes", Key: "nav.disputes"},
			navItem{Href: "/finance/adjustments", Key: "nav.adjustments"})
	}
	if somewhere("report", "read") {
		items = append(items, navItem{Href: "/reports", Key: "nav.reports"})
	}
	if !audit.ScopeOf(s.Authz, uid).None() {
		items = append(items, navItem{Href: "/audit", Key: "nav.audit"})
	}
	if s.triagesAny(c) {
		items = append(items, navItem{Href: "/mail/quarantine", Key: "nav.quarantine"})
	}
	if s.WebhookKeeper(c).Anywhere() {
		items = append(items, navItem{Href: "/webhooks", Key: "nav.webhooks"})
	}
	if somewhere("unit", "manage") || somewhere("user", "manage") || somewhere("service", "manage") {
		items = append(items, navItem{Href: "/admin/units", Key: "nav.admin", Section: "/admin/"})
	}
	path := c.Request().URL.Path
	for i := range items {
		it := &items[i]
		it.Current = it.Href == path || (it.Href != "/" && strings.HasPrefix(path, it.Href+"/")) ||
			(it.Section != "" && strings.HasPrefix(path, it.Section))
	}
	return items
}

// render writes a page, or only its content block when the portal's script
// asks for a partial update.
func (s *Pages) render(c echo.Context, status int, page string, v view) error {
	t, ok := s.templates[page]
	if !ok {
		return fmt.Errorf("no template %q", page)
	}
	name := "layout.html"
	if c.Request().Header.Get(partialHeader) != "" {
		name = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// setFlash leaves a message for the next page the user sees.
func setFlash(c echo.Context, msg string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// errorPages renders what a page refuses as the error page, so the portal
// answers with pages and never with the API's JSON.
func (s *Pages) errorPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		return s.ErrorPage(c, err)
	}
}

// HandleError answers an error that reached echo from a portal route (a
// middleware in front of every route refused it) with the error page.
func (s *Pages) HandleError(err error, c echo.Context) {
	if perr := s.ErrorPage(c, err); perr != nil {
		s.Log.Error("render error page", "err", perr)
	}
}

// ErrorPage answers err with the error page: the status of the one status
// table, and for anything not found or not visible the 404 page.
func (s *Pages) ErrorPage(c echo.Context, err error) error {
	status, body := httpx.Describe(s.Log, err, c)
	if _, ok := fault.As(err); ok {
		return s.renderErrorPage(c, status, s.tr(c).Fault(err))
	}
	return s.renderErrorPage(c, status, body.Error.Message)
}

// renderErrorPage shows an error as a page: a 404 for anything not found
// or not visible, never a dump of the cause.
func (s *Pages) renderErrorPage(c echo.Context, status int, message string) error {
	v := s.newView(c, "", nil)
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		v.Title, v.Problem = v.T.T("error.notfound"), v.T.T("error.notfound.text")
	case http.StatusForbidden:
		v.Title, v.Problem = v.T.T("error.forbidden"), message
	default:
		v.Title, v.Problem = v.T.T("error.title"), message
	}
	return s.render(c, status, "error", v)
}

// nextPage is the address of the next page of the list at path: the
// request's filters with the signed cursor of web/httpx, the API's paging
// scheme. path is the list's own, as forms posted elsewhere show it too.
func nextPage(c echo.Context, path, cursor string) string {
	q := c.Request().URL.Query()
	q.Set("cursor", cursor)
	return path + "?" + q.Encode()
}

// safeNext accepts only a same-origin path to return to after signing in
// or a form; anything else is "/". Browsers drop tabs and newlines from a
// URL and read a backslash as a slash, so "/\t/evil.example" and
// "/\\evil.example" would leave the site: a path with a control character or
// a backslash is refused whole, as is one that parses with a host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (s *Pages) assets() echo.HandlerFunc {
	sub, _ := fs.Sub(assetFS, "assets")
	files := http.StripPrefix("/assets/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
