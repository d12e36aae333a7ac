package billing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// tellDispute records, in tx, that a dispute on charge c was raised or
// settled; notify.Rules says who hears it.
func tellDispute(ctx context.Context, tx bun.Tx, kind notify.Kind, d *Dispute, c *Charge, actorID int64, note string, now time.Time) error {
	args := map[string]string{"ref": fmt.Sprintf("#%d", d.ID), "title": d.Reason}
	if c.RequestID != nil {
		args["request_id"] = strconv.FormatInt(*c.RequestID, 10)
	}
	if note != "" {
		args["note"] = note
	}
	_, err := notify.Record(ctx, tx, notify.Event{Kind: kind, ObjectID: d.ID, ActorID: actorID,
		Parties: notify.Parties{RaiserID: d.RaisedBy, ConsumerUnitID: c.ConsumerUnitID, ProviderUnitID: c.ProviderUnitID}, Args: args, At: now})
	return err
}

// tellAdjustment records, in tx, that adjustment a waits for a second
// finance user.
func tellAdjustment(ctx context.Context, tx bun.Tx, a *Adjustment, now time.Time) error {
	_, err := notify.Record(ctx, tx, notify.Event{Kind: notify.AdjustmentWaiting, ObjectID: a.ID, ActorID: a.CreatedBy,
		Parties: notify.Parties{MakerID: a.CreatedBy}, Args: map[string]string{"ref": fmt.Sprintf("#%d", a.ID), "title": a.Reason}, At: now})
	return err
}

// tellCharged tells what the charges just posted for one fulfilment did to
// their unit's budget (nothing when none posted).
func tellCharged(ctx context.Context, tx bun.Tx, charges []Charge, loc *time.Location, actorID int64, now time.Time) error {
	if len(charges) == 0 {
		return nil
	}
	return tellBudget(ctx, tx, charges[0].ConsumerUnitID, MonthOf(now, loc), loc, actorID, now)
}

// tellBudget tells, after charges of unitID posted in month, whether its
// budget's use (posted and committed) crossed the warning line (the
// consumer unit's managers hear it) or reached a hard budget's amount
// (finance hears it). Each is told once per budget amount and line: the
// notices carry keys, so a retry or a later charge adds nothing.
func tellBudget(ctx context.Context, tx bun.Tx, unitID int64, month string, loc *time.Location, actorID int64, now time.Time) error {
	b, err := GetBudget(ctx, tx, unitID, month)
	if fault.Is(err, fault.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	use, err := BudgetUse(ctx, tx, unitID, month, loc)
	if err != nil {
		return err
	}
	if b.Warning(use.Used()) {
		if err := tellBudgetKind(ctx, tx, notify.BudgetWarning, b, use, actorID, now); err != nil {
			return err
		}
	}
	if b.Hard && use.Used() >= b.AmountMinor {
		return tellBudgetKind(ctx, tx, notify.BudgetReached, b, use, actorID, now)
	}
	return nil
}

// TellBudget tells, as tellBudget does after a charge, what the use of
// unitID's budget for month has reached by now: for budgets set after the
// use they weigh (the demo sets its budgets after its history).
func TellBudget(ctx context.Context, tx bun.Tx, unitID int64, month string, loc *time.Location, now time.Time) error {
	return tellBudget(ctx, tx, unitID, month, loc, 0, now)
}

// tellWarnedBudget tells the consumer unit's managers that an order took
// budget b to its warning line (warnBudget marked it).
func tellWarnedBudget(ctx context.Context, tx bun.Tx, b *Budget, use Use, estimateMinor, actorID int64, now time.Time) error {
	use.Committed += estimateMinor
	return tellBudgetKind(ctx, tx, notify.BudgetWarning, b, use, actorID, now)
}

func tellBudgetKind(ctx context.Context, tx bun.Tx, kind notify.Kind, b *Budget, use Use, actorID int64, now time.Time) error {
	unit, err := units.GetUnit(ctx, tx, b.UnitID)
	if err != nil {
		return err
	}
	m := func(minor int64) string { return money.Money{Minor: minor, Currency: b.Currency}.String() }
	args := map[string]string{"ref": b.Month, "title": unit.Code + " " + unit.Name,
		"note": fmt.Sprintf("%s / %s (%d %%)", m(use.Used()), m(b.AmountMinor), b.WarnPct)}
	key := fmt.Sprintf("%s:%d/%s:%d:%d", kind, b.UnitID, b.Month, b.AmountMinor, b.WarnPct)
	_, err = notify.Record(ctx, tx, notify.Event{Kind: kind, ObjectID: b.UnitID, ActorID: actorID, Key: key,
		Parties: notify.Parties{ConsumerUnitID: b.UnitID}, Args: args, At: now})
	return err
}

// tellReview, when period p just moved to review, tells the managers of every unit with charges in month that
// the month is in review, with a link to their statement; once per unit
// and month.
func tellReview(ctx context.Context, tx bun.Tx, p *Period, actorID int64, now time.Time) error {
	if p.Status != PeriodReview {
		return nil
	}
	month := p.Month
	var consumers []int64
	if err := tx.NewSelect().Model((*Charge)(nil)).ColumnExpr("DISTINCT consumer_unit_id").Where("period = ?", month).
		Scan(ctx, &consumers); err != nil {
		return fmt.Errorf("units charged in %s: %w", month, err)
	}
	for _, unitID := range consumers {
		unit, err := units.GetUnit(ctx, tx, unitID)
		if err != nil {
			return err
		}
		if _, err := notify.Record(ctx, tx, notify.Event{Kind: notify.PeriodInReview, ObjectID: unitID, ActorID: actorID,
			Key:     fmt.Sprintf("%s:%s:%d", notify.PeriodInReview, month, unitID),
			Parties: notify.Parties{ConsumerUnitID: unitID}, Args: map[string]string{"ref": month, "title": unit.Code + " " + unit.Name},
			At: now}); err != nil {
			return err
		}
	}
	return nil
}
