package requests

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// TimeEntry is time an agent spent on a request on one day; billable time
// is what an hourly service charges for.
type TimeEntry struct {
	bun.BaseModel `bun:"table:time_entries"`

	ID        int64     `bun:"id,pk,autoincrement"`
	RequestID int64     `bun:"request_id"`
	AgentID   int64     `bun:"agent_id"`
	Minutes   int       `bun:"minutes"`
	WorkDate  string    `bun:"work_date"` // YYYY-MM-DD in the organisation's time zone
	Billable  bool      `bun:"billable"`
	Note      string    `bun:"note"`
	CreatedAt time.Time `bun:"created_at"`
}

// TimeLog is the time an agent reports.
type TimeLog struct {
	Minutes  int
	Date     string
	Billable bool
	Note     string
}

// finalStatuses are where a request takes no more work.
var finalStatuses = []Status{Closed, Rejected, Cancelled}

// TakesWork tells whether a request in this status still takes work (time).
func (s Status) TakesWork() bool { return !slices.Contains(finalStatuses, s) }

// LogTime records time on a request by an agent of its providing unit
// (request:log_time there), for a day that is not in the future, while the
// request is not in a final state. Billable time is refused on a resolved
// request: its charge is posted, and a resolved request may close without
// another resolution, so the time would never be charged. The agent logs it
// as non-billable, or the requester reopens and the next resolution charges
// it (see billing.ChargeFulfilment). Before a resolution every billable
// minute is charged by it, or the order was cancelled or rejected and is
// not charged at all.
func LogTime(ctx context.Context, tx bun.Tx, v Viewer, org units.Organisation, requestID int64, l TimeLog, now time.Time) (*TimeEntry, error) {
	r, err := Get(ctx, tx, v, requestID)
	if err != nil {
		return nil, err
	}
	if !v.Authz.Can(v.UserID, r.ProviderUnitID, "request", "log_time") {
		return nil, fault.Forbidden("only the providing unit's agents log time")
	}
	if l.Minutes < 1 || l.Minutes > 24*60 {
		return nil, fault.Invalid("minutes", "minutes must be from 1 to 1440")
	}
	day, err := time.Parse(catalog.DateLayout, l.Date)
	if err != nil || day.Format(catalog.DateLayout) != l.Date {
		return nil, fault.Invalid("date", "date must be a day such as 2026-11-23")
	}
	if today := catalog.Today(now, org.Location); l.Date > today {
		return nil, fault.Invalid("date", "date %s is in the future; today is %s", l.Date, today)
	}
	if filed := catalog.Today(r.CreatedAt, org.Location); l.Date < filed {
		return nil, fault.Invalid("date", "date %s is before the request was filed on %s", l.Date, filed)
	}
	if err := fault.Text("note", l.Note, 0, 2000, true); err != nil {
		return nil, err
	}
	if !r.Status.TakesWork() {
		return nil, fault.Conflict("request_final", "no time can be logged on a request that is %s", fault.Term{Group: "status", Name: string(r.Status)}).
			With("status", string(r.Status))
	}
	if l.Billable && r.Status == Resolved {
		return nil, fault.Conflict("request_resolved", "billable time cannot be logged on a resolved request; log it as non-billable, or reopen the request first").
			With("status", string(r.Status))
	}
	if err := holdStatus(ctx, tx, r); err != nil {
		return nil, err
	}
	e := &TimeEntry{RequestID: r.ID, AgentID: v.UserID, Minutes: l.Minutes, WorkDate: l.Date, Billable: l.Billable,
		Note: l.Note, CreatedAt: now}
	if _, err := tx.NewInsert().Model(e).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("log time on request %d: %w", r.ID, err)
	}
	kind := "billable"
	if !l.Billable {
		kind = "non-billable"
	}
	if err := recordEvent(ctx, tx, Event{RequestID: r.ID, At: now, ActorID: actorPtr(v.UserID), Action: "log_time",
		Note: fmt.Sprintf("%d %s minutes on %s", l.Minutes, kind, l.Date), Internal: true}); err != nil {
		return nil, err
	}
	if err := tellOverrun(ctx, tx, r, v.UserID, now); err != nil {
		return nil, err
	}
	return e, nil
}

// holdStatus locks the request's row for the rest of tx on the condition
// that its status is still the one read. A resolution takes the same row, so
// time and a concurrent resolution are ordered: the time is logged first
// and the resolution charges it, or the resolution commits first and the
// time is checked against the resolved request.
func holdStatus(ctx context.Context, tx bun.Tx, r *Request) error {
	res, err := tx.NewUpdate().Model((*Request)(nil)).Set("status = status").
		Where("id = ? AND status = ?", r.ID, r.Status).Exec(ctx)
	if err != nil {
		return fmt.Errorf("hold request %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return stale(r)
	}
	return nil
}

// SeesTime reports whether the viewer sees a request's time entries: the
// provider side, the ordering unit's managers and organisation readers do;
// a requester who is none of those does not, as time is the provider's
// working record.
func (v Viewer) SeesTime(r *Request) bool {
	return v.partiesOf(r)&^asRequester != 0
}

// TimeEntries returns up to limit time entries after afterID, oldest first,
// of a request the viewer may see.
func TimeEntries(ctx context.Context, idb bun.IDB, v Viewer, requestID, afterID int64, limit int) ([]TimeEntry, error) {
	r, err := Get(ctx, idb, v, requestID)
	if err != nil {
		return nil, err
	}
	if !v.SeesTime(r) {
		return nil, fault.Forbidden("time entries are for the providing unit and the ordering unit's managers")
	}
	var rows []TimeEntry
	if err := idb.NewSelect().Model(&rows).Where("request_id = ? AND id > ?", r.ID, afterID).
		OrderExpr("id ASC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("time entries of request %d: %w", r.ID, err)
	}
	return rows, nil
}
