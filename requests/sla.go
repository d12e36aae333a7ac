package requests

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/calendar"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// AtRiskShare is the share of an SLA target after which a clock is at risk.
const AtRiskShare = 0.75

// Clocks are a request's SLA due times: for each of first response and
// resolution, when 75 % of the target is used (RiskFrom) and when it is due.
type Clocks struct {
	FirstResponseRiskFrom, FirstResponseDue time.Time
	ResolutionRiskFrom, ResolutionDue       time.Time
}

type pause struct {
	bun.BaseModel `bun:"table:request_pauses"`

	ID        int64      `bun:"id,pk,autoincrement"`
	RequestID int64      `bun:"request_id"`
	PausedAt  time.Time  `bun:"paused_at"`
	ResumedAt *time.Time `bun:"resumed_at"`
}

// scheduleFor compiles the provider unit's business calendar.
func scheduleFor(ctx context.Context, idb bun.IDB, providerUnitID int64) (*calendar.Schedule, error) {
	org, err := units.LoadOrganisation(ctx, idb)
	if err != nil {
		return nil, err
	}
	cal, _, err := units.CalendarOf(ctx, idb, providerUnitID, org.TimeZone)
	if err != nil {
		return nil, err
	}
	return cal.Compile()
}

// computeClocks counts the request's SLA targets in the provider's business
// hours from start, skipping the pauses.
func computeClocks(ctx context.Context, idb bun.IDB, r *Request, start time.Time, pauses []calendar.Interval) (Clocks, error) {
	s, err := scheduleFor(ctx, idb, r.ProviderUnitID)
	if err != nil {
		return Clocks{}, err
	}
	minutes := func(m int, share float64) time.Duration {
		return time.Duration(float64(m)*share) * time.Minute
	}
	return Clocks{
		FirstResponseRiskFrom: s.Due(start, minutes(r.SLAFirstResponseMinutes, AtRiskShare), pauses),
		FirstResponseDue:      s.Due(start, minutes(r.SLAFirstResponseMinutes, 1), pauses),
		ResolutionRiskFrom:    s.Due(start, minutes(r.SLAResolutionMinutes, AtRiskShare), pauses),
		ResolutionDue:         s.Due(start, minutes(r.SLAResolutionMinutes, 1), pauses),
	}, nil
}

// startClocks sets the due times of a request entering the provider's queue
// (at submission, or at approval when it needed one).
func startClocks(ctx context.Context, tx bun.Tx, r *Request, now time.Time) error {
	c, err := computeClocks(ctx, tx, r, now, nil)
	if err != nil {
		return err
	}
	return storeClocks(ctx, tx, r.ID, c)
}

func storeClocks(ctx context.Context, tx bun.Tx, id int64, c Clocks) error {
	_, err := tx.NewUpdate().Model((*Request)(nil)).
		Set("first_response_risk_from = ?", c.FirstResponseRiskFrom).Set("first_response_due_at = ?", c.FirstResponseDue).
		Set("resolution_risk_from = ?", c.ResolutionRiskFrom).Set("resolution_due_at = ?", c.ResolutionDue).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set SLA clocks of request %d: %w", id, err)
	}
	return nil
}

// pauseClocks stops the SLA clocks while the request waits on its customer.
func pauseClocks(ctx context.Context, tx bun.Tx, requestID int64, now time.Time) error {
	if _, err := tx.NewInsert().Model(&pause{RequestID: requestID, PausedAt: now}).Exec(ctx); err != nil {
		return fmt.Errorf("pause SLA clocks of request %d: %w", requestID, err)
	}
	return nil
}

// resumeClocks ends the open pause and moves the due times by the business
// time the request spent waiting.
func resumeClocks(ctx context.Context, tx bun.Tx, requestID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*pause)(nil)).Set("resumed_at = ?", now).
		Where("request_id = ? AND resumed_at IS NULL", requestID).Exec(ctx); err != nil {
		return fmt.Errorf("resume SLA clocks of request %d: %w", requestID, err)
	}
	r, err := get(ctx, tx, requestID)
	if err != nil {
		return err
	}
	start, pauses, err := clockStart(ctx, tx, r)
	if err != nil || start.IsZero() {
		return err
	}
	c, err := computeClocks(ctx, tx, r, start, pauses)
	if err != nil {
		return err
	}
	return storeClocks(ctx, tx, requestID, c)
}

// clockStart returns when the request's clocks started (when it entered
// the queue) and its pauses so far; zero if they never started.
func clockStart(ctx context.Context, idb bun.IDB, r *Request) (time.Time, []calendar.Interval, error) {
	var started []time.Time
	err := idb.NewSelect().Model((*Event)(nil)).Column("at").
		Where("request_id = ? AND to_status = ? AND action IN ('route', 'approve')", r.ID, Open).
		OrderExpr("id").Limit(1).Scan(ctx, &started)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("clock start of request %d: %w", r.ID, err)
	}
	if len(started) == 0 {
		return time.Time{}, nil, nil
	}
	var rows []pause
	if err := idb.NewSelect().Model(&rows).Where("request_id = ?", r.ID).OrderExpr("id").Scan(ctx); err != nil {
		return time.Time{}, nil, fmt.Errorf("pauses of request %d: %w", r.ID, err)
	}
	pauses := make([]calendar.Interval, len(rows))
	for i, p := range rows {
		pauses[i] = calendar.Interval{From: p.PausedAt}
		if p.ResumedAt != nil {
			pauses[i].To = *p.ResumedAt
		}
	}
	return started[0], pauses, nil
}

// slaMark is one kind of mark the scheduled check sets once per request.
type slaMark struct {
	column, when, action, clock string
	extra                       string // further condition on the request
}

var slaMarks = []slaMark{
	{"first_response_at_risk_at", "first_response_risk_from", "sla_at_risk", "first response", "first_responded_at IS NULL"},
	{"first_response_breached_at", "first_response_due_at", "sla_breached", "first response", "first_responded_at IS NULL"},
	{"resolution_at_risk_at", "resolution_risk_from", "sla_at_risk", "resolution", ""},
	{"resolution_breached_at", "resolution_due_at", "sla_breached", "resolution", ""},
}

// MarkSLA marks, once each, the requests whose first-response or resolution
// clock crossed 75 % of its target (at risk) or its due time (breached) by
// now, writing an event for each mark. Paused clocks are not marked. It is
// safe to run concurrently: each mark is a conditional update.
func MarkSLA(ctx context.Context, tx bun.Tx, now time.Time) (int, error) {
	marked := 0
	for _, m := range slaMarks {
		var ids []int64
		q := tx.NewSelect().Model((*Request)(nil)).Column("id").
			Where("status IN (?)", bun.In([]Status{Open, InProgress})).
			Where("? IS NULL AND ? IS NOT NULL AND ? <= ?", bun.Ident(m.column), bun.Ident(m.when), bun.Ident(m.when), now).
			OrderExpr("id").Limit(1000)
		if m.extra != "" {
			q = q.Where(m.extra)
		}
		if err := q.Scan(ctx, &ids); err != nil {
			return marked, fmt.Errorf("find requests to mark %s: %w", m.column, err)
		}
		for _, id := range ids {
			res, err := tx.NewUpdate().Model((*Request)(nil)).Set("? = ?", bun.Ident(m.column), now).
				Where("id = ? AND ? IS NULL", id, bun.Ident(m.column)).Exec(ctx)
			if err != nil {
				return marked, fmt.Errorf("mark request %d %s: %w", id, m.column, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if err := recordEvent(ctx, tx, Event{RequestID: id, At: now, Action: m.action, Note: m.clock}); err != nil {
				return marked, err
			}
			if err := tellSLA(ctx, tx, m, id, now); err != nil {
				return marked, err
			}
			marked++
		}
	}
	return marked, nil
}

// tellSLA tells the assignee (else the provider unit's managers) of one
// SLA mark, once per request and mark.
func tellSLA(ctx context.Context, tx bun.Tx, m slaMark, id int64, now time.Time) error {
	r, err := get(ctx, tx, id)
	if err != nil {
		return err
	}
	kind := notify.SLAAtRisk
	if m.action == "sla_breached" {
		kind = notify.SLABreached
	}
	return tellWith(ctx, tx, kind, r, 0, "", now, fmt.Sprintf("%s:%d", m.column, id), map[string]string{"clock": m.clock})
}

// usedMinutes is the business time the request's clock has run by now.
func usedMinutes(ctx context.Context, idb bun.IDB, r *Request, now time.Time) (*int, error) {
	start, pauses, err := clockStart(ctx, idb, r)
	if err != nil || start.IsZero() {
		return nil, err
	}
	s, err := scheduleFor(ctx, idb, r.ProviderUnitID)
	if err != nil {
		return nil, err
	}
	m := int(s.Elapsed(start, now, pauses) / time.Minute)
	return &m, nil
}

// recordFirstResponse notes the provider side's first response, once, with
// the business minutes it took.
func recordFirstResponse(ctx context.Context, tx bun.Tx, r *Request, now time.Time) error {
	if r.FirstRespondedAt != nil {
		return nil
	}
	used, err := usedMinutes(ctx, tx, r, now)
	if err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model((*Request)(nil)).Set("first_responded_at = ?", now).
		Set("first_response_business_minutes = ?", used).
		Where("id = ? AND first_responded_at IS NULL", r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("record first response on request %d: %w", r.ID, err)
	}
	return nil
}

// recordResolution notes the business minutes the request took to resolve.
func recordResolution(ctx context.Context, tx bun.Tx, r *Request, now time.Time) error {
	used, err := usedMinutes(ctx, tx, r, now)
	if err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model((*Request)(nil)).Set("resolution_business_minutes = ?", used).
		Where("id = ?", r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("record resolution time of request %d: %w", r.ID, err)
	}
	return nil
}
