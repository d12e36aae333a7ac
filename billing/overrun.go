package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/govalues/decimal"
	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

// DefaultOverrunTolerancePct is how far a fulfilment may cost more than its
// estimate, in percent of the estimate, before it needs an overrun approval,
// when the settings table names no other (key overrun_tolerance_pct).
const DefaultOverrunTolerancePct = 10

// OverrunTolerancePct reads the organisation's overrun tolerance.
func OverrunTolerancePct(ctx context.Context, idb bun.IDB) (int, error) {
	var value string
	err := idb.NewSelect().Table("settings").Column("value").Where("key = ?", "overrun_tolerance_pct").Scan(ctx, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultOverrunTolerancePct, nil
	}
	if err != nil {
		return 0, fmt.Errorf("overrun tolerance: %w", err)
	}
	pct, err := strconv.Atoi(value)
	if err != nil || pct < 0 {
		return 0, fmt.Errorf("settings: overrun_tolerance_pct %q is not a whole percentage", value)
	}
	return pct, nil
}

// Overrun statuses: an overrun beyond the tolerance waits for a manager of
// the consumer unit, then is approved for the amount they saw.
const (
	OverrunPending  = "pending"
	OverrunApproved = "approved"
)

// Overrun weighs what a fulfilment costs now against its approved estimate.
type Overrun struct {
	EstimateMinor int64 `json:"estimate_minor"`
	// AmountMinor is what the fulfilment comes to now: the quote for fixed
	// and per-unit services, all billable time for hourly ones.
	AmountMinor int64 `json:"amount_minor"`
	// ChargedMinor is what earlier resolutions of the request posted.
	ChargedMinor int64 `json:"charged_minor"`
	// ApprovedMinor is the largest amount a manager of the consumer unit
	// approved (0: none).
	ApprovedMinor int64  `json:"approved_minor"`
	Currency      string `json:"currency"`
	TolerancePct  int    `json:"tolerance_pct"`
}

// ExcessMinor is how much the fulfilment costs over the estimate.
func (o Overrun) ExcessMinor() int64 { return o.AmountMinor - o.EstimateMinor }

// ToPostMinor is what resolving would post now.
func (o Overrun) ToPostMinor() int64 { return o.AmountMinor - o.ChargedMinor }

// Status is "" when the fulfilment is within the tolerance, OverrunPending
// when it is beyond and no approval covers the amount, else OverrunApproved.
func (o Overrun) Status() string {
	excess := new(big.Int).Mul(big.NewInt(o.ExcessMinor()), big.NewInt(100))
	allowed := new(big.Int).Mul(big.NewInt(o.EstimateMinor), big.NewInt(int64(o.TolerancePct)))
	switch {
	case o.ExcessMinor() <= 0 || excess.Cmp(allowed) <= 0:
		return ""
	case o.ApprovedMinor >= o.AmountMinor:
		return OverrunApproved
	}
	return OverrunPending
}

func (o Overrun) money(minor int64) money.Money {
	return money.Money{Minor: minor, Currency: o.Currency}
}

// Refusal is the fault that holds a resolution while the overrun waits.
func (o Overrun) Refusal() error {
	return fault.Conflict("overrun_needs_approval",
		"the fulfilment comes to %s, %s over the estimate %s and beyond the tolerance of %d percent; a manager of the ordering unit must approve the overrun of %s before it can be resolved",
		o.money(o.AmountMinor), o.money(o.ExcessMinor()), o.money(o.EstimateMinor), o.TolerancePct, o.money(o.ExcessMinor())).
		With("overrun", o.Details())
}

// Details is the overrun as a fault or the API shows it.
func (o Overrun) Details() map[string]any {
	return map[string]any{"amount": o.money(o.AmountMinor), "estimate": o.money(o.EstimateMinor),
		"excess": o.money(o.ExcessMinor()), "approved": o.money(o.ApprovedMinor), "tolerance_pct": o.TolerancePct,
		"status": o.Status()}
}

// WeighFulfilment prices f as resolving it now would, against estimateMinor,
// with what earlier resolutions charged and what was approved.
func WeighFulfilment(ctx context.Context, idb bun.IDB, f Fulfilment, estimateMinor int64) (Overrun, error) {
	o := Overrun{EstimateMinor: estimateMinor, AmountMinor: estimateMinor, Currency: f.Currency}
	var err error
	if o.TolerancePct, err = OverrunTolerancePct(ctx, idb); err != nil {
		return o, err
	}
	switch f.PricingModel {
	case "fixed", "per_unit":
		q, err := decimal.Parse(f.Quantity)
		if err != nil {
			return o, fmt.Errorf("request %d quantity %q: %w", f.RequestID, f.Quantity, err)
		}
		amount, err := money.Money{Minor: f.UnitPriceMinor, Currency: f.Currency}.MulQuantity(q)
		if err != nil {
			return o, err
		}
		o.AmountMinor = amount.Minor
	case "hourly":
		lines, err := hourlyLines(ctx, idb, f)
		if err != nil {
			return o, err
		}
		o.AmountMinor = 0
		for _, l := range lines {
			o.AmountMinor += l.amount
		}
	}
	err = idb.NewRaw(`SELECT COALESCE((SELECT SUM(amount_minor) FROM charges WHERE request_id = ?), 0),
		COALESCE((SELECT MAX(amount_minor) FROM overrun_approvals WHERE request_id = ?), 0)`,
		f.RequestID, f.RequestID).Scan(ctx, &o.ChargedMinor, &o.ApprovedMinor)
	if err != nil {
		return o, fmt.Errorf("charges and overrun approvals of request %d: %w", f.RequestID, err)
	}
	if f.PricingModel == "hourly" {
		// hourlyLines prices only the time no charge covers yet; the
		// fulfilment is that plus what earlier resolutions charged.
		o.AmountMinor += o.ChargedMinor
	}
	return o, nil
}

// ApproveOverrun records that actorID, a manager of the consumer unit,
// approves the fulfilment of request up to o.AmountMinor, and audits it.
// It refuses when nothing waits for approval.
func ApproveOverrun(ctx context.Context, tx bun.Tx, actorID, requestID int64, o Overrun, now time.Time) error {
	if o.Status() != OverrunPending {
		return fault.Conflict("no_overrun", "no overrun of this request waits for approval")
	}
	row := map[string]any{"request_id": requestID, "amount_minor": o.AmountMinor, "estimate_minor": o.EstimateMinor,
		"currency": o.Currency, "approved_by": actorID, "approved_at": now}
	if _, err := tx.NewInsert().Model(&row).TableExpr("overrun_approvals").Exec(ctx); err != nil {
		return fmt.Errorf("approve overrun of request %d: %w", requestID, err)
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "request", ObjectID: strconv.FormatInt(requestID, 10),
		Action: "approve_overrun", After: row})
}

// budgetCheck is a budget weighed for one more amount.
type budgetCheck struct {
	b     *Budget
	used  int64 // what counts against the budget before the amount
	extra int64 // the amount
}

func (c budgetCheck) money(minor int64) money.Money {
	return money.Money{Minor: minor, Currency: c.b.Currency}
}

// over reports whether the amount takes use beyond the budget.
func (c budgetCheck) over() bool {
	after, err := c.money(c.used).Add(c.money(c.extra))
	return c.extra > 0 && (err != nil || after.Minor > c.b.AmountMinor)
}

// details are the numbers a refusal or an overrun note gives.
func (c budgetCheck) details() map[string]any {
	return map[string]any{"month": c.b.Month, "amount": c.money(c.b.AmountMinor), "used": c.money(c.used),
		"order": c.money(c.extra), "remaining": c.money(c.b.AmountMinor - c.used), "hard": c.b.Hard}
}

// ApprovalCheck is the verdict of the consumer unit's budget on approving
// one pending order.
type ApprovalCheck struct {
	// Over is set when approving takes a soft budget beyond its amount:
	// the approval goes through and its note says by how much.
	Over bool
	Note string
}

// CheckApproval weighs approving a pending order of estimateMinor against
// the unit's budget for month (the month the order was filed, where its
// estimate is committed), holding the budget row like CheckOrder. Against
// the approval weigh what is posted and what is approved or needs no
// approval; other orders still waiting are weighed when they are approved.
// A hard budget the approval would exceed refuses it with budget_exceeded
// and the numbers; a soft one lets it through with Over and a note.
func CheckApproval(ctx context.Context, tx bun.Tx, unitID, estimateMinor int64, month string, loc *time.Location) (ApprovalCheck, error) {
	b, err := lockBudget(ctx, tx, unitID, month)
	if err != nil || b == nil {
		return ApprovalCheck{}, err
	}
	use, err := BudgetUse(ctx, tx, unitID, month, loc)
	if err != nil {
		return ApprovalCheck{}, err
	}
	c := budgetCheck{b: b, used: use.Posted + use.Committed - use.Pending, extra: estimateMinor}
	if !c.over() {
		return ApprovalCheck{}, nil
	}
	if b.Hard {
		return ApprovalCheck{}, fault.Conflict("budget_exceeded",
			"approving this order of %s would exceed the unit's hard budget for %s: %s of %s used, %s remaining; finance must raise the budget first",
			c.money(c.extra), month, c.money(c.used), c.money(b.AmountMinor), c.money(b.AmountMinor-c.used)).
			With("budget", c.details())
	}
	return ApprovalCheck{Over: true, Note: fmt.Sprintf("approved over the budget for %s: this order of %s with %s of %s used leaves %s",
		month, c.money(c.extra), c.money(c.used), c.money(b.AmountMinor), c.money(b.AmountMinor-c.used-c.extra))}, nil
}

// CheckPosting refuses to post toPostMinor for unitID into month when it
// would take the unit's hard budget below zero. releasedMinor is what the
// posting turns from a commitment of that month into a posting (the
// request's estimate, when it was filed in month and not charged yet): a
// posting within it takes the budget no lower than its commitment did. Only
// finance raising the budget (SetBudget, audited) lets such a posting
// through. Call it inside the posting's transaction; it holds the budget.
func CheckPosting(ctx context.Context, tx bun.Tx, unitID, toPostMinor, releasedMinor int64, month string, loc *time.Location) error {
	if toPostMinor <= releasedMinor {
		return nil
	}
	b, err := lockBudget(ctx, tx, unitID, month)
	if err != nil || b == nil || !b.Hard {
		return err
	}
	use, err := BudgetUse(ctx, tx, unitID, month, loc)
	if err != nil {
		return err
	}
	c := budgetCheck{b: b, used: use.Used() - releasedMinor, extra: toPostMinor}
	if !c.over() {
		return nil
	}
	return fault.Conflict("budget_exceeded",
		"posting %s would take the unit's hard budget for %s below zero: %s of %s used, %s remaining; finance must raise the budget first",
		c.money(c.extra), month, c.money(c.used), c.money(b.AmountMinor), c.money(b.AmountMinor-c.used)).
		With("budget", c.details())
}
