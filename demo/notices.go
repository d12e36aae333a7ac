package demo

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// digestPerson is the demo agent who takes new requests in the queue as
// one daily digest, so the digest shows in their bell.
const digestPerson = "otto.koskinen@tiski.example"

// loadNotices runs, as of now, the scheduled notices tiski serve's sweeper
// sends (SLA marks, rating reminders, yesterday's digest) and the budget
// lines the use of each month has reached, so each
// persona's bell shows them at once. Each is told once: a second load adds
// nothing.
func loadNotices(ctx context.Context, d *db.DB, org units.Organisation, now time.Time) error {
	return d.InTx(ctx, func(tx bun.Tx) error {
		u, err := units.GetUserByEmail(ctx, tx, digestPerson)
		if err != nil {
			return err
		}
		yes := true
		if err := notify.SetPreferences(ctx, tx, u.ID, []notify.Preference{{Kind: notify.QueueNew, Email: true, Digest: &yes}}); err != nil {
			return err
		}
		if _, err := requests.MarkSLA(ctx, tx, now); err != nil {
			return err
		}
		if _, err := requests.RemindRatings(ctx, tx, now); err != nil {
			return err
		}
		// The budgets came after the charges they weigh: tell their lines.
		var budgets []billing.Budget
		if err := tx.NewSelect().Model(&budgets).OrderExpr("month, unit_id").Scan(ctx); err != nil {
			return err
		}
		for _, b := range budgets {
			if err := billing.TellBudget(ctx, tx, b.UnitID, b.Month, org.Location, now); err != nil {
				return err
			}
		}
		_, err = notify.SendDigests(ctx, tx, org.Location, now)
		return err
	})
}
