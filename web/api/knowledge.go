package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/web/httpx"
)

type articleTextJSON struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	BodyHTML string `json:"body_html"`
}

type articleJSON struct {
	ID             string                     `json:"id"`
	ProviderUnitID string                     `json:"provider_unit_id"`
	Status         string                     `json:"status"`
	Audience       string                     `json:"audience"`
	Version        int64                      `json:"version"`
	ServiceIDs     []string                   `json:"service_ids"`
	Texts          map[string]articleTextJSON `json:"texts"`
	CreatedBy      string                     `json:"created_by"`
	CreatedAt      time.Time                  `json:"created_at"`
	UpdatedAt      time.Time                  `json:"updated_at"`
	PublishedAt    *time.Time                 `json:"published_at"`
	Votes          *knowledgeTallyJSON        `json:"votes,omitempty"`
	MatchedLocale  string                     `json:"matched_locale,omitempty"`
}

type knowledgeTallyJSON struct {
	Helpful    int `json:"helpful"`
	NotHelpful int `json:"not_helpful"`
}

type articleTextBody struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

type articleBody struct {
	ProviderUnitID *string                    `json:"provider_unit_id"`
	Version        *int64                     `json:"version"`
	Audience       *string                    `json:"audience"`
	ServiceIDs     *[]string                  `json:"service_ids"`
	Texts          map[string]articleTextBody `json:"texts"`
	Note           string                     `json:"note"`
}

type articleActionBody struct {
	Action  string `json:"action"`
	Version *int64 `json:"version"`
}

type voteBody struct {
	Helpful *bool `json:"helpful"`
}

type revisionJSON struct {
	ID       string         `json:"id"`
	Version  int64          `json:"version"`
	AuthorID string         `json:"author_id"`
	At       time.Time      `json:"at"`
	Note     string         `json:"note"`
	Content  map[string]any `json:"content"`
}

func toArticleJSON(a *knowledge.Article) articleJSON {
	j := articleJSON{ID: httpx.FormatID(a.ID), ProviderUnitID: httpx.FormatID(a.ProviderUnitID), Status: a.Status, Audience: a.Audience,
		Version: a.Version, ServiceIDs: make([]string, 0, len(a.ServiceIDs)), Texts: map[string]articleTextJSON{},
		CreatedBy: httpx.FormatID(a.CreatedBy), CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.PublishedAt != nil {
		p := a.PublishedAt.UTC()
		j.PublishedAt = &p
	}
	for _, id := range a.ServiceIDs {
		j.ServiceIDs = append(j.ServiceIDs, httpx.FormatID(id))
	}
	for _, t := range a.Texts {
		j.Texts[t.Locale] = articleTextJSON{Title: t.Title, Body: t.Body, BodyHTML: t.BodyHTML}
	}
	return j
}

// content turns a body into what the domain sets.
func (b *articleBody) content() (knowledge.Content, error) {
	c := knowledge.Content{Audience: b.Audience}
	if b.ServiceIDs != nil {
		ids := make([]int64, 0, len(*b.ServiceIDs))
		for _, raw := range *b.ServiceIDs {
			id, err := httpx.ParseID("service_ids", raw)
			if err != nil {
				return c, err
			}
			ids = append(ids, id)
		}
		c.ServiceIDs = &ids
	}
	if b.Texts != nil {
		c.Texts = map[string]knowledge.TextInput{}
		for locale, t := range b.Texts {
			c.Texts[locale] = knowledge.TextInput{Title: t.Title, Body: t.Body}
		}
	}
	return c, nil
}

func (s *Handlers) listArticles(c echo.Context) error {
	p, err := s.ReadPage(c, "articles")
	if err != nil {
		return err
	}
	f := knowledge.Filter{Status: c.QueryParam("status"), Query: c.QueryParam("q"), AfterID: p.AfterID, Limit: p.Limit + 1}
	if err := fault.Text("q", f.Query, 0, 200, false); err != nil {
		return err
	}
	if raw := c.QueryParam("service_id"); raw != "" {
		if f.ServiceID, err = httpx.ParseID("service_id", raw); err != nil {
			return err
		}
	}
	if raw := c.QueryParam("provider_unit_id"); raw != "" {
		if f.ProviderUnitID, err = httpx.ParseID("provider_unit_id", raw); err != nil {
			return err
		}
	}
	rows, err := knowledge.List(c.Request().Context(), s.DB, s.KnowledgeViewer(c), f)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "articles", p, rows, func(a *knowledge.Article) int64 { return a.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, toArticleJSON))
}

func (s *Handlers) searchArticles(c echo.Context) error {
	var serviceID int64
	if raw := c.QueryParam("service_id"); raw != "" {
		var err error
		if serviceID, err = httpx.ParseID("service_id", raw); err != nil {
			return err
		}
	}
	limit := 10
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 20 {
			return fault.Invalid("limit", "limit must be a whole number from 1 to %d", 20)
		}
		limit = n
	}
	hits, err := knowledge.Search(c.Request().Context(), s.DB, s.KnowledgeViewer(c), c.QueryParam("q"), serviceID, limit)
	if err != nil {
		return err
	}
	out := httpx.List[articleJSON]{Items: make([]articleJSON, 0, len(hits))}
	for i := range hits {
		j := toArticleJSON(&hits[i].Article)
		j.MatchedLocale = hits[i].Locale
		out.Items = append(out.Items, j)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Handlers) getArticle(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v := s.KnowledgeViewer(c)
	a, err := knowledge.Get(ctx, s.DB, v, id)
	if err != nil {
		return err
	}
	var serviceID int64
	if raw := c.QueryParam("service_id"); raw != "" {
		if serviceID, err = httpx.ParseID("service_id", raw); err != nil {
			return err
		}
	}
	source := c.QueryParam("from")
	if source == "" {
		source = knowledge.FromAPI
	}
	if err := knowledge.RecordView(ctx, s.DB, v, a, source, serviceID, time.Now().UTC()); err != nil {
		return err
	}
	return s.articleWithVotes(c, http.StatusOK, a)
}

func (s *Handlers) articleWithVotes(c echo.Context, status int, a *knowledge.Article) error {
	t, err := knowledge.Votes(c.Request().Context(), s.DB, a.ID)
	if err != nil {
		return err
	}
	j := toArticleJSON(a)
	j.Votes = &knowledgeTallyJSON{Helpful: t.Helpful, NotHelpful: t.NotHelpful}
	return c.JSON(status, j)
}

func (s *Handlers) createArticle(c echo.Context) error {
	var b articleBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.ProviderUnitID == nil {
		return fault.Invalid("provider_unit_id", "provider_unit_id is required")
	}
	unitID, err := httpx.ParseID("provider_unit_id", *b.ProviderUnitID)
	if err != nil {
		return err
	}
	content, err := b.content()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var a *knowledge.Article
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		a, err = knowledge.Create(ctx, tx, s.KnowledgeViewer(c), unitID, content, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toArticleJSON(a))
}

func (s *Handlers) reviseArticle(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	var b articleBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.Version == nil {
		return fault.Invalid("version", "%s is required", "version")
	}
	content, err := b.content()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var a *knowledge.Article
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		a, err = knowledge.Revise(ctx, tx, s.KnowledgeViewer(c), id, *b.Version, content, b.Note, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toArticleJSON(a))
}

func (s *Handlers) actOnArticle(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	var b articleActionBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.Version == nil {
		return fault.Invalid("version", "%s is required", "version")
	}
	ctx := c.Request().Context()
	var a *knowledge.Article
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		a, err = knowledge.Act(ctx, tx, s.KnowledgeViewer(c), id, *b.Version, b.Action, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toArticleJSON(a))
}

// deleteArticle archives the article: its history and votes stay.
func (s *Handlers) deleteArticle(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	version, err := strconv.ParseInt(c.QueryParam("version"), 10, 64)
	if err != nil {
		return fault.Invalid("version", "%s is required", "version")
	}
	ctx := c.Request().Context()
	err = s.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := knowledge.Act(ctx, tx, s.KnowledgeViewer(c), id, version, "archive", time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Handlers) listArticleRevisions(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	p, err := s.ReadPage(c, "article_revisions")
	if err != nil {
		return err
	}
	rows, err := knowledge.Revisions(c.Request().Context(), s.DB, s.KnowledgeViewer(c), id, p.AfterID, p.Limit+1)
	if err != nil {
		return err
	}
	rows, next := httpx.TrimPage(s.Kit, "article_revisions", p, rows, func(r *knowledge.Revision) int64 { return r.ID })
	return c.JSON(http.StatusOK, httpx.ListOf(rows, next, func(r *knowledge.Revision) revisionJSON {
		j := revisionJSON{ID: httpx.FormatID(r.ID), Version: r.Version, AuthorID: httpx.FormatID(r.AuthorID), At: r.At.UTC(), Note: r.Note}
		_ = json.Unmarshal([]byte(r.Content), &j.Content)
		return j
	}))
}

func (s *Handlers) voteOnArticle(c echo.Context) error {
	id, err := httpx.PathID(c, "id", "article")
	if err != nil {
		return err
	}
	var b voteBody
	if err := httpx.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.Helpful == nil {
		return fault.Invalid("helpful", "%s is required", "helpful")
	}
	ctx := c.Request().Context()
	var t knowledge.Tally
	err = s.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		t, err = knowledge.Vote(ctx, tx, s.KnowledgeViewer(c), id, *b.Helpful, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, knowledgeTallyJSON{Helpful: t.Helpful, NotHelpful: t.NotHelpful})
}

// serviceKnowledgeJSON is a service's row in the quality report's knowledge part.
type serviceKnowledgeJSON struct {
	Service       serviceRefJSON `json:"service"`
	Provider      unitRefJSON    `json:"provider_unit"`
	Articles      int64          `json:"articles"`
	Views         int64          `json:"views"`
	Helpful       int64          `json:"helpful"`
	NotHelpful    int64          `json:"not_helpful"`
	NeedsAnswered int64          `json:"needs_answered"`
}

func toKnowledgeJSON(rows []reports.ServiceKnowledge) []serviceKnowledgeJSON {
	out := make([]serviceKnowledgeJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, serviceKnowledgeJSON{Service: toServiceRefJSON(r.Service), Provider: toUnitRefJSON(r.Provider),
			Articles: r.Articles, Views: r.Views, Helpful: r.Helpful, NotHelpful: r.NotHelpful, NeedsAnswered: r.NeedsAnswered})
	}
	return out
}
