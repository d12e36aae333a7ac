package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
)

// Dispute statuses.
const (
	DisputeOpen     = "open"
	DisputeAccepted = "accepted"
	DisputeRejected = "rejected"
)

// Dispute is a consumer's objection to one charge and finance's answer.
type Dispute struct {
	bun.BaseModel `bun:"table:disputes,alias:d"`

	ID          int64      `bun:"id,pk,autoincrement"`
	ChargeID    int64      `bun:"charge_id"`
	RaisedBy    int64      `bun:"raised_by"`
	Reason      string     `bun:"reason"`
	Status      string     `bun:"status"`
	CreditMinor int64      `bun:"credit_minor"`
	ResolvedBy  *int64     `bun:"resolved_by"`
	ResolvedAt  *time.Time `bun:"resolved_at"`
	Note        string     `bun:"note"`
	EntryID     *int64     `bun:"entry_id"`
	CreatedAt   time.Time  `bun:"created_at"`
}

// GetCharge returns one charge.
func GetCharge(ctx context.Context, idb bun.IDB, id int64) (*Charge, error) {
	c := new(Charge)
	if err := idb.NewSelect().Model(c).Where("c.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("charge")
		}
		return nil, fmt.Errorf("get charge %d: %w", id, err)
	}
	return c, nil
}

// GetDispute returns one dispute.
func GetDispute(ctx context.Context, idb bun.IDB, id int64) (*Dispute, error) {
	d := new(Dispute)
	if err := idb.NewSelect().Model(d).Where("d.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.NotFound("dispute")
		}
		return nil, fmt.Errorf("get dispute %d: %w", id, err)
	}
	return d, nil
}

// RaiseDispute opens a dispute on a charge whose period is not closed. A
// charge is disputed at most once.
// Only a manager of the charged unit raises one (Viewer.MayDispute).
func RaiseDispute(ctx context.Context, tx bun.Tx, v Viewer, chargeID int64, reason string, now time.Time) (*Dispute, error) {
	c, err := GetCharge(ctx, tx, chargeID)
	if err != nil {
		return nil, err
	}
	if err := v.MayDispute(c); err != nil {
		return nil, audit.Refuse(v.UserID, "charge", strconv.FormatInt(c.ID, 10), "dispute", c, err)
	}
	if c.AmountMinor <= 0 {
		return nil, audit.Refuse(v.UserID, "charge", strconv.FormatInt(c.ID, 10), "dispute", c,
			fault.Conflict("credit_not_disputable", "charge %d is a credit; only a charge is disputed", c.ID))
	}
	reason = strings.TrimSpace(reason)
	if err := fault.Text("reason", reason, 1, 2000, true); err != nil {
		return nil, err
	}
	actorID := v.UserID
	p, err := lockPeriod(ctx, tx, c.Period, now, false) // shared: a close waits and then sees the dispute
	if err != nil {
		return nil, err
	}
	if p.Status == PeriodClosed {
		return nil, fault.Conflict("period_closed", "period %s is closed; its charges can no longer be disputed", c.Period)
	}
	d := &Dispute{ChargeID: c.ID, RaisedBy: actorID, Reason: reason, Status: DisputeOpen, CreatedAt: now}
	res, err := tx.NewInsert().Model(d).On("CONFLICT DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("raise dispute on charge %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fault.Conflict("already_disputed", "charge %d has already been disputed", c.ID)
	}
	if err := setChargeStatus(ctx, tx, actorID, c, ChargeDisputed); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "dispute", ObjectID: strconv.FormatInt(d.ID, 10),
		Action: "raise", After: d}); err != nil {
		return nil, err
	}
	if err := tellDispute(ctx, tx, notify.DisputeRaised, d, c, actorID, "", now); err != nil {
		return nil, err
	}
	return d, nil
}

// Settlement is finance's answer to one dispute: accept with a credit, or
// reject with a note saying why.
type Settlement struct {
	DisputeID   int64
	Action      string // "accept" or "reject"
	CreditMinor int64  // accept: more than 0, at most the charge; reject: 0
	Note        string
}

// SettleDispute accepts (crediting s.CreditMinor, up to the charge) or
// rejects an open dispute. An accepted credit posts a new entry, dated in
// loc (the organisation's time zone): a full credit reverses the charge's
// entry, a partial one adjusts it. Settling twice is a conflict, so fifty
// concurrent accepts post one credit. Only finance settles, four eyes
// apart from the dispute (Viewer.MaySettle).
func SettleDispute(ctx context.Context, tx bun.Tx, v Viewer, s Settlement, loc *time.Location, now time.Time) (*Dispute, error) {
	before, err := GetDispute(ctx, tx, s.DisputeID)
	if err != nil {
		return nil, err
	}
	c, err := GetCharge(ctx, tx, before.ChargeID)
	if err != nil {
		return nil, err
	}
	if err := v.MaySettle(before, c); err != nil {
		return nil, audit.Refuse(v.UserID, "dispute", strconv.FormatInt(before.ID, 10), s.Action, before, err)
	}
	actorID, action, creditMinor, note := v.UserID, s.Action, s.CreditMinor, s.Note
	if err := fault.Text("note", note, 0, 2000, true); err != nil {
		return nil, err
	}
	d := *before
	d.ResolvedBy, d.ResolvedAt, d.Note = &actorID, &now, note
	chargeStatus := ChargePosted
	switch action {
	case "accept":
		given, err := creditedByEnd(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		if creditMinor <= 0 || creditMinor > c.AmountMinor-given {
			return nil, fault.Invalid("credit_minor", "credit_minor must be more than 0 and at most the charge, %d", c.AmountMinor-given)
		}
		d.Status, d.CreditMinor, chargeStatus = DisputeAccepted, creditMinor, ChargeCredited
	case "reject":
		if creditMinor != 0 {
			return nil, fault.Invalid("credit_minor", "a rejected dispute credits nothing")
		}
		if strings.TrimSpace(note) == "" {
			return nil, fault.Invalid("note", "say why the dispute is rejected")
		}
		d.Status = DisputeRejected
	default:
		return nil, fault.Invalid("action", "action must be accept or reject")
	}
	// The status condition makes concurrent settlements race on one row.
	res, err := tx.NewUpdate().Model(&d).Column("status", "credit_minor", "resolved_by", "resolved_at", "note").
		Where("d.id = ? AND d.status = ?", d.ID, DisputeOpen).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("settle dispute %d: %w", d.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fault.Conflict("dispute_settled", "dispute %d is already %s", d.ID, fault.Term{Group: "dispute.status", Name: string(before.Status)})
	}
	if d.Status == DisputeAccepted {
		expense, recovery, err := creditGLAccounts(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		e := Entry{Key: fmt.Sprintf("dispute:%d", d.ID), Month: c.Period, Date: now.In(loc).Format("2006-01-02"),
			Kind: "dispute_credit", Memo: fmt.Sprintf("credit on charge %d: %s", c.ID, note), Currency: c.Currency, CreatedBy: actorID,
			Lines: chargeLines(c.ConsumerUnitID, c.ProviderUnitID, -creditMinor, expense, recovery)}
		if creditMinor == c.AmountMinor && c.EntryID != nil {
			e.Reverses = *c.EntryID
		}
		entry, _, err := Post(ctx, tx, e, now)
		if err != nil {
			return nil, err
		}
		d.EntryID = &entry.ID
		if _, err := tx.NewUpdate().Model(&d).Column("entry_id").Where("d.id = ?", d.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("link dispute %d to its entry: %w", d.ID, err)
		}
	}
	if err := setChargeStatus(ctx, tx, actorID, c, chargeStatus); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "dispute", ObjectID: strconv.FormatInt(d.ID, 10),
		Action: action, Before: before, After: d}); err != nil {
		return nil, err
	}
	if err := tellDispute(ctx, tx, notify.DisputeSettled, &d, c, actorID, note, now); err != nil {
		return nil, err
	}
	return &d, nil
}

func setChargeStatus(ctx context.Context, tx bun.Tx, actorID int64, c *Charge, status string) error {
	if _, err := tx.NewUpdate().Model((*Charge)(nil)).Set("status = ?", status).Where("id = ?", c.ID).Exec(ctx); err != nil {
		return fmt.Errorf("set charge %d %s: %w", c.ID, status, err)
	}
	return audit.Record(ctx, tx, audit.Change{ActorID: actorID, ObjectType: "charge", ObjectID: strconv.FormatInt(c.ID, 10),
		Action: status, Before: map[string]string{"status": c.Status}, After: map[string]string{"status": status}})
}
