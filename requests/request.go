// Package requests holds the request aggregate: what was ordered, at which
// quoted price, by whom for which unit, where it stands in its lifecycle, and
// the conversation, files, time and feedback around it.
package requests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/fault"
)

// Status is where a request stands in its lifecycle.
type Status string

const (
	Submitted         Status = "submitted"
	PendingApproval   Status = "pending_approval"
	Open              Status = "open"
	InProgress        Status = "in_progress"
	WaitingOnCustomer Status = "waiting_on_customer"
	Resolved          Status = "resolved"
	Closed            Status = "closed"
	Rejected          Status = "rejected"
	Cancelled         Status = "cancelled"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{Submitted, PendingApproval, Open, InProgress, WaitingOnCustomer, Resolved, Closed, Rejected, Cancelled}

// Channels a request can arrive through.
var Channels = []string{"portal", "email", "phone", "chat", "walk_in", "api"}

// Request is one order of one service by one unit.
type Request struct {
	bun.BaseModel `bun:"table:requests,alias:r"`

	ID                      int64      `bun:"id,pk,autoincrement"`
	ServiceID               int64      `bun:"service_id"`
	ConsumerUnitID          int64      `bun:"consumer_unit_id"`
	ProviderUnitID          int64      `bun:"provider_unit_id"`
	RequesterID             int64      `bun:"requester_id"`
	CreatedBy               int64      `bun:"created_by"`
	AssigneeID              *int64     `bun:"assignee_id"`
	Title                   string     `bun:"title"`
	Description             string     `bun:"description"`
	Quantity                string     `bun:"quantity"`
	FieldsJSON              string     `bun:"fields_json"`
	Channel                 string     `bun:"channel"`
	Status                  Status     `bun:"status"`
	Version                 int64      `bun:"version"`
	RateID                  int64      `bun:"rate_id"`
	PricingModel            string     `bun:"pricing_model"`
	UnitPriceMinor          int64      `bun:"unit_price_minor"`
	EstimateMinor           int64      `bun:"estimate_minor"`
	Currency                string     `bun:"currency"`
	NeedsApproval           bool       `bun:"needs_approval"`
	SLAFirstResponseMinutes int        `bun:"sla_first_response_minutes"`
	SLAResolutionMinutes    int        `bun:"sla_resolution_minutes"`
	FirstResponseDueAt      *time.Time `bun:"first_response_due_at"`
	ResolutionDueAt         *time.Time `bun:"resolution_due_at"`
	FirstRespondedAt        *time.Time `bun:"first_responded_at"`
	FirstResponseRiskFrom   *time.Time `bun:"first_response_risk_from"`
	ResolutionRiskFrom      *time.Time `bun:"resolution_risk_from"`
	FirstResponseAtRiskAt   *time.Time `bun:"first_response_at_risk_at"`
	FirstResponseBreachedAt *time.Time `bun:"first_response_breached_at"`
	ResolutionAtRiskAt      *time.Time `bun:"resolution_at_risk_at"`
	ResolutionBreachedAt    *time.Time `bun:"resolution_breached_at"`
	FirstResponseMinutes    *int       `bun:"first_response_business_minutes"`
	ResolutionMinutes       *int       `bun:"resolution_business_minutes"`
	ResolvedAt              *time.Time `bun:"resolved_at"`
	ClosedAt                *time.Time `bun:"closed_at"`
	SearchText              string     `bun:"search_text"`
	CreatedAt               time.Time  `bun:"created_at"`
	UpdatedAt               time.Time  `bun:"updated_at"`
	// Overrun is what the fulfilment of a request in progress costs against
	// its estimate, and whether an overrun approval waits (loaded by Get).
	Overrun *billing.Overrun `bun:"-"`
}

// OverrunWaits reports whether resolving waits for an overrun approval.
func (r Request) OverrunWaits() bool {
	return r.Overrun != nil && r.Overrun.Status() == billing.OverrunPending
}

// AtRisk reports whether a running SLA clock has used 75 % of its target.
func (r Request) AtRisk() bool {
	return r.ResolutionAtRiskAt != nil || (r.FirstResponseAtRiskAt != nil && r.FirstRespondedAt == nil)
}

// Breached reports whether the request missed a due time.
func (r Request) Breached() bool {
	return r.ResolutionBreachedAt != nil || r.FirstResponseBreachedAt != nil
}

// Number is the request's human reference, such as REQ-000123.
func (r Request) Number() string { return Number(r.ID) }

// Number formats a request id as its human reference.
func Number(id int64) string { return fmt.Sprintf("REQ-%06d", id) }

// get loads a request without any visibility check.
func get(ctx context.Context, idb bun.IDB, id int64) (*Request, error) {
	r := new(Request)
	if err := idb.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("request")
		}
		return nil, fmt.Errorf("get request %d: %w", id, err)
	}
	if r.Status == InProgress || r.Status == WaitingOnCustomer {
		o, err := billing.WeighFulfilment(ctx, idb, r.Fulfilment(r.UpdatedAt, 0), r.EstimateMinor)
		if err != nil {
			return nil, err
		}
		r.Overrun = &o
	}
	return r, nil
}
