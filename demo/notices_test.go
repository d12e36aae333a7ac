package demo_test

import (
	"context"
	"testing"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

// TestEveryPersonaHasNotifications: after the demo loads, every persona
// whose roles some notice reaches has notifications to show (the admin and
// the auditor hear of nothing by the rules), and the kinds the demo's
// history raises are all there: orders, approvals, the queue, resolutions
// with their rating reminders, disputes, budgets and the month in review.
func TestEveryPersonaHasNotifications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := demo.Load(ctx, d, auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}); err != nil {
			t.Fatal(err)
		}
		kinds := map[notify.Kind]int{}
		for _, p := range demo.People {
			u, err := units.GetUserByEmail(ctx, d, p.Email)
			if err != nil {
				t.Fatal(err)
			}
			list, err := notify.List(ctx, d, u.ID, 0, 1000, false)
			if err != nil {
				t.Fatal(err)
			}
			quiet := len(p.UnitRoles) == 0 && (p.OrgRoles[0] == "admin" || p.OrgRoles[0] == "auditor")
			if !quiet && len(list) == 0 {
				t.Errorf("%s (%s) has no notifications", p.Name, p.Persona)
			}
			for _, n := range list {
				kinds[n.Event.Kind]++
			}
		}
		for _, k := range []notify.Kind{notify.RequestFiled, notify.ApprovalWaiting, notify.QueueNew, notify.RequestResolved,
			notify.DisputeRaised, notify.DisputeSettled, notify.BudgetWarning, notify.PeriodInReview} {
			if kinds[k] == 0 {
				t.Errorf("no %s notification in the demo (%v)", k, kinds)
			}
		}
		t.Logf("demo notifications by kind: %v", kinds)
	})
}
