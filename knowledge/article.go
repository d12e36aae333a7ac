// Package knowledge holds the articles provider units write about their
// services: per-locale text in Markdown, the services an article belongs
// to, draft and published states, who may read it, its revision history,
// readers' votes and where it was opened from. Its rules say who writes
// (the provider unit's agents and managers), who reads (everyone, or the
// provider side only for internal articles and drafts), and that a stale
// revision is refused.
package knowledge

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/i18n"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
)

// States and audiences.
const (
	Draft     = "draft"
	Published = "published"
	Archived  = "archived"

	Everyone = "everyone" // anyone signed in
	Provider = "provider" // the provider unit's own side: internal know-how
)

// Audiences lists who an article may be written for.
var Audiences = []string{Everyone, Provider}

// Limits on what one article holds.
const (
	maxTitle    = 200
	maxBody     = 50000
	maxServices = 50
)

// Article is one knowledge article with its current texts and services.
type Article struct {
	bun.BaseModel `bun:"table:articles,alias:a"`

	ID             int64      `bun:"id,pk,autoincrement"`
	ProviderUnitID int64      `bun:"provider_unit_id"`
	Status         string     `bun:"status"`
	Audience       string     `bun:"audience"`
	Version        int64      `bun:"version"`
	CreatedBy      int64      `bun:"created_by"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
	PublishedAt    *time.Time `bun:"published_at"`

	Texts      []Text  `bun:"-"`
	ServiceIDs []int64 `bun:"-"`
}

// Text is an article's title and body in one locale.
type Text struct {
	bun.BaseModel `bun:"table:article_texts"`

	ID        int64  `bun:"id,pk,autoincrement" json:"-"`
	ArticleID int64  `bun:"article_id" json:"-"`
	Locale    string `bun:"locale" json:"locale"`
	Title     string `bun:"title" json:"title"`
	Body      string `bun:"body" json:"body"`
	BodyHTML  string `bun:"body_html" json:"-"`
}

// In returns the article's text in the locale, else in English, else the
// first it has.
func (a *Article) In(locale string) Text {
	for _, want := range []string{locale, i18n.Fallback} {
		for _, t := range a.Texts {
			if t.Locale == want {
				return t
			}
		}
	}
	if len(a.Texts) > 0 {
		return a.Texts[0]
	}
	return Text{}
}

// Viewer is the person reading or writing articles.
type Viewer struct {
	UserID int64
	Authz  *policies.Authorizer
}

// Writes reports whether the viewer writes the articles of a provider unit
// (its agents and managers, managers above it included), and so reads its
// drafts and internal articles too.
func (v Viewer) Writes(unitID int64) bool {
	return v.Authz.Can(v.UserID, unitID, "knowledge", "write")
}

// Reads reports whether the viewer may read a.
func (v Viewer) Reads(a *Article) bool {
	if a.Status == Published && a.Audience == Everyone {
		return true
	}
	return v.Writes(a.ProviderUnitID)
}

// visibleTo narrows a query over articles (aliased a) to the ones the
// viewer may read: published for everyone, and anything of the units they
// write for.
func visibleTo(q *bun.SelectQuery, v Viewer) *bun.SelectQuery {
	units, orgWide := v.Authz.UnitsWhere(v.UserID, "knowledge", "write")
	if orgWide {
		return q
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("a.status = ? AND a.audience = ?", Published, Everyone)
		if len(units) > 0 {
			q = q.WhereOr("a.provider_unit_id IN (?)", bun.In(units))
		}
		return q
	})
}

// Get returns the article with its texts and services, or not found when
// it is absent or the viewer may not read it.
func Get(ctx context.Context, idb bun.IDB, v Viewer, id int64) (*Article, error) {
	a := new(Article)
	if err := idb.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, fault.NotFound("article")
		}
		return nil, fmt.Errorf("article %d: %w", id, err)
	}
	if !v.Reads(a) {
		return nil, fault.NotFound("article")
	}
	if err := loadParts(ctx, idb, []*Article{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// loadParts fills the texts and services of the articles.
func loadParts(ctx context.Context, idb bun.IDB, articles []*Article) error {
	if len(articles) == 0 {
		return nil
	}
	byID := make(map[int64]*Article, len(articles))
	ids := make([]int64, 0, len(articles))
	for _, a := range articles {
		byID[a.ID] = a
		a.Texts, a.ServiceIDs = nil, nil
		ids = append(ids, a.ID)
	}
	var texts []Text
	if err := idb.NewSelect().Model(&texts).Where("article_id IN (?)", bun.In(ids)).OrderExpr("article_id, locale").Scan(ctx); err != nil {
		return fmt.Errorf("article texts: %w", err)
	}
	for _, t := range texts {
		byID[t.ArticleID].Texts = append(byID[t.ArticleID].Texts, t)
	}
	var links []struct {
		ArticleID int64 `bun:"article_id"`
		ServiceID int64 `bun:"service_id"`
	}
	if err := idb.NewSelect().TableExpr("article_services").Column("article_id", "service_id").
		Where("article_id IN (?)", bun.In(ids)).OrderExpr("article_id, service_id").Scan(ctx, &links); err != nil {
		return fmt.Errorf("article services: %w", err)
	}
	for _, l := range links {
		byID[l.ArticleID].ServiceIDs = append(byID[l.ArticleID].ServiceIDs, l.ServiceID)
	}
	return nil
}

// articleService links an article to a service it belongs to.
type articleService struct {
	bun.BaseModel `bun:"table:article_services"`

	ArticleID int64 `bun:"article_id,pk"`
	ServiceID int64 `bun:"service_id,pk"`
}

// Content is what a writer sets on an article. On a revision nil fields
// stay as they are, and Texts replaces the locales it names.
type Content struct {
	Audience   *string
	ServiceIDs *[]int64
	Texts      map[string]TextInput
}

// TextInput is a title and a Markdown body in one locale.
type TextInput struct {
	Title string
	Body  string
}

// unsafeMarkup is raw HTML that would run code: script-like elements,
// event handler attributes and javascript: URLs. The sanitiser would strip
// them from the page, but an article carrying them is refused outright, so
// the writer learns that it will not show as written.
var unsafeMarkup = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|object|embed|style|form|svg|math)\b|<[^>]*\son[a-z]+\s*=|(?:java|vb)script\s*:|data\s*:\s*text/html`)

func checkText(locale string, t TextInput) error {
	if !slices.Contains(i18n.Available(), locale) {
		return fault.Invalid("texts", "there is no language %q; use one of: %s", locale, strings.Join(i18n.Available(), ", "))
	}
	if err := fault.Text("title", strings.TrimSpace(t.Title), 1, maxTitle, false); err != nil {
		return err.With("locale", locale)
	}
	if err := fault.Text("body", strings.TrimSpace(t.Body), 1, maxBody, true); err != nil {
		return err.With("locale", locale)
	}
	if unsafeMarkup.MatchString(t.Title) || unsafeMarkup.MatchString(t.Body) {
		return fault.Invalid("body", "an article may not contain scripts, event handlers or javascript: links").With("locale", locale)
	}
	return nil
}

// checkServices refuses services that do not exist or that another unit
// provides: an article covers its own unit's services only.
func checkServices(ctx context.Context, idb bun.IDB, unitID int64, ids []int64) ([]int64, error) {
	if len(ids) > maxServices {
		return nil, fault.Invalid("service_ids", "an article belongs to at most %d services", maxServices)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		svc, err := catalog.GetService(ctx, idb, id)
		if fault.Is(err, fault.KindNotFound) {
			return nil, fault.Invalid("service_ids", "service %d does not exist", id)
		}
		if err != nil {
			return nil, err
		}
		if svc.ProviderUnitID != unitID {
			return nil, fault.Invalid("service_ids", "service %s belongs to another unit; an article covers its own unit's services", svc.Code)
		}
	}
	return ids, nil
}

// snapshot is an article as one revision records it.
type snapshot struct {
	Status     string  `json:"status"`
	Audience   string  `json:"audience"`
	ServiceIDs []int64 `json:"service_ids"`
	Texts      []Text  `json:"texts"`
}

func (a *Article) snapshot() snapshot {
	ids := a.ServiceIDs
	if ids == nil {
		ids = []int64{}
	}
	return snapshot{Status: a.Status, Audience: a.Audience, ServiceIDs: ids, Texts: a.Texts}
}

// Create writes a new draft article for a provider unit the viewer writes for.
func Create(ctx context.Context, tx bun.Tx, v Viewer, unitID int64, c Content, now time.Time) (*Article, error) {
	if !v.Writes(unitID) {
		return nil, fault.Forbidden("only the providing unit's agents and managers write its articles")
	}
	if len(c.Texts) == 0 {
		return nil, fault.Invalid("texts", "an article needs a title and a body in at least one language")
	}
	a := &Article{ProviderUnitID: unitID, Status: Draft, Audience: Everyone, Version: 1, CreatedBy: v.UserID, CreatedAt: now, UpdatedAt: now}
	if c.ServiceIDs == nil {
		c.ServiceIDs = &[]int64{}
	}
	if err := apply(ctx, tx, a, c); err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(a).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("create article: %w", err)
	}
	if err := storeParts(ctx, tx, a, c); err != nil {
		return nil, err
	}
	return a, record(ctx, tx, v, a, "create", nil, "")
}

// apply checks c and sets it on a (texts are stored by storeParts).
func apply(ctx context.Context, idb bun.IDB, a *Article, c Content) error {
	if c.Audience != nil {
		if !slices.Contains(Audiences, *c.Audience) {
			return fault.Invalid("audience", "%s must be one of: %s", "audience", strings.Join(Audiences, ", "))
		}
		a.Audience = *c.Audience
	}
	for locale, t := range c.Texts {
		if err := checkText(locale, t); err != nil {
			return err
		}
	}
	if c.ServiceIDs != nil {
		ids, err := checkServices(ctx, idb, a.ProviderUnitID, *c.ServiceIDs)
		if err != nil {
			return err
		}
		*c.ServiceIDs = ids
		a.ServiceIDs = ids
	}
	return nil
}

// storeParts writes the texts and services c names and reloads them on a.
func storeParts(ctx context.Context, tx bun.Tx, a *Article, c Content) error {
	locales := make([]string, 0, len(c.Texts))
	for locale := range c.Texts {
		locales = append(locales, locale)
	}
	slices.Sort(locales)
	for _, locale := range locales {
		in := c.Texts[locale]
		html, err := requests.RenderMarkdown(strings.TrimSpace(in.Body))
		if err != nil {
			return err
		}
		t := &Text{ArticleID: a.ID, Locale: locale, Title: strings.TrimSpace(in.Title), Body: strings.TrimSpace(in.Body), BodyHTML: html}
		if _, err := tx.NewDelete().Model((*Text)(nil)).Where("article_id = ? AND locale = ?", a.ID, locale).Exec(ctx); err != nil {
			return fmt.Errorf("replace article %d text %s: %w", a.ID, locale, err)
		}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return fmt.Errorf("article %d text %s: %w", a.ID, locale, err)
		}
	}
	if c.ServiceIDs != nil {
		if _, err := tx.NewDelete().Model((*articleService)(nil)).Where("article_id = ?", a.ID).Exec(ctx); err != nil {
			return fmt.Errorf("article %d services: %w", a.ID, err)
		}
		for _, sid := range *c.ServiceIDs {
			if _, err := tx.NewInsert().Model(&articleService{ArticleID: a.ID, ServiceID: sid}).Exec(ctx); err != nil {
				return fmt.Errorf("article %d service %d: %w", a.ID, sid, err)
			}
		}
	}
	return loadParts(ctx, tx, []*Article{a})
}

// record appends the article's revision and its audit event.
func record(ctx context.Context, tx bun.Tx, v Viewer, a *Article, action string, before *snapshot, note string) error {
	after := a.snapshot()
	content, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("encode article %d: %w", a.ID, err)
	}
	if note == "" {
		note = action
	}
	rev := &Revision{ArticleID: a.ID, Version: a.Version, AuthorID: v.UserID, At: a.UpdatedAt, Note: note, Content: string(content)}
	if _, err := tx.NewInsert().Model(rev).Exec(ctx); err != nil {
		return fmt.Errorf("revision %d of article %d: %w", a.Version, a.ID, err)
	}
	var b any
	if before != nil {
		b = before
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: v.UserID, ObjectType: "article", ObjectID: fmt.Sprint(a.ID),
		Action: action, Before: b, After: after})
}

// forWriting loads an article the viewer writes for, checking the version
// they read it at. Someone who may not read it gets not found; a reader
// who does not write for its unit gets forbidden.
func forWriting(ctx context.Context, tx bun.Tx, v Viewer, id, version int64) (*Article, error) {
	a, err := Get(ctx, tx, v, id)
	if err != nil {
		return nil, err
	}
	if !v.Writes(a.ProviderUnitID) {
		return nil, fault.Forbidden("only the providing unit's agents and managers write its articles")
	}
	if version != a.Version {
		return nil, fault.Conflict("stale_version", "the article changed since you loaded it; reload and try again").
			With("current_version", a.Version)
	}
	return a, nil
}

// bump moves the article to its next version, refusing when another
// writer moved it first.
func bump(ctx context.Context, tx bun.Tx, a *Article, now time.Time) error {
	res, err := tx.NewUpdate().Model(a).Column("status", "audience", "published_at").
		Set("version = version + 1").Set("updated_at = ?", now).
		Where("id = ? AND version = ?", a.ID, a.Version).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update article %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Conflict("stale_version", "the article changed since you loaded it; reload and try again")
	}
	a.Version++
	a.UpdatedAt = now
	return nil
}

// Revise changes an article's content as of version; a stale version is
// refused and nothing is written.
func Revise(ctx context.Context, tx bun.Tx, v Viewer, id, version int64, c Content, note string, now time.Time) (*Article, error) {
	if err := fault.Text("note", note, 0, 500, false); err != nil {
		return nil, err
	}
	a, err := forWriting(ctx, tx, v, id, version)
	if err != nil {
		return nil, err
	}
	if a.Status == Archived {
		return nil, fault.Conflict("article_archived", "an archived article is not revised")
	}
	before := a.snapshot()
	if err := apply(ctx, tx, a, c); err != nil {
		return nil, err
	}
	if err := bump(ctx, tx, a, now); err != nil {
		return nil, err
	}
	if err := storeParts(ctx, tx, a, c); err != nil {
		return nil, err
	}
	return a, record(ctx, tx, v, a, "revise", &before, note)
}

// Actions a writer takes on an article, and the states each moves from.
var transitions = map[string]struct {
	from []string
	to   string
}{
	"publish":   {[]string{Draft}, Published},
	"unpublish": {[]string{Published}, Draft},
	"archive":   {[]string{Draft, Published}, Archived},
}

// Actions lists the actions Act takes.
var Actions = []string{"publish", "unpublish", "archive"}

// Act publishes, unpublishes or archives an article as of version.
func Act(ctx context.Context, tx bun.Tx, v Viewer, id, version int64, action string, now time.Time) (*Article, error) {
	tr, ok := transitions[action]
	if !ok {
		return nil, fault.Invalid("action", "%s must be one of: %s", "action", strings.Join(Actions, ", "))
	}
	a, err := forWriting(ctx, tx, v, id, version)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(tr.from, a.Status) {
		return nil, fault.Conflict("invalid_transition", "cannot %s an article that is %s",
			fault.Term{Group: "knowledge.action", Name: action}, fault.Term{Group: "knowledge.status", Name: a.Status})
	}
	before := a.snapshot()
	a.Status = tr.to
	if tr.to == Published {
		a.PublishedAt = &now
	}
	if err := bump(ctx, tx, a, now); err != nil {
		return nil, err
	}
	return a, record(ctx, tx, v, a, action, &before, "")
}

// Revision is one recorded version of an article.
type Revision struct {
	bun.BaseModel `bun:"table:article_revisions"`

	ID        int64     `bun:"id,pk,autoincrement"`
	ArticleID int64     `bun:"article_id"`
	Version   int64     `bun:"version"`
	AuthorID  int64     `bun:"author_id"`
	At        time.Time `bun:"at"`
	Note      string    `bun:"note"`
	Content   string    `bun:"content"`
}

// Revisions lists up to limit revisions after afterID, oldest first, of an
// article the viewer writes for: the history is the provider side's.
func Revisions(ctx context.Context, idb bun.IDB, v Viewer, id, afterID int64, limit int) ([]Revision, error) {
	a, err := Get(ctx, idb, v, id)
	if err != nil {
		return nil, err
	}
	if !v.Writes(a.ProviderUnitID) {
		return nil, fault.Forbidden("only the providing unit's agents and managers see an article's history")
	}
	var rows []Revision
	if err := idb.NewSelect().Model(&rows).Where("article_id = ? AND id > ?", id, afterID).
		OrderExpr("id ASC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("revisions of article %d: %w", id, err)
	}
	return rows, nil
}
