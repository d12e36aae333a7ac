package requests

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/uptrace/bun"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
)

// Comment is one message in a request's conversation. Internal comments are
// the provider side's notes to itself.
type Comment struct {
	bun.BaseModel `bun:"table:request_comments"`

	ID        int64     `bun:"id,pk,autoincrement"`
	RequestID int64     `bun:"request_id"`
	AuthorID  int64     `bun:"author_id"`
	Body      string    `bun:"body"`
	BodyHTML  string    `bun:"body_html"`
	Internal  bool      `bun:"internal"`
	CreatedAt time.Time `bun:"created_at"`
}

// markdown and sanitizer are built once and only read afterwards; both are
// safe for concurrent use. Raw HTML in a comment is never passed through:
// goldmark omits it and bluemonday keeps only user-content tags, with
// rel="nofollow noopener" on links.
var (
	markdown  = goldmark.New(goldmark.WithExtensions(extension.GFM))
	sanitizer = bluemonday.UGCPolicy().AddTargetBlankToFullyQualifiedLinks(true)
)

// RenderMarkdown turns a comment's Markdown into HTML that is safe to show.
func RenderMarkdown(body string) (string, error) {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(body), &b); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return sanitizer.Sanitize(b.String()), nil
}

// MayPost reports, as a fault, whether the viewer may add a comment or a
// file to r: the requester and anyone with request:comment in the consumer
// or provider unit may post publicly; only the provider side with
// request:comment_internal in the provider unit may post internally.
// Organisation readers such as auditors only read.
func (v Viewer) MayPost(r *Request, internal bool) error {
	if internal {
		if !v.SeesInternal(r) || !v.Authz.Can(v.UserID, r.ProviderUnitID, "request", "comment_internal") {
			return fault.Forbidden("only the providing unit's agents post internally")
		}
		return nil
	}
	if v.partiesOf(r)&asRequester == 0 &&
		!v.Authz.Can(v.UserID, r.ConsumerUnitID, "request", "comment") &&
		!v.Authz.Can(v.UserID, r.ProviderUnitID, "request", "comment") {
		return fault.Forbidden("you may read this request but not comment on it")
	}
	return nil
}

// AddComment posts a comment on a request the viewer may see. A public
// comment by the requester on a request waiting on them resumes it, and
// the provider side's first public comment is its first response.
func AddComment(ctx context.Context, tx bun.Tx, v Viewer, requestID int64, body string, internal bool, now time.Time) (*Comment, error) {
	r, err := Get(ctx, tx, v, requestID)
	if err != nil {
		return nil, err
	}
	if err := v.MayPost(r, internal); err != nil {
		return nil, err
	}
	if strings.TrimSpace(body) == "" {
		return nil, fault.Invalid("body", "body is required")
	}
	if err := fault.Text("body", body, 1, 20000, true); err != nil {
		return nil, err
	}
	html, err := RenderMarkdown(body)
	if err != nil {
		return nil, err
	}
	c := &Comment{RequestID: r.ID, AuthorID: v.UserID, Body: body, BodyHTML: html, Internal: internal, CreatedAt: now}
	if _, err := tx.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("comment on request %d: %w", r.ID, err)
	}
	if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: "comment",
		Note: fmt.Sprintf("comment %d", c.ID), Internal: internal}); err != nil {
		return nil, err
	}
	if internal {
		return c, nil
	}
	parties := v.partiesOf(r)
	if err := tellComment(ctx, tx, v, r, parties, body, now); err != nil {
		return nil, err
	}
	if parties&asRequester != 0 && r.Status == WaitingOnCustomer {
		if err := resumeOnReply(ctx, tx, v, r, now); err != nil {
			return nil, err
		}
	}
	if parties&asRequester == 0 && parties&(asWorker|asDispatcher) != 0 && r.FirstRespondedAt == nil {
		if err := recordFirstResponse(ctx, tx, r, now); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// resumeOnReply moves a request waiting on its requester back to work. If
// another change won the race the request is no longer waiting, and the
// comment stands on its own.
func resumeOnReply(ctx context.Context, tx bun.Tx, v Viewer, r *Request, now time.Time) error {
	res, err := tx.NewUpdate().Model((*Request)(nil)).
		Set("status = ?", InProgress).Set("version = version + 1").Set("updated_at = ?", now).
		Where("id = ? AND status = ?", r.ID, WaitingOnCustomer).Exec(ctx)
	if err != nil {
		return fmt.Errorf("resume request %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := resumeClocks(ctx, tx, r.ID, now); err != nil {
		return err
	}
	return recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: "resume",
		FromStatus: statusPtr(WaitingOnCustomer), ToStatus: statusPtr(InProgress), Note: "customer replied"})
}

// Comments returns up to limit comments after afterID, oldest first, on a
// request the viewer may see; internal ones only for the provider side.
func Comments(ctx context.Context, idb bun.IDB, v Viewer, requestID, afterID int64, limit int) ([]Comment, error) {
	r, err := Get(ctx, idb, v, requestID)
	if err != nil {
		return nil, err
	}
	var rows []Comment
	q := idb.NewSelect().Model(&rows).Where("request_id = ? AND id > ?", r.ID, afterID).OrderExpr("id ASC").Limit(int64(limit))
	if !v.SeesInternal(r) {
		q = q.Where("internal = ?", false)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("comments of request %d: %w", r.ID, err)
	}
	return rows, nil
}

// tellComment tells the other side of a public comment: the assignee hears
// the customer's answer, the requester hears the provider's comment.
// Internal comments never come here: they reach nobody on the consumer side.
func tellComment(ctx context.Context, tx bun.Tx, v Viewer, r *Request, parties party, body string, now time.Time) error {
	switch {
	case parties&asRequester != 0:
		return tell(ctx, tx, notify.CustomerAnswered, r, v.UserID, body, now)
	case parties&(asWorker|asDispatcher) != 0:
		return tell(ctx, tx, notify.ProviderCommented, r, v.UserID, body, now)
	}
	return nil
}
