package requests_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

func (k *desk) setBudget(t *testing.T, month string, amountMinor int64, hard bool, now time.Time) {
	t.Helper()
	ctx := context.Background()
	err := k.DB.InTx(ctx, func(tx bun.Tx) error {
		_, err := billing.SetBudget(ctx, tx, billing.Viewer{UserID: k.People.Finance, Authz: k.Authz},
			billing.Budget{UnitID: k.Units.MKT, Month: month, AmountMinor: amountMinor, Currency: "EUR", WarnPct: 80, Hard: hard}, k.Org.Location, now)
		return err
	})
	if err != nil {
		t.Fatalf("set budget: %v", err)
	}
}

func (k *desk) submit(t *testing.T, service int64, quantity string, now time.Time) *requests.Request {
	t.Helper()
	ctx := context.Background()
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		r, err = requests.Submit(ctx, tx, k.viewer(k.People.Member), k.Org, requests.Order{ServiceID: service, ConsumerUnitID: k.Units.MKT,
			Title: "Order", Quantity: quantity}, now)
		return err
	})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return r
}

func (k *desk) lastNote(t *testing.T, id int64, action string) string {
	t.Helper()
	var ev requests.Event
	if err := k.DB.NewSelect().Model(&ev).Where("request_id = ? AND action = ?", id, action).OrderExpr("id DESC").Limit(1).
		Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ev.Note
}

func eur(minor int64) money.Money { return money.Money{Minor: minor, Currency: "EUR"} }

// TestApprovalRechecksHardBudget: three laptops of 1,450.00 wait for
// approval when finance sets the month's budget to 1,500.00. Approving the
// first leaves 50.00; on a hard budget the second and third approvals are
// refused with the numbers (budget, used, this order, remaining) and stay
// waiting; on a soft one they go through and the approval event shows the
// overrun.
func TestApprovalRechecksHardBudget(t *testing.T) {
	for _, hard := range []bool{true, false} {
		name := map[bool]string{true: "hard", false: "soft"}[hard]
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				k := newDesk(t, d, testkit.Price("PHONE", 145000))
				now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
				var laptops []*requests.Request
				for range 3 {
					r := k.submit(t, k.Services.Phone.ID, "", now)
					if r.Status != requests.PendingApproval {
						t.Fatalf("laptop %d: %s, want pending_approval", r.ID, r.Status)
					}
					laptops = append(laptops, r)
				}
				k.setBudget(t, "2026-03", 150000, hard, now)

				first, err := k.act(ctx, k.People.Manager, laptops[0].ID, requests.Action{Name: "approve", Version: laptops[0].Version}, now.Add(time.Hour))
				if err != nil || first.Status != requests.Open {
					t.Fatalf("first approval: %v", err)
				}
				for _, r := range laptops[1:] {
					approved, err := k.act(ctx, k.People.Manager, r.ID, requests.Action{Name: "approve", Version: r.Version}, now.Add(time.Hour))
					if !hard {
						if err != nil || approved.Status != requests.Open {
							t.Fatalf("approval of %d on a soft budget: %v", r.ID, err)
						}
						if note := k.lastNote(t, r.ID, "approve"); !strings.Contains(note, "approved over the budget for 2026-03") ||
							!strings.Contains(note, "of 1500.00 EUR used") {
							t.Fatalf("approval note = %q, want the overrun shown", note)
						}
						continue
					}
					fe, ok := fault.As(err)
					if !ok || fe.Code != "budget_exceeded" {
						t.Fatalf("approval of %d on a hard budget: %v, want budget_exceeded", r.ID, err)
					}
					if !strings.Contains(fe.Message, "1450.00 EUR") || !strings.Contains(fe.Message, "1450.00 EUR of 1500.00 EUR used, 50.00 EUR remaining") {
						t.Fatalf("refusal message = %q, want the order, use, budget and what remains", fe.Message)
					}
					b, _ := fe.Details["budget"].(map[string]any)
					if b["amount"] != eur(150000) || b["used"] != eur(145000) || b["order"] != eur(145000) || b["remaining"] != eur(5000) {
						t.Fatalf("refusal details = %v", fe.Details)
					}
					if after := k.reload(t, r.ID); after.Status != requests.PendingApproval || after.Version != r.Version {
						t.Fatalf("refused laptop %d is %s v%d, want still pending", r.ID, after.Status, after.Version)
					}
				}
				open, err := d.NewSelect().Model((*requests.Request)(nil)).Where("status = ?", requests.Open).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 1, false: 3}[hard]; int(open) != want {
					t.Fatalf("%d laptops approved, want %d", open, want)
				}
			})
		})
	}
}

// TestHourlyOverrunNeedsConsumerApproval: an hourly order estimated at
// 50.00 takes 20 hours (1,000.00) against a hard budget of 100.00.
// Resolving is refused naming the amount until a manager of the ordering
// unit approves the overrun; neither the requester nor the agent may
// approve it. The approval does not take the hard budget below zero:
// resolving stays refused until finance raises the budget, and then posts.
func TestHourlyOverrunNeedsConsumerApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d, testkit.Price("HELP", 5000))
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var r, seen *requests.Request
		resolve := func(at time.Time) error {
			cur := k.reload(t, r.ID)
			_, err := requests.Perform(ctx, d, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "resolve", Version: cur.Version}, at)
			return err
		}

		testkit.Step(t, "file one hour and log twenty against a hard budget of 100.00", func(t *testing.T) {
			k.setBudget(t, "2026-03", 10000, true, now)
			r = k.submit(t, k.Services.Help.ID, "1", now)
			if r.Status != requests.Open || r.EstimateMinor != 5000 {
				t.Fatalf("filed: %s estimate %d, want open at 50.00", r.Status, r.EstimateMinor)
			}
			var err error
			if r, err = k.act(ctx, k.People.Agent, r.ID, requests.Action{Name: "start", Version: r.Version}, now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			err = d.InTx(ctx, func(tx bun.Tx) error {
				for _, day := range []string{"2026-03-02", "2026-03-02"} {
					if _, err := requests.LogTime(ctx, tx, k.viewer(k.People.Agent), k.Org, r.ID, requests.TimeLog{Minutes: 600, Date: day, Billable: true}, now.Add(time.Hour)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("log 20 hours: %v", err)
			}
		})

		testkit.Step(t, "resolving over the estimate is refused and posts nothing", func(t *testing.T) {
			err := resolve(now.Add(2 * time.Hour))
			fe, ok := fault.As(err)
			if !ok || fe.Code != "overrun_needs_approval" || !strings.Contains(fe.Message, "1000.00 EUR") || !strings.Contains(fe.Message, "950.00 EUR") {
				t.Fatalf("resolve over the estimate: %v, want overrun_needs_approval naming 1000.00 and 950.00", err)
			}
			if o, _ := fe.Details["overrun"].(map[string]any); o["amount"] != eur(100000) || o["status"] != billing.OverrunPending {
				t.Fatalf("refusal details = %v", fe.Details)
			}
			if charges := k.charges(t, r.ID); len(charges) != 0 {
				t.Fatalf("a refused resolution posted %+v", charges)
			}
			if seen, err = requests.Get(ctx, d, k.viewer(k.People.Manager), r.ID); err != nil {
				t.Fatal(err)
			}
			if !seen.OverrunWaits() || seen.Overrun.AmountMinor != 100000 || seen.Overrun.EstimateMinor != 5000 {
				t.Fatalf("the request shows overrun %+v, want 1000.00 against 50.00 waiting", seen.Overrun)
			}
		})

		testkit.Step(t, "only a manager of the ordering unit is offered and may approve the overrun", func(t *testing.T) {
			if !slices.Contains(k.viewer(k.People.Manager).AllowedActions(seen, now), "approve_overrun") {
				t.Fatalf("the manager is offered %v", k.viewer(k.People.Manager).AllowedActions(seen, now))
			}
			for who, id := range map[string]int64{"requester": k.People.Member, "agent": k.People.Agent} {
				if slices.Contains(k.viewer(id).AllowedActions(seen, now), "approve_overrun") {
					t.Fatalf("the %s is offered approve_overrun", who)
				}
				// Through the entry point that owns its transaction, so the
				// refusal is kept although the change rolls back.
				_, err := requests.Perform(ctx, k.DB, k.viewer(id), k.Org, r.ID, requests.Action{Name: "approve_overrun", Version: seen.Version}, now.Add(3*time.Hour))
				if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindForbidden || fe.Details["reason"] != who {
					t.Fatalf("overrun approval by the %s: %v, want forbidden with reason %s", who, err, who)
				}
				refused, err := k.DB.NewSelect().Table("audit_events").Where("object_type = 'request' AND object_id = ? AND action = 'refuse' AND actor_id = ?",
					strconv.FormatInt(r.ID, 10), id).Count(ctx)
				if err != nil || refused != 1 {
					t.Fatalf("the %s's refused overrun approval is in the audit trail %d times (%v), want once", who, refused, err)
				}
			}
		})

		testkit.Step(t, "the manager's approval is recorded and cannot change", func(t *testing.T) {
			approved, err := k.act(ctx, k.People.Manager, r.ID, requests.Action{Name: "approve_overrun", Version: seen.Version}, now.Add(3*time.Hour))
			if err != nil || approved.OverrunWaits() || approved.Overrun.Status() != billing.OverrunApproved {
				t.Fatalf("overrun approval by the manager: %+v, %v", approved, err)
			}
			var rows int
			if err := d.NewRaw("SELECT COUNT(*) FROM overrun_approvals WHERE request_id = ? AND amount_minor = ? AND approved_by = ?",
				r.ID, 100000, k.People.Manager).Scan(ctx, &rows); err != nil || rows != 1 {
				t.Fatalf("%d overrun approvals recorded, %v", rows, err)
			}
			for _, stmt := range []string{"UPDATE overrun_approvals SET amount_minor = amount_minor + 1", "DELETE FROM overrun_approvals"} {
				if _, err := d.NewRaw(stmt).Exec(ctx); err == nil {
					t.Fatalf("%s: the database let an overrun approval change", stmt)
				}
			}
			if note := k.lastNote(t, r.ID, "approve_overrun"); !strings.Contains(note, "1000.00 EUR") {
				t.Fatalf("approval note = %q", note)
			}
		})

		// The consumer approved 1,000.00, but 100.00 of hard budget cannot
		// take it: only finance may let the books go there.
		testkit.Step(t, "the hard budget still refuses the posting", func(t *testing.T) {
			err := resolve(now.Add(4 * time.Hour))
			if fe, ok := fault.As(err); !ok || fe.Code != "budget_exceeded" || !strings.Contains(fe.Message, "finance must raise the budget") {
				t.Fatalf("resolve beyond the hard budget: %v, want budget_exceeded", err)
			}
			if charges := k.charges(t, r.ID); len(charges) != 0 {
				t.Fatalf("a posting took the hard budget below zero: %+v", charges)
			}
		})

		testkit.Step(t, "once finance raises the budget, resolving posts 1000.00 and the budget stays whole", func(t *testing.T) {
			k.setBudget(t, "2026-03", 110000, true, now.Add(5*time.Hour))
			if err := resolve(now.Add(6 * time.Hour)); err != nil {
				t.Fatalf("resolve after finance raised the budget: %v", err)
			}
			if charges := k.charges(t, r.ID); len(charges) != 1 || charges[0].AmountMinor != 100000 {
				t.Fatalf("charges = %+v, want one of 1000.00", charges)
			}
			b, err := billing.GetBudget(ctx, d, k.Units.MKT, "2026-03")
			if err != nil {
				t.Fatal(err)
			}
			use, err := billing.BudgetUse(ctx, d, k.Units.MKT, "2026-03", k.Org.Location)
			if err != nil || b.Remaining(use) < 0 {
				t.Fatalf("remaining %d after the posting (%+v, %v), want never below zero", b.Remaining(use), use, err)
			}
		})
	})
}
