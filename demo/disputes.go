package demo

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/units"
)

// What the Marketing manager objects to, by pricing model, and what
// finance answers.
var (
	disputeReasons = map[string]string{
		"hourly":   "The hours look high: we agreed on about half of this in the kick-off.",
		"fixed":    "This replaced a laptop returned under warranty; we should not pay twice.",
		"per_unit": "Only part of the order was delivered; the rest is still on back order.",
		"monthly":  "The licence was not used this month: the person left in the first week.",
	}
	acceptNote = "Agreed with the provider: half of the charge is credited."
	rejectNote = "The work log and the delivery confirmation match the charge; it stands."
)

// Of the Marketing charges disputed in the review month, the first is
// accepted with a partial credit, the second rejected, the rest stay open.
const (
	disputesSettled = 2
	disputesOpen    = 3
)

// disputes has the Marketing manager dispute the largest Marketing charges
// of month (in review) and finance settle some, unless a charge of the
// month is disputed already.
func (b *books) disputes(ctx context.Context, month string) error {
	exists, err := b.d.NewSelect().TableExpr("disputes AS d").Join("JOIN charges AS c ON c.id = d.charge_id").
		Where("c.period = ?", month).Exists(ctx)
	if err != nil || exists {
		return err
	}
	manager, err := units.GetUserByEmail(ctx, b.d, disputerEmail)
	if err != nil {
		return fmt.Errorf("demo disputer: %w", err)
	}
	var charges []struct {
		ID           int64  `bun:"id"`
		AmountMinor  int64  `bun:"amount_minor"`
		PricingModel string `bun:"pricing_model"`
	}
	err = b.d.NewSelect().TableExpr("charges AS c").Join("JOIN services AS s ON s.id = c.service_id").
		Join("JOIN units AS u ON u.id = c.consumer_unit_id").
		ColumnExpr("c.id, c.amount_minor, s.pricing_model").
		Where("c.period = ? AND c.status = ? AND c.amount_minor > 1", month, billing.ChargePosted).
		Where("u.code = ? OR u.parent_id = (SELECT id FROM units WHERE code = ?)", disputerUnit, disputerUnit).
		OrderExpr("c.amount_minor DESC, c.id").Limit(disputesSettled+disputesOpen).Scan(ctx, &charges)
	if err != nil {
		return fmt.Errorf("demo charges to dispute in %s: %w", month, err)
	}
	return b.d.InTx(ctx, func(tx bun.Tx) error {
		for i, c := range charges {
			raised := b.inCurrent(0.2 + 0.08*float64(i))
			d, err := billing.RaiseDispute(ctx, tx, billing.Operator(manager.ID), c.ID, disputeReasons[c.PricingModel], raised)
			if err != nil {
				return fmt.Errorf("demo dispute on charge %d: %w", c.ID, err)
			}
			settled := b.inCurrent(0.7 + 0.1*float64(i))
			switch i {
			case 0:
				_, err = billing.SettleDispute(ctx, tx, billing.Operator(b.finance), billing.Settlement{DisputeID: d.ID, Action: "accept", CreditMinor: c.AmountMinor / 2, Note: acceptNote}, b.org.Location, settled)
			case 1:
				_, err = billing.SettleDispute(ctx, tx, billing.Operator(b.finance), billing.Settlement{DisputeID: d.ID, Action: "reject", Note: rejectNote}, b.org.Location, settled)
			}
			if err != nil {
				return fmt.Errorf("demo settle dispute %d: %w", d.ID, err)
			}
		}
		return nil
	})
}

// adjustmentReason is the demo's one manual adjustment: finance moves the
// cost of work done outside the catalog from Marketing to Facilities, so
// the review month's statements show an adjustment with its reason.
const adjustmentReason = "Stage and lighting for the product launch, agreed outside the catalog"

// adjustment posts the demo's adjustment into month (in review) unless it
// is there already.
func (b *books) adjustment(ctx context.Context, month string) error {
	exists, err := b.d.NewSelect().Table("adjustments").Where("reason = ?", adjustmentReason).Exists(ctx)
	if err != nil || exists {
		return err
	}
	debit, err := units.GetUnitByCode(ctx, b.d, disputerUnit)
	if err != nil {
		return err
	}
	credit, err := units.GetUnitByCode(ctx, b.d, "CC-1500")
	if err != nil {
		return err
	}
	return b.d.InTx(ctx, func(tx bun.Tx) error {
		_, err := billing.CreateAdjustment(ctx, tx, billing.Operator(b.finance), billing.Adjustment{DebitUnitID: debit.ID,
			CreditUnitID: credit.ID, AmountMinor: 45000, Currency: b.org.Currency, Month: month, Reason: adjustmentReason},
			45000, b.org.Location, b.inCurrent(0.3))
		if err != nil {
			return fmt.Errorf("demo adjustment in %s: %w", month, err)
		}
		return nil
	})
}
