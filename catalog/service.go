// Package catalog holds the services provider units offer: what they cost
// (effective-dated rates), how fast they are promised (SLA targets), whether
// they need approval and which form a request for them carries.
package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
)

// Pricing models and approval policies.
var (
	PricingModels    = []string{"fixed", "per_unit", "hourly", "monthly"}
	ApprovalPolicies = []string{"always", "threshold", "never"}
)

// maxSLAMinutes caps SLA targets at one year of minutes.
const maxSLAMinutes = 366 * 24 * 60

var serviceCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{0,39}$`)

// Service is something a provider unit offers to the rest of the organisation.
type Service struct {
	bun.BaseModel `bun:"table:services"`

	ID                      int64     `bun:"id,pk,autoincrement"`
	ProviderUnitID          int64     `bun:"provider_unit_id"`
	Code                    string    `bun:"code"`
	Name                    string    `bun:"name"`
	Category                string    `bun:"category"`
	Description             string    `bun:"description"`
	PricingModel            string    `bun:"pricing_model"`
	UnitLabel               string    `bun:"unit_label"`
	ApprovalPolicy          string    `bun:"approval_policy"`
	SLAFirstResponseMinutes int       `bun:"sla_first_response_minutes"`
	SLAResolutionMinutes    int       `bun:"sla_resolution_minutes"`
	FieldsJSON              string    `bun:"fields_json"`
	Active                  bool      `bun:"active"`
	CreatedAt               time.Time `bun:"created_at"`
	UpdatedAt               time.Time `bun:"updated_at"`
}

// Fields decodes the service's request form.
func (s *Service) Fields() []Field {
	var f []Field
	_ = json.Unmarshal([]byte(s.FieldsJSON), &f)
	return f
}

// ServiceChange holds fields to set on a service; nil fields stay.
type ServiceChange struct {
	Name                    *string
	Category                *string
	Description             *string
	UnitLabel               *string
	ApprovalPolicy          *string
	SLAFirstResponseMinutes *int
	SLAResolutionMinutes    *int
	Fields                  *[]Field
	Active                  *bool
}

// CreateService stores a new service and its first rate, effective from
// firstRate.EffectiveFrom.
func CreateService(ctx context.Context, tx bun.Tx, actorID int64, s Service, fields []Field, firstRate Rate) (*Service, *Rate, error) {
	s.Code = strings.ToUpper(strings.TrimSpace(s.Code))
	if fields == nil {
		fields = []Field{}
	}
	if err := CheckFields(fields); err != nil {
		return nil, nil, err
	}
	raw, _ := json.Marshal(fields)
	s.FieldsJSON = string(raw)
	if err := validateService(&s); err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	s.ID, s.Active, s.CreatedAt, s.UpdatedAt = 0, true, now, now
	if _, err := tx.NewInsert().Model(&s).Returning("id").Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, nil, fault.Conflict("duplicate_code", "a service with code %s already exists", s.Code).With("field", "code")
		}
		return nil, nil, fmt.Errorf("create service %s: %w", s.Code, err)
	}
	firstRate.ServiceID = s.ID
	rate, err := AddRate(ctx, tx, actorID, firstRate, "")
	if err != nil {
		return nil, nil, err
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "service",
		ObjectID: strconv.FormatInt(s.ID, 10), Action: "create", After: s}); err != nil {
		return nil, nil, err
	}
	return &s, rate, nil
}

// UpdateService applies change. Requests already filed keep their own copy
// of the price and targets, so nothing here rewrites them.
func UpdateService(ctx context.Context, tx bun.Tx, actorID, id int64, change ServiceChange) (*Service, error) {
	before, err := GetService(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	s := *before
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.Name, change.Name)
	set(&s.Category, change.Category)
	set(&s.Description, change.Description)
	set(&s.UnitLabel, change.UnitLabel)
	set(&s.ApprovalPolicy, change.ApprovalPolicy)
	if change.SLAFirstResponseMinutes != nil {
		s.SLAFirstResponseMinutes = *change.SLAFirstResponseMinutes
	}
	if change.SLAResolutionMinutes != nil {
		s.SLAResolutionMinutes = *change.SLAResolutionMinutes
	}
	if change.Fields != nil {
		if err := CheckFields(*change.Fields); err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(*change.Fields)
		s.FieldsJSON = string(raw)
	}
	if change.Active != nil {
		s.Active = *change.Active
	}
	if err := validateService(&s); err != nil {
		return nil, err
	}
	s.UpdatedAt = time.Now().UTC()
	if _, err := tx.NewUpdate().Model(&s).WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("update service %d: %w", id, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "service",
		ObjectID: strconv.FormatInt(id, 10), Action: "update", Before: before, After: s}); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetService returns one service or a not-found fault.
func GetService(ctx context.Context, idb bun.IDB, id int64) (*Service, error) {
	s := new(Service)
	if err := idb.NewSelect().Model(s).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("service")
		}
		return nil, fmt.Errorf("get service %d: %w", id, err)
	}
	return s, nil
}

// ServiceFilter selects services for ListServices.
type ServiceFilter struct {
	ProviderUnitID  int64
	Category        string
	Query           string
	IncludeInactive bool
	AfterID         int64
	Limit           int
}

// ListServices returns services ordered by id after the cursor.
func ListServices(ctx context.Context, idb bun.IDB, f ServiceFilter) ([]Service, error) {
	var list []Service
	q := idb.NewSelect().Model(&list).Where("id > ?", f.AfterID).OrderExpr("id ASC").Limit(int64(f.Limit))
	if !f.IncludeInactive {
		q = q.Where("active = ?", true)
	}
	if f.ProviderUnitID != 0 {
		q = q.Where("provider_unit_id = ?", f.ProviderUnitID)
	}
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	if f.Query != "" {
		like := "%" + db.EscapeLike(strings.ToLower(f.Query)) + "%"
		q = q.Where("(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(description) LIKE ? ESCAPE '\\' OR LOWER(code) LIKE ? ESCAPE '\\')", like, like, like)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return list, nil
}

func validateService(s *Service) error {
	if !serviceCode.MatchString(s.Code) {
		return fault.Invalid("code", "code must be 1–40 letters, digits, '.', '_' or '-'")
	}
	for _, t := range []struct {
		field, value string
		min, max     int
		multiline    bool
	}{
		{"name", s.Name, 1, 200, false}, {"category", s.Category, 0, 100, false},
		{"description", s.Description, 0, 10000, true}, {"unit_label", s.UnitLabel, 0, 40, false},
	} {
		if err := fault.Text(t.field, t.value, t.min, t.max, t.multiline); err != nil {
			return err
		}
	}
	if strings.TrimSpace(s.Name) == "" {
		return fault.Invalid("name", "name is required")
	}
	if !slices.Contains(PricingModels, s.PricingModel) {
		return fault.Invalid("pricing_model", "pricing_model must be one of fixed, per_unit, hourly, monthly")
	}
	if !slices.Contains(ApprovalPolicies, s.ApprovalPolicy) {
		return fault.Invalid("approval_policy", "approval_policy must be one of always, threshold, never")
	}
	if s.SLAFirstResponseMinutes <= 0 || s.SLAFirstResponseMinutes > maxSLAMinutes {
		return fault.Invalid("sla.first_response_minutes", "first_response_minutes must be from 1 to %d", maxSLAMinutes)
	}
	if s.SLAResolutionMinutes <= 0 || s.SLAResolutionMinutes > maxSLAMinutes {
		return fault.Invalid("sla.resolution_minutes", "resolution_minutes must be from 1 to %d", maxSLAMinutes)
	}
	if s.SLAResolutionMinutes < s.SLAFirstResponseMinutes {
		return fault.Invalid("sla.resolution_minutes", "resolution_minutes cannot be shorter than first_response_minutes")
	}
	return nil
}
