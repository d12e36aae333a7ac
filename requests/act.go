package requests

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// Action is one lifecycle step asked for by a viewer.
type Action struct {
	Name       string
	Version    int64 // the version the caller last saw
	Note       string
	AssigneeID int64 // for assign; 0 unassigns
}

// Perform runs one lifecycle action in its own transaction: the operation
// behind the API's POST /requests/{id}/actions and the portal's action
// buttons. Resolving posts the charge in that transaction (see Act), so a
// request is resolved and charged, or neither. A refused approval or
// rejection (see fourEyes) stays in the audit trail after the rollback.
func Perform(ctx context.Context, d *db.DB, v Viewer, org units.Organisation, id int64, a Action, now time.Time) (*Request, error) {
	var r *Request
	err := audit.InTx(ctx, d, func(tx bun.Tx) (err error) {
		r, err = Act(ctx, tx, v, org, id, a, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Act applies a lifecycle action inside tx. It checks, in order, that the
// viewer may see the request (else not found), that the action exists, that
// the version is current (else a stale conflict), that the state allows it
// and that the viewer is on a side allowed to take it. The update is
// conditional on the version, so of many concurrent callers one wins.
// Resolving posts the request's charge in tx (org gives the time zone that
// picks the period): whoever resolves, a request is never resolved
// without its charge, and a charge that cannot post undoes the resolution.
func Act(ctx context.Context, tx bun.Tx, v Viewer, org units.Organisation, id int64, a Action, now time.Time) (*Request, error) {
	r, err := Get(ctx, tx, v, id)
	if err != nil {
		return nil, err
	}
	t, ok := transitionFor(a.Name)
	if !ok {
		return nil, fault.Invalid("action", "unknown action %q; one of %v", a.Name, Actions())
	}
	if err := fault.Text("note", a.Note, 0, 4000, true); err != nil {
		return nil, err
	}
	if a.Version != r.Version {
		return nil, stale(r)
	}
	if !slices.Contains(t.From, r.Status) {
		return nil, fault.Conflict("invalid_transition", "cannot %s a request that is %s", fault.Term{Group: "action", Name: a.Name}, fault.Term{Group: "status", Name: string(r.Status)}).
			With("status", string(r.Status))
	}
	parties := v.partiesOf(r)
	if t.NotByRequesterOrFiler {
		if err := v.fourEyes(r); err != nil {
			return nil, audit.Refuse(v.UserID, "request", strconv.FormatInt(id, 10), a.Name, r, err)
		}
	}
	if t.NotByProviderAgent && parties&asWorker != 0 {
		return nil, audit.Refuse(v.UserID, "request", strconv.FormatInt(id, 10), a.Name, r,
			fault.Forbidden("nobody approves the overrun of work their own unit does").With("reason", "agent"))
	}
	if parties&t.By == 0 {
		return nil, fault.Forbidden("you may not %s this request", a.Name)
	}
	if t.WithinReopenWindow && r.ResolvedAt != nil && now.Sub(*r.ResolvedAt) > ReopenWindow {
		return nil, fault.Conflict("reopen_window_passed", "a request can be reopened for %d days after resolution", int(ReopenWindow.Hours()/24))
	}

	before := r.Status
	q := tx.NewUpdate().Model((*Request)(nil)).
		Set("version = version + 1").Set("updated_at = ?", now).
		Where("id = ? AND version = ?", r.ID, r.Version)
	if t.To != "" {
		q = q.Set("status = ?", t.To)
	}
	note := a.Note
	switch a.Name {
	case "assign":
		if a.AssigneeID != 0 {
			if !v.Authz.Can(a.AssigneeID, r.ProviderUnitID, "request", "work") {
				return nil, fault.Invalid("assignee_id", "the assignee must be an agent of the providing unit")
			}
			q = q.Set("assignee_id = ?", a.AssigneeID)
			note = joinNote(fmt.Sprintf("assigned to user %d", a.AssigneeID), a.Note)
		} else {
			q = q.Set("assignee_id = NULL")
			note = joinNote("unassigned", a.Note)
		}
	case "approve":
		check, err := billing.CheckApproval(ctx, tx, r.ConsumerUnitID, r.EstimateMinor, billing.MonthOf(r.CreatedAt, org.Location), org.Location)
		if err != nil {
			return nil, err
		}
		if check.Over {
			note = joinNote(check.Note, a.Note)
		}
	case "approve_overrun":
		if err := billing.ApproveOverrun(ctx, tx, v.UserID, r.ID, *r.Overrun, now); err != nil {
			return nil, err
		}
		o := r.Overrun
		note = joinNote(fmt.Sprintf("overrun approved: the fulfilment may post %s against the estimate %s",
			money.Money{Minor: o.AmountMinor, Currency: o.Currency}, money.Money{Minor: o.EstimateMinor, Currency: o.Currency}), a.Note)
	case "resolve":
		if err := checkFulfilment(ctx, tx, org, r, now); err != nil {
			return nil, err
		}
		q = q.Set("resolved_at = ?", now)
	case "reopen":
		q = q.Set("resolved_at = NULL")
	case "close", "reject", "cancel":
		q = q.Set("closed_at = ?", now)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s request %d: %w", a.Name, r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, stale(r)
	}
	if err := moveClocks(ctx, tx, r, a.Name, now); err != nil {
		return nil, err
	}
	// The provider side's first move is its first response.
	if parties&t.By&(asWorker|asDispatcher) != 0 {
		if err := recordFirstResponse(ctx, tx, r, now); err != nil {
			return nil, err
		}
	}
	if a.Name == "resolve" {
		if err := recordResolution(ctx, tx, r, now); err != nil {
			return nil, err
		}
		if _, err := billing.ChargeFulfilment(ctx, tx, r.Fulfilment(now, v.UserID), org.Location); err != nil {
			return nil, fmt.Errorf("charge request %d: %w", r.ID, err)
		}
	}
	ev := Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: a.Name, FromStatus: statusPtr(before), Note: note}
	if t.To != "" {
		ev.ToStatus = statusPtr(t.To)
	}
	if err := recordEvent(ctx, tx, ev); err != nil {
		return nil, err
	}
	after, err := get(ctx, tx, r.ID)
	if err != nil {
		return nil, err
	}
	if kind, ok := actionKinds[a.Name]; ok && (a.Name != "assign" || a.AssigneeID != 0) {
		var extra map[string]string
		if a.Name == "resolve" { // the resolved notice carries a one-click rating link
			link, err := issueRatingLink(ctx, tx, after, now)
			if err != nil {
				return nil, err
			}
			extra = map[string]string{"rating_link": strconv.FormatInt(link, 10)}
		}
		if err := tellWith(ctx, tx, kind, after, v.UserID, a.Note, now, "", extra); err != nil {
			return nil, err
		}
	}
	if a.Name == "approve" { // now in the provider's queue
		if err := tell(ctx, tx, notify.QueueNew, after, v.UserID, "", now); err != nil {
			return nil, err
		}
	}
	return after, nil
}

// checkFulfilment holds a resolution that may not post yet: one that costs
// more than the estimate beyond the tolerance until a manager of the
// consumer unit approves the overrun (the refusal names the amount), and
// one that would take a hard budget below zero until finance raises it.
func checkFulfilment(ctx context.Context, tx bun.Tx, org units.Organisation, r *Request, now time.Time) error {
	o := r.Overrun
	if r.OverrunWaits() {
		return o.Refusal()
	}
	month := billing.MonthOf(now, org.Location)
	// An unfulfilled request filed this month is committed in the budget
	// at its estimate; posting turns that commitment into the charge.
	var released int64
	if o.ChargedMinor == 0 && billing.MonthOf(r.CreatedAt, org.Location) == month {
		released = r.EstimateMinor
	}
	return billing.CheckPosting(ctx, tx, r.ConsumerUnitID, o.ToPostMinor(), released, month, org.Location)
}

// moveClocks starts, pauses or resumes the SLA clocks as an action moves
// the request into, out of or back into the provider's hands.
func moveClocks(ctx context.Context, tx bun.Tx, r *Request, action string, now time.Time) error {
	switch action {
	case "approve":
		return startClocks(ctx, tx, r, now)
	case "wait":
		return pauseClocks(ctx, tx, r.ID, now)
	case "resume":
		return resumeClocks(ctx, tx, r.ID, now)
	}
	return nil
}

func stale(r *Request) error {
	return fault.Conflict("stale_version", "the request changed since you loaded it; reload and try again").
		With("current_version", r.Version)
}

func joinNote(what, note string) string {
	if note == "" {
		return what
	}
	return what + ": " + note
}

// CloseResolved closes every request resolved more than ReopenWindow before
// now, as the system, and returns how many it closed. Each request is its
// own conditional update, so a concurrent reopen or close simply wins.
func CloseResolved(ctx context.Context, tx bun.Tx, now time.Time) (int, error) {
	var due []Request
	if err := tx.NewSelect().Model(&due).Column("id", "version").
		Where("status = ? AND resolved_at < ?", Resolved, now.Add(-ReopenWindow)).
		OrderExpr("id").Limit(500).Scan(ctx); err != nil {
		return 0, fmt.Errorf("find resolved requests to close: %w", err)
	}
	closed := 0
	for _, r := range due {
		res, err := tx.NewUpdate().Model((*Request)(nil)).
			Set("status = ?", Closed).Set("closed_at = ?", now).Set("updated_at = ?", now).
			Set("version = version + 1").
			Where("id = ? AND version = ? AND status = ?", r.ID, r.Version, Resolved).Exec(ctx)
		if err != nil {
			return closed, fmt.Errorf("close request %d: %w", r.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, Action: "close",
			FromStatus: statusPtr(Resolved), ToStatus: statusPtr(Closed),
			Note: fmt.Sprintf("closed automatically %d days after resolution", int(ReopenWindow.Hours()/24))}); err != nil {
			return closed, err
		}
		closed++
	}
	return closed, nil
}
