package requests_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

// TestARequestsLifeTellsTheRightPeople walks one order needing approval
// through its life and checks, after each step, who was told what: the
// requester's receipt, the approvers (the managers of the consumer unit and
// of its parent, never the requester), the assignee, the customer's answer,
// and that an internal comment reaches nobody on the consumer side.
func TestARequestsLifeTellsTheRightPeople(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newNotifyWorld(t, d)
		p := w.People
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
				r, err = requests.Act(ctx, tx, w.viewer(who), w.Org, r.ID, requests.Action{Name: name, Version: r.Version, AssigneeID: assignee, Note: "why"}, at)
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
			r, err = requests.Submit(ctx, tx, w.viewer(p.Member), w.Org, requests.Order{ServiceID: w.Services.Phone.ID, ConsumerUnitID: w.Units.MKT, Title: "Phone"}, at)
			return err
		})
		w.want(t, "after submit", map[int64][]notify.Kind{
			p.Member: {notify.RequestFiled}, w.hqManager: {notify.ApprovalWaiting}, p.Manager: {notify.ApprovalWaiting},
		})
		step("approve", act(p.Manager, "approve", 0))
		step("assign", act(p.ITManager, "assign", p.Agent))
		step("start", act(p.Agent, "start", 0))
		step("internal comment", comment(p.Agent, true))
		w.want(t, "after approve, assign, start and an internal comment", map[int64][]notify.Kind{
			p.Member: {notify.RequestFiled, notify.RequestApproved}, w.hqManager: {notify.ApprovalWaiting},
			p.Manager: {notify.ApprovalWaiting}, p.Agent: {notify.QueueNew, notify.RequestAssigned},
		})
		step("public comment", comment(p.Agent, false))
		step("wait", act(p.Agent, "wait", 0))
		step("customer answers", comment(p.Member, false))
		step("resolve", act(p.Agent, "resolve", 0))
		w.want(t, "at the end", map[int64][]notify.Kind{
			p.Member:    {notify.RequestFiled, notify.RequestApproved, notify.ProviderCommented, notify.WaitingOnCustomer, notify.RequestResolved},
			w.hqManager: {notify.ApprovalWaiting}, p.Manager: {notify.ApprovalWaiting},
			p.Agent: {notify.QueueNew, notify.RequestAssigned, notify.CustomerAnswered},
		})
		mails, err := d.NewSelect().Table("outbox").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if mails != 10 {
			t.Fatalf("%d e-mails in the outbox, want one per notification (10)", mails)
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
			_, err := requests.Submit(ctx, tx, w.viewer(w.People.Manager), w.Org, requests.Order{ServiceID: w.Services.Phone.ID, ConsumerUnitID: w.Units.MKT, Title: "Phone"}, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		w.want(t, "after the manager's own order", map[int64][]notify.Kind{
			w.People.Manager: {notify.RequestFiled}, w.hqManager: {notify.ApprovalWaiting},
		})
	})
}

// TestAnOverrunTellsTheApproversOnce: the time entry that takes an hourly
// request past its estimate plus the tolerance tells the consumer unit's
// manager that an overrun waits, once; the entries after it do not.
func TestAnOverrunTellsTheApproversOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d, testkit.Price("HELP", 5000))
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.submit(t, k.Services.Help.ID, "1", now)
		r, err := k.act(ctx, k.People.Agent, r.ID, requests.Action{Name: "start", Version: r.Version}, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		overruns := func() int {
			t.Helper()
			list, err := notify.List(ctx, d, k.People.Manager, 0, 50, false)
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
				_, err := requests.LogTime(ctx, tx, k.viewer(k.People.Agent), k.Org, r.ID, requests.TimeLog{Minutes: minutes, Date: "2026-03-02", Billable: true}, now.Add(time.Hour))
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

// notifyWorld is the kit's organisation with a manager of HQ, the parent of
// MKT, so approvals reach a unit's ancestors' managers too.
type notifyWorld struct {
	*desk
	hqManager int64
}

func newNotifyWorld(t *testing.T, d *db.DB) *notifyWorld {
	t.Helper()
	w := &notifyWorld{desk: newDesk(t, d)}
	w.hqManager = w.AddPerson(t, "hqmgr", testkit.Grant{Unit: w.Units.HQ, Role: "manager"})
	return w
}

// want checks every user's notifications, oldest first; users not named
// have none.
func (w *notifyWorld) want(t *testing.T, when string, want map[int64][]notify.Kind) {
	t.Helper()
	p := w.People
	for _, user := range []int64{p.Member, p.Agent, p.ITManager, p.Manager, w.hqManager, p.Finance} {
		got, err := notify.List(context.Background(), w.DB, user, 0, 100, false)
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
