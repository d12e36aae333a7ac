package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/httpx"
)

// articleLink is an article as a list shows it: its title in the reader's
// language and where it opens, saying where it was opened from.
type articleLink struct {
	ID       int64
	Title    string
	Href     string
	Internal bool
}

func linkTo(a *knowledge.Article, locale, from string, serviceID int64) articleLink {
	q := url.Values{"from": {from}}
	if serviceID != 0 {
		q.Set("service_id", strconv.FormatInt(serviceID, 10))
	}
	return articleLink{ID: a.ID, Title: a.In(locale).Title, Href: "/knowledge/" + httpx.FormatID(a.ID) + "?" + q.Encode(),
		Internal: a.Audience == knowledge.Provider}
}

// serviceArticles lists the published articles of a service the viewer
// may read ("before you order"), opened from the given place.
func (s *Pages) serviceArticles(c echo.Context, serviceID int64, from string) ([]articleLink, error) {
	rows, err := knowledge.List(c.Request().Context(), s.DB, s.KnowledgeViewer(c),
		knowledge.Filter{ServiceID: serviceID, Status: knowledge.Published, Limit: 10})
	if err != nil {
		return nil, err
	}
	out := make([]articleLink, 0, len(rows))
	for i := range rows {
		out = append(out, linkTo(&rows[i], s.tr(c).locale, from, serviceID))
	}
	return out, nil
}

type knowledgePage struct {
	Writes    bool // writes some unit's articles
	Query     string
	ServiceID int64
	Hits      []articleLink
	Searched  bool
}

// knowledgePage searches the published articles the user may read.
func (s *Pages) knowledgePage(c echo.Context) error {
	p := knowledgePage{Query: c.QueryParam("q")}
	writes, orgWide := s.Authz.UnitsWhere(httpx.CurrentPrincipal(c).ID(), "knowledge", "write")
	p.Writes = orgWide || len(writes) > 0
	if raw := c.QueryParam("service_id"); raw != "" {
		id, err := httpx.ParseID("service_id", raw)
		if err != nil {
			return err
		}
		p.ServiceID = id
	}
	v := s.newView(c, s.tr(c).T("knowledge.title"), &p)
	if p.Query != "" {
		hits, err := knowledge.Search(c.Request().Context(), s.DB, s.KnowledgeViewer(c), p.Query, p.ServiceID, 20)
		if fault.Is(err, fault.KindInvalid) {
			v.Problem = v.T.Fault(err)
		} else if err != nil {
			return err
		}
		p.Searched = true
		for i := range hits {
			p.Hits = append(p.Hits, linkTo(&hits[i].Article, v.Locale, knowledge.FromSearch, 0))
		}
	}
	return s.render(c, http.StatusOK, "knowledge", v)
}

type suggestionJSON struct {
	Title string `json:"title"`
	Href  string `json:"href"`
}

// knowledgeSuggestions answers the order form's script with articles whose
// text matches the title typed so far, for the service being ordered.
func (s *Pages) knowledgeSuggestions(c echo.Context) error {
	serviceID, err := httpx.ParseID("service_id", c.QueryParam("service_id"))
	if err != nil {
		return err
	}
	hits, err := knowledge.Search(c.Request().Context(), s.DB, s.KnowledgeViewer(c), c.QueryParam("q"), serviceID, 5)
	if err != nil {
		return err
	}
	out := make([]suggestionJSON, 0, len(hits))
	for i := range hits {
		l := linkTo(&hits[i].Article, s.tr(c).locale, knowledge.FromOrderForm, serviceID)
		out = append(out, suggestionJSON{Title: l.Title, Href: l.Href})
	}
	return c.JSON(http.StatusOK, out)
}

type articlePage struct {
	Article  *knowledge.Article
	Text     knowledge.Text
	Votes    knowledge.Tally
	Writes   bool
	Internal bool
}

// articlePage shows an article in the reader's language and counts the view.
func (s *Pages) articlePage(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	kv := s.KnowledgeViewer(c)
	a, err := knowledge.Get(ctx, s.DB, kv, id)
	if err != nil {
		return err
	}
	serviceID, _ := strconv.ParseInt(c.QueryParam("service_id"), 10, 64)
	from := c.QueryParam("from")
	if from == "" {
		from = knowledge.FromDirect
	}
	if err := knowledge.RecordView(ctx, s.DB, kv, a, from, serviceID, time.Now().UTC()); err != nil {
		return err
	}
	votes, err := knowledge.Votes(ctx, s.DB, a.ID)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	p := articlePage{Article: a, Text: a.In(tr.locale), Votes: votes, Writes: kv.Writes(a.ProviderUnitID), Internal: a.Audience == knowledge.Provider}
	return s.render(c, http.StatusOK, "article", s.newView(c, p.Text.Title, p))
}

// voteForm marks an article helpful or not from its page.
func (s *Pages) voteForm(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	helpful := c.FormValue("helpful") == "yes"
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := knowledge.Vote(ctx, tx, s.KnowledgeViewer(c), id, helpful, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	setFlash(c, s.tr(c).T("knowledge.voted"))
	return c.Redirect(http.StatusSeeOther, "/knowledge/"+httpx.FormatID(id))
}

// articleList pairs article links with the view for the knowledge partials.
type articleList struct {
	V         view
	Links     []articleLink
	ServiceID int64
	Knowledge *requestKnowledge
}

// Articles hands a list of articles to the knowledge partials.
func (v view) Articles(links []articleLink) articleList { return articleList{V: v, Links: links} }

// RequestArticles hands the request page's knowledge to its partials.
func (v view) RequestArticles(k *requestKnowledge) articleList {
	return articleList{V: v, Knowledge: k}
}

// Suggest hands the order form's suggestion box its service.
func (v view) Suggest(serviceID int64) articleList { return articleList{V: v, ServiceID: serviceID} }

// requestKnowledge is what the request page offers the provider side.
type requestKnowledge struct {
	Related []articleLink // articles matching the request's title, else the service's
	Public  []articleLink // the service's articles for everyone, to link in a reply
}

// requestKnowledge finds the articles an agent may want on a request of
// their unit; nil for anyone not writing the provider unit's knowledge.
// Only articles for everyone are offered for a public comment, so an
// internal one never reaches the requester through a reply.
func (s *Pages) requestKnowledge(c echo.Context, r *requests.Request) (*requestKnowledge, error) {
	kv := s.KnowledgeViewer(c)
	if !kv.Writes(r.ProviderUnitID) {
		return nil, nil
	}
	ctx := c.Request().Context()
	locale := s.tr(c).locale
	k := &requestKnowledge{}
	hits, err := knowledge.Search(ctx, s.DB, kv, r.Title, r.ServiceID, 5)
	if err != nil {
		return nil, err
	}
	for i := range hits {
		k.Related = append(k.Related, linkTo(&hits[i].Article, locale, knowledge.FromRequest, 0))
	}
	rows, err := knowledge.List(ctx, s.DB, kv, knowledge.Filter{ServiceID: r.ServiceID, Status: knowledge.Published, Limit: 50})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		a := &rows[i]
		if len(k.Related) < 5 && !slices.ContainsFunc(k.Related, func(l articleLink) bool { return l.ID == a.ID }) {
			k.Related = append(k.Related, linkTo(a, locale, knowledge.FromRequest, 0))
		}
		if a.Audience == knowledge.Everyone {
			k.Public = append(k.Public, linkTo(a, locale, knowledge.FromComment, 0))
		}
	}
	return k, nil
}

// knowledgeRows pairs the quality report's knowledge rows with the view.
type knowledgeRows struct {
	V    view
	Rows []reports.ServiceKnowledge
}

// KnowledgeRows hands the report's knowledge figures to their partial.
func (v view) KnowledgeRows(rows []reports.ServiceKnowledge) knowledgeRows {
	return knowledgeRows{V: v, Rows: rows}
}
