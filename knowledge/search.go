package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/tiski/tiski/fault"
)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Filter narrows a list of articles.
type Filter struct {
	ProviderUnitID int64
	ServiceID      int64
	Status         string // "" for every state but archived
	Query          string // words the text must hold (prefixes count)
	AfterID        int64
	Limit          int
}

// List returns the articles the viewer may read that match f, oldest
// first after f.AfterID, with their texts and services.
func List(ctx context.Context, idb bun.IDB, v Viewer, f Filter) ([]Article, error) {
	var rows []Article
	q := idb.NewSelect().Model(&rows).Where("a.id > ?", f.AfterID).OrderExpr("a.id ASC").Limit(int64(f.Limit))
	q = visibleTo(q, v)
	switch f.Status {
	case "":
		q = q.Where("a.status <> ?", Archived)
	case Draft, Published, Archived:
		q = q.Where("a.status = ?", f.Status)
	default:
		return nil, fault.Invalid("status", "%s must be one of: %s", "status", "draft, published, archived")
	}
	if f.ProviderUnitID != 0 {
		q = q.Where("a.provider_unit_id = ?", f.ProviderUnitID)
	}
	if f.ServiceID != 0 {
		q = q.Where("EXISTS (SELECT 1 FROM article_services s WHERE s.article_id = a.id AND s.service_id = ?)", f.ServiceID)
	}
	if f.Query != "" {
		terms := searchTerms(f.Query)
		if len(terms) == 0 {
			return nil, nil
		}
		match, arg := matchClause(idb, terms)
		q = q.Where("a.id IN (SELECT t.article_id FROM "+match+")", arg)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	return rows, loadParts(ctx, idb, pointers(rows))
}

func pointers(rows []Article) []*Article {
	out := make([]*Article, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}

// maxTerms bounds the words of one search; more narrow nothing useful.
const maxTerms = 8

// searchTerms splits a query into the words both indexes tokenise: runs
// of letters and digits, lower-cased. Everything else (operators, quotes)
// only separates words, so no query syntax reaches either engine.
func searchTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxTerms {
		words = words[:maxTerms]
	}
	return words
}

// matchClause is the FROM clause of the article texts (aliased t) that
// hold every term, each also as a prefix so a title half typed already
// finds, with its one argument. PostgreSQL asks the GIN index over the
// 'simple' tsvector, SQLite the FTS5 index.
func matchClause(idb bun.IDB, terms []string) (string, string) {
	if idb.Dialect().Name() == dialect.PG {
		return "article_texts t WHERE t.search @@ to_tsquery('simple', ?)", tsQuery(terms)
	}
	return "article_texts_fts f CROSS JOIN article_texts t ON t.id = f.rowid WHERE article_texts_fts MATCH ?", ftsQuery(terms)
}

// tsQuery is every term, all required, the last as a prefix (it may be
// half typed), in PostgreSQL's syntax. The terms are letters and digits
// only, so none is an operator.
func tsQuery(terms []string) string {
	parts := slices.Clone(terms)
	parts[len(parts)-1] += ":*"
	return strings.Join(parts, " & ")
}

// ftsQuery is every term quoted, all required, the last as a prefix, in
// FTS5's syntax.
func ftsQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + t + `"`
	}
	parts[len(parts)-1] += "*"
	return strings.Join(parts, " ")
}

// Hit is an article found by a search, with the text that matched.
type Hit struct {
	Article
	Locale string // the locale whose text matched best
}

// maxHits bounds one search: it suggests, it does not page.
const maxHits = 20

// searchCandidates is how many of the newest matching texts a search
// ranks: enough for a page of suggestions, few enough that a common word
// costs no more than a rare one (docs/benchmarks.md).
const searchCandidates = 100

// Search finds published articles the viewer may read whose text holds
// every word of query, best match first among the newest 100 matching
// texts, at most limit (up to 20). With
// serviceID only that service's articles count. Drafts and archived
// articles are never suggested; internal ones only to the provider side.
func Search(ctx context.Context, idb bun.IDB, v Viewer, query string, serviceID int64, limit int) ([]Hit, error) {
	if err := fault.Text("q", query, 0, 200, false); err != nil {
		return nil, err
	}
	terms := searchTerms(query)
	if len(terms) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > maxHits {
		limit = maxHits
	}
	type scored struct {
		ArticleID int64  `bun:"article_id"`
		Locale    string `bun:"locale"`
	}
	// The candidates are the newest matches the viewer may read, at most
	// searchCandidates of them, each with its score; the best of those are
	// the answer. Walking the matches newest first lets both engines stop
	// early on a common word instead of ranking every text that holds it.
	cand := idb.NewSelect()
	if idb.Dialect().Name() == dialect.PG {
		cand = cand.ColumnExpr("t.article_id, t.locale, ts_rank(t.search, to_tsquery('simple', ?)) AS score", tsQuery(terms)).
			TableExpr("article_texts t").Join("JOIN articles a ON a.id = t.article_id").
			Where("t.search @@ to_tsquery('simple', ?)", tsQuery(terms))
	} else {
		// CROSS JOIN keeps SQLite's planner from putting the index second:
		// the matches come first, then their rows. bm25 is lower for a
		// better match, so it is negated; the title weighs four times the body.
		cand = cand.ColumnExpr("t.article_id, t.locale, -bm25(article_texts_fts, 4.0, 1.0) AS score").
			TableExpr("article_texts_fts f").
			Join("CROSS JOIN article_texts t ON t.id = f.rowid").
			Join("CROSS JOIN articles a ON a.id = t.article_id").
			Where("article_texts_fts MATCH ?", ftsQuery(terms))
	}
	cand = visibleTo(cand.Where("a.status = ?", Published), v)
	if serviceID != 0 {
		cand = cand.Where("EXISTS (SELECT 1 FROM article_services s WHERE s.article_id = a.id AND s.service_id = ?)", serviceID)
	}
	if idb.Dialect().Name() == dialect.PG {
		cand = cand.OrderExpr("t.id DESC")
	} else {
		cand = cand.OrderExpr("f.rowid DESC") // the index's own order: no sort
	}
	cand = cand.Limit(searchCandidates)
	// An article matches once per locale; fetch enough rows for limit articles.
	var found []scored
	if err := idb.NewSelect().ColumnExpr("c.article_id, c.locale").TableExpr("(?) AS c", cand).
		OrderExpr("c.score DESC, c.article_id DESC").Limit(int64(limit*2)).Scan(ctx, &found); err != nil {
		return nil, fmt.Errorf("search articles: %w", err)
	}
	var ids []int64
	locale := map[int64]string{}
	for _, f := range found {
		if _, seen := locale[f.ArticleID]; seen || len(ids) == limit {
			continue
		}
		locale[f.ArticleID] = f.Locale
		ids = append(ids, f.ArticleID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []Article
	if err := idb.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("search articles: %w", err)
	}
	if err := loadParts(ctx, idb, pointers(rows)); err != nil {
		return nil, err
	}
	byID := map[int64]Article{}
	for _, a := range rows {
		byID[a.ID] = a
	}
	hits := make([]Hit, 0, len(ids))
	for _, id := range ids {
		hits = append(hits, Hit{Article: byID[id], Locale: locale[id]})
	}
	return hits, nil
}
