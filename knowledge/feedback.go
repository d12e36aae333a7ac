package knowledge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// vote is one reader's word on one article.
type vote struct {
	bun.BaseModel `bun:"table:article_votes"`

	ArticleID int64     `bun:"article_id,pk"`
	UserID    int64     `bun:"user_id,pk"`
	Helpful   bool      `bun:"helpful"`
	At        time.Time `bun:"at"`
}

// view is one opening of an article.
type view struct {
	bun.BaseModel `bun:"table:article_views"`

	ID        int64     `bun:"id,pk,autoincrement"`
	ArticleID int64     `bun:"article_id"`
	UserID    int64     `bun:"user_id"`
	ServiceID *int64    `bun:"service_id"`
	Source    string    `bun:"source"`
	At        time.Time `bun:"at"`
}

// Tally counts the votes on one article.
type Tally struct {
	Helpful    int `bun:"helpful"`
	NotHelpful int `bun:"not_helpful"`
}

// Votes counts the votes on an article.
func Votes(ctx context.Context, idb bun.IDB, id int64) (Tally, error) {
	var t Tally
	err := idb.NewSelect().TableExpr("article_votes").
		ColumnExpr("COALESCE(SUM(CASE WHEN helpful THEN 1 ELSE 0 END), 0) AS helpful").
		ColumnExpr("COALESCE(SUM(CASE WHEN helpful THEN 0 ELSE 1 END), 0) AS not_helpful").
		Where("article_id = ?", id).Scan(ctx, &t)
	if err != nil {
		return t, fmt.Errorf("votes on article %d: %w", id, err)
	}
	return t, nil
}

// Vote records whether the viewer found a published article helpful. One
// vote per reader: a second replaces the first.
func Vote(ctx context.Context, tx bun.Tx, v Viewer, id int64, helpful bool, now time.Time) (Tally, error) {
	a, err := Get(ctx, tx, v, id)
	if err != nil {
		return Tally{}, err
	}
	if a.Status != Published {
		return Tally{}, fault.Conflict("not_published", "only a published article takes votes")
	}
	if _, err := tx.NewInsert().Model(&vote{ArticleID: id, UserID: v.UserID, Helpful: helpful, At: now}).
		On("CONFLICT (article_id, user_id) DO UPDATE").Set("helpful = EXCLUDED.helpful, at = EXCLUDED.at").Exec(ctx); err != nil {
		return Tally{}, fmt.Errorf("vote on article %d: %w", id, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: v.UserID, ObjectType: "article", ObjectID: fmt.Sprint(id),
		Action: "vote", After: map[string]bool{"helpful": helpful}}); err != nil {
		return Tally{}, err
	}
	return Votes(ctx, tx, id)
}

// Where an article was opened from. An opening from the order form names
// the service being ordered.
const (
	FromOrderForm = "order_form"
	FromCatalog   = "catalog"
	FromSearch    = "search"
	FromRequest   = "request"
	FromComment   = "comment"
	FromAPI       = "api"
	FromDirect    = "direct"
)

// Sources lists where an article may be opened from.
var Sources = []string{FromOrderForm, FromCatalog, FromSearch, FromRequest, FromComment, FromAPI, FromDirect}

// RecordView notes that the viewer opened a, from source, while looking
// at serviceID (0 for none; a service the article does not belong to is
// not kept). An unknown source counts as direct.
func RecordView(ctx context.Context, idb bun.IDB, v Viewer, a *Article, source string, serviceID int64, now time.Time) error {
	source = strings.TrimSpace(source)
	if !slices.Contains(Sources, source) {
		source = FromDirect
	}
	var service *int64
	if serviceID != 0 && slices.Contains(a.ServiceIDs, serviceID) {
		service = &serviceID
	}
	if _, err := idb.NewInsert().Model(&view{ArticleID: a.ID, UserID: v.UserID, ServiceID: service, Source: source, At: now}).Exec(ctx); err != nil {
		return fmt.Errorf("view of article %d: %w", a.ID, err)
	}
	return nil
}
