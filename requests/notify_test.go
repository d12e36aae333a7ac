package requests_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// TestARequestsLifeTellsTheRightPeople walks one order needing approval
// through its life and checks, after each step, who was told what: the
// requester's receipt, the approvers (the managers of the consumer unit and
// its parent, never the requester), the assignee, the customer's answer,
// and that an internal comment reaches nobody on the consumer side.
func TestARequestsLifeTellsTheRightPeople(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newNotifyWorld(t, d)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var r *requests.Request
		step := func(name string, fn func(tx bun.Tx) error) {
			t.Helper()
			if err := d.InTx(ctx, fn); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		act := func(who int64, name string, assignee int64) func(tx bun.Tx) error {
			return func(tx bun.Tx) (err error) {
				r, err = requests.Act(ctx, tx, w.viewer(who), w.org, r.ID, requests.Action{Name: name, Version: r.Version, AssigneeID: assignee, Note: "why"}, at)
				return err
			}
		}
		comment := func(who int64, internal bool) func(tx bun.Tx) error {
			return func(tx bun.Tx) (err error) {
				if _, err = requests.AddComment(ctx, tx, w.viewer(who), r.ID, "a word", internal, at); err != nil {
					return err
				}
				r, err = requests.Get(ctx, tx, w.viewer(who), r.ID) // a customer's answer resumes the request
				return err
			}
		}
		step("submit", func(tx bun.Tx) (err error) {
			r, err = requests.Submit(ctx, tx, w.viewer(w.member), w.org, requests.Order{ServiceID: w.service, ConsumerUnitID: w.mkt, Title: "Laptop"}, at)
			return err
		})
		w.want(t, "after submit", map[int64][]notify.Kind{
			w.member: {notify.RequestFiled}, w.groupMgr: {notify.ApprovalWaiting}, w.mktMgr: {notify.ApprovalWaiting},
		})
		step("approve", act(w.mktMgr, "approve", 0))
		step("assign", act(w.itMgr, "assign", w.agent))
		step("start", act(w.agent, "start", 0))
		step("internal comment", comment(w.agent, true))
		w.want(t, "after approve, assign, start and an internal comment", map[int64][]notify.Kind{
			w.member: {notify.RequestFiled, notify.RequestApproved}, w.groupMgr: {notify.ApprovalWaiting},
			w.mktMgr: {notify.ApprovalWaiting}, w.agent: {notify.RequestAssigned},
		})
		step("public comment", comment(w.agent, false))
		step("wait", act(w.agent, "wait", 0))
		step("customer answers", comment(w.member, false))
		step("resolve", act(w.agent, "resolve", 0))
		w.want(t, "at the end", map[int64][]notify.Kind{
			w.member:   {notify.RequestFiled, notify.RequestApproved, notify.ProviderCommented, notify.WaitingOnCustomer, notify.RequestResolved},
			w.groupMgr: {notify.ApprovalWaiting}, w.mktMgr: {notify.ApprovalWaiting},
			w.agent: {notify.RequestAssigned, notify.CustomerAnswered},
		})
		mails, err := d.NewSelect().Table("outbox").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if mails != 9 {
			t.Fatalf("%d e-mails in the outbox, want one per notification (9)", mails)
		}
	})
}

// TestTheApproverWhoRequestedHearsNothingOfTheApproval: a manager who
// orders for their own unit is the requester, so only the other managers
// hear that an approval waits.
func TestTheApproverWhoRequestedHearsNothingOfTheApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newNotifyWorld(t, d)
		err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := requests.Submit(ctx, tx, w.viewer(w.mktMgr), w.org, requests.Order{ServiceID: w.service, ConsumerUnitID: w.mkt, Title: "Laptop"}, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		w.want(t, "after the manager's own order", map[int64][]notify.Kind{
			w.mktMgr: {notify.RequestFiled}, w.groupMgr: {notify.ApprovalWaiting},
		})
	})
}

type notifyWorld struct {
	*desk
	itMgr, mktMgr, groupMgr int64
}

func newNotifyWorld(t *testing.T, d *db.DB) *notifyWorld {
	t.Helper()
	ctx := context.Background()
	k := newDesk(t, d)
	w := &notifyWorld{desk: k}
	err := d.InTx(ctx, func(tx bun.Tx) error {
		group, err := units.CreateUnit(ctx, tx, 0, units.Unit{Code: "GROUP", Name: "Group"})
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Table("units").Set("parent_id = ?", group.ID).Where("id = ?", k.mkt).Exec(ctx); err != nil {
			return err
		}
		it, err := units.GetUnitByCode(ctx, tx, "IT")
		if err != nil {
			return err
		}
		for _, p := range []struct {
			id   *int64
			unit int64
			name string
		}{{&w.itMgr, it.ID, "itmgr"}, {&w.mktMgr, k.mkt, "mktmgr"}, {&w.groupMgr, group.ID, "groupmgr"}} {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: p.name + "@example.org", Name: p.name})
			if err != nil {
				return err
			}
			*p.id = u.ID
			if _, err := units.GrantUnitRole(ctx, tx, 0, p.unit, u.ID, "manager"); err != nil {
				return err
			}
		}
		svc, _, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: it.ID, Code: "DESK", Name: "Desk",
			PricingModel: "fixed", ApprovalPolicy: "always", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
			nil, catalog.Rate{PriceMinor: 10000, Currency: "EUR", EffectiveFrom: "2020-01-01"})
		k.service = svc.ID
		return err
	})
	if err != nil {
		t.Fatalf("notify world: %v", err)
	}
	if k.authz, err = policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return w
}

// want checks every user's notifications, oldest first; users not named
// have none.
func (w *notifyWorld) want(t *testing.T, when string, want map[int64][]notify.Kind) {
	t.Helper()
	for _, user := range []int64{w.member, w.agent, w.itMgr, w.mktMgr, w.groupMgr} {
		got, err := notify.List(context.Background(), w.d, user, 0, 100, false)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []notify.Kind
		for _, n := range got {
			kinds = append(kinds, n.Event.Kind)
		}
		slices.Reverse(kinds)
		if !slices.Equal(kinds, want[user]) {
			t.Errorf("%s: user %d heard %v, want %v", when, user, kinds, want[user])
		}
	}
}

// TestAnOverrunTellsTheApproversOnce: the time entry that takes an hourly
// request past its estimate plus the tolerance tells the consumer unit's
// manager that an overrun waits, once; the entries after it do not.
func TestAnOverrunTellsTheApproversOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newBudgetDesk(t, d, catalog.Service{Code: "CONSULT", Name: "Consulting", PricingModel: "hourly", ApprovalPolicy: "never"}, 5000)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.submit(t, "1", now)
		r, err := k.act(ctx, k.agent, r.ID, requests.Action{Name: "start", Version: r.Version}, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		overruns := func() int {
			t.Helper()
			list, err := notify.List(ctx, d, k.manager, 0, 50, false)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, x := range list {
				if x.Event.Kind == notify.OverrunWaiting {
					n++
				}
			}
			return n
		}
		for i, minutes := range []int{60, 600, 600} { // 50.00 is the estimate; 500.00 crosses it
			err := d.InTx(ctx, func(tx bun.Tx) error {
				_, err := requests.LogTime(ctx, tx, k.viewer(k.agent), k.org, r.ID, requests.TimeLog{Minutes: minutes, Date: "2026-03-02", Billable: true}, now.Add(time.Hour))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := min(i, 1); overruns() != want {
				t.Fatalf("after entry %d the manager heard of %d overruns, want %d", i+1, overruns(), want)
			}
		}
	})
}
