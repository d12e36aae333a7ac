package billing_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

// moneyDesk is the books with one persona per capacity, by name: the kit's
// member and manager of the consumer unit (MKT), manager of the provider
// (IT), two finance users, auditor and admin, and two people of this file's
// own: a manager of an unrelated unit (LEGAL) and a finance user who also
// manages MKT. MKT's team MKT-DIG is charged too.
type moneyDesk struct {
	*books
	team     int64
	people   map[string]int64
	mktPaid  billing.Charge // MKT pays IT, undisputed
	teamPaid billing.Charge // MKT-DIG pays IT
	dispute  *billing.Dispute
	pending  *billing.Adjustment // made by "finance", above the limit
}

var personas = []string{"member", "mktmgr", "itmgr", "legalmgr", "finance", "finance2", "finmgr", "auditor", "admin"}

func newMoneyDesk(t *testing.T, d *db.DB) *moneyDesk {
	t.Helper()
	k := &moneyDesk{books: newBooks(t, d, units.ModeChargeback)}
	p := k.People
	k.team = k.Units.MKTDigital
	k.people = map[string]int64{"member": p.Member, "mktmgr": p.Manager, "itmgr": p.ITManager, "finance": p.Finance,
		"finance2": p.Finance2, "auditor": p.Auditor, "admin": p.Admin,
		"legalmgr": k.AddPerson(t, "legalmgr", testkit.Grant{Unit: k.Units.LEGAL, Role: "manager"}),
		"finmgr":   k.AddPerson(t, "finmgr", testkit.Grant{Role: "finance"}, testkit.Grant{Unit: k.consumer, Role: "manager"})}
	at := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	k.mktPaid = k.charge1(t, k.consumer, at)
	disputed := k.charge1(t, k.consumer, at)
	k.teamPaid = k.charge1(t, k.team, at)
	if err := k.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
		if k.dispute, err = billing.RaiseDispute(ctx, tx, k.viewer("mktmgr"), disputed.ID, "not ours", at); err != nil {
			return err
		}
		k.pending, err = billing.CreateAdjustment(ctx, tx, k.viewer("finance"), billing.Adjustment{DebitUnitID: k.consumer,
			CreditUnitID: k.provider, AmountMinor: adjustmentLimit + 1, Currency: "EUR", Month: "2026-05", Reason: "recharge"},
			adjustmentLimit, helsinki, at)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return k
}

// charge1 posts one charge of one laptop to unitID.
func (k *moneyDesk) charge1(t *testing.T, unitID int64, at time.Time) billing.Charge {
	t.Helper()
	consumer := k.consumer
	k.consumer = unitID
	defer func() { k.consumer = consumer }()
	return k.charge(t, k.request(t, "1"), "1", at)[0]
}

func (k *moneyDesk) viewer(name string) billing.Viewer {
	return billing.Viewer{UserID: k.people[name], Authz: k.Authz}
}

// TestWhoMayMoveMoney is the rule of who may read and move money, on
// every operation billing offers: allowed (0), forbidden for a viewer who
// sees the object, not found for one who does not. Personas not named in a
// row get its other kind.
func TestWhoMayMoveMoney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		now := time.Date(2026, 7, 10, 9, 0, 0, 0, time.UTC)
		nf, fb := fault.KindNotFound, fault.KindForbidden
		rows := []struct {
			op    string
			run   func(ctx context.Context, tx bun.Tx, v billing.Viewer) error
			want  map[string]fault.Kind
			other fault.Kind
		}{
			{"read a charge of MKT", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.VisibleCharge(ctx, tx, v, k.mktPaid.ID)
				return err
			}, map[string]fault.Kind{"mktmgr": 0, "itmgr": 0, "finance": 0, "finance2": 0, "finmgr": 0, "auditor": 0}, nf},
			{"read a charge of MKT's team", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.VisibleCharge(ctx, tx, v, k.teamPaid.ID)
				return err
			}, map[string]fault.Kind{"mktmgr": 0, "itmgr": 0, "finance": 0, "finance2": 0, "finmgr": 0, "auditor": 0}, nf},
			{"list charges", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.ListCharges(ctx, tx, v, billing.ChargeFilter{Limit: 10})
				return err
			}, map[string]fault.Kind{"member": nf, "admin": nf}, 0}, // legalmgr lists LEGAL's charges: none
			{"raise a dispute", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.RaiseDispute(ctx, tx, v, k.mktPaid.ID, "too dear", now)
				return err
			}, map[string]fault.Kind{"mktmgr": 0, "finmgr": 0, "itmgr": fb, "finance": fb, "finance2": fb, "auditor": fb}, nf},
			{"settle a dispute", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.SettleDispute(ctx, tx, v, billing.Settlement{DisputeID: k.dispute.ID, Action: "accept",
					CreditMinor: 100}, helsinki, now)
				return err
			}, map[string]fault.Kind{"finance": 0, "finance2": 0, "finmgr": fb, "mktmgr": fb, "itmgr": fb, "auditor": fb}, nf},
			{"put a month under review", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.MovePeriod(ctx, tx, v, "2026-05", "review", helsinki, now)
				return err
			}, map[string]fault.Kind{"finance": 0, "finance2": 0, "finmgr": 0, "auditor": fb}, nf},
			{"record an adjustment", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.CreateAdjustment(ctx, tx, v, billing.Adjustment{DebitUnitID: k.consumer, CreditUnitID: k.provider,
					AmountMinor: 500, Currency: "EUR", Month: "2026-05", Reason: "correction"}, adjustmentLimit, helsinki, now)
				return err
			}, map[string]fault.Kind{"finance": 0, "finance2": 0, "finmgr": 0, "auditor": fb}, nf},
			{"approve an adjustment", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.DecideAdjustment(ctx, tx, v, k.pending.ID, "approve", "", now)
				return err
			}, map[string]fault.Kind{"finance2": 0, "finmgr": 0, "finance": fb, "auditor": fb}, nf},
			{"read MKT's budgets", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				return v.MayReadBudget(k.consumer)
			}, map[string]fault.Kind{"mktmgr": 0, "finance": 0, "finance2": 0, "finmgr": 0, "auditor": 0}, nf},
			{"set MKT's budget", func(ctx context.Context, tx bun.Tx, v billing.Viewer) error {
				_, err := billing.SetBudget(ctx, tx, v, billing.Budget{UnitID: k.consumer, Month: "2026-07", AmountMinor: 100000,
					Currency: "EUR", WarnPct: billing.DefaultWarnPct}, helsinki, now)
				return err
			}, map[string]fault.Kind{"finance": 0, "finance2": 0, "finmgr": 0, "mktmgr": fb, "auditor": fb}, nf},
		}
		ctx := context.Background()
		for _, r := range rows {
			t.Run(r.op, func(t *testing.T) {
				for _, name := range personas {
					want, ok := r.want[name]
					if !ok {
						want = r.other
					}
					err := d.InTx(ctx, func(tx bun.Tx) error {
						if err := r.run(ctx, tx, k.viewer(name)); err != nil {
							return err
						}
						return errRollback // every row starts from the same books
					})
					got := fault.Kind(0)
					if fe, ok := fault.As(err); ok {
						got = fe.Kind
					} else if !errors.Is(err, errRollback) {
						t.Fatalf("%s: %v", name, err)
					}
					if got != want {
						t.Errorf("%s as %s: kind %d (%v), want %d", r.op, name, got, err, want)
					}
				}
			})
		}
	})
}

// TestChargeScopeFollowsTheUnitTree lists what each persona may read:
// managers their unit's charges and those of the units below, the provider
// what it billed, finance and auditors everything; -1 is not found.
func TestChargeScopeFollowsTheUnitTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		want := map[string]int{"member": -1, "mktmgr": 3, "itmgr": 3, "legalmgr": 0, "finance": 3, "auditor": 3, "admin": -1}
		for name, n := range want {
			rows, err := billing.ListCharges(context.Background(), d, k.viewer(name), billing.ChargeFilter{Limit: 10})
			got := len(rows)
			if fault.Is(err, fault.KindNotFound) {
				got = -1
			} else if err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("%s lists %d charges (%v); want %d", name, got, err, n)
			}
		}
	})
}

// TestFinanceManagerCannotSettleOwnUnitsDispute: a finance user who manages
// a unit raises a dispute on its charge and may not accept it himself; a
// finance user apart from the unit and the dispute settles it.
func TestFinanceManagerCannotSettleOwnUnitsDispute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		at := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
		var dispute *billing.Dispute
		if err := k.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
			dispute, err = billing.RaiseDispute(ctx, tx, k.viewer("finmgr"), k.mktPaid.ID, "billed twice", at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		accept := billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: k.mktPaid.AmountMinor, Note: "agreed"}
		err := k.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := billing.SettleDispute(ctx, tx, k.viewer("finmgr"), accept, helsinki, at)
			return err
		})
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindForbidden || fe.Code != "own_dispute" {
			t.Fatalf("the raiser, a manager of the unit, settled his own dispute: %v", err)
		}
		if got, err := billing.GetDispute(context.Background(), d, dispute.ID); err != nil || got.Status != billing.DisputeOpen || got.EntryID != nil {
			t.Fatalf("after the refusal the dispute is %+v, %v", got, err)
		}
		if err := k.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := billing.SettleDispute(ctx, tx, k.viewer("finance"), accept, helsinki, at)
			return err
		}); err != nil {
			t.Fatalf("another finance user may settle it: %v", err)
		}
		k.assertClean(t)
	})
}

// TestRefusedMoneyMovesAreAudited: a refused settlement or period move rolls
// back, but the attempt stays in the audit trail with who tried and why.
func TestRefusedMoneyMovesAreAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		ctx, at := context.Background(), time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
		settle := billing.Settlement{DisputeID: k.dispute.ID, Action: "accept", CreditMinor: 1, Note: "mine"}
		err := audit.InTx(ctx, d, func(tx bun.Tx) error {
			_, err := billing.SettleDispute(ctx, tx, k.viewer("mktmgr"), settle, helsinki, at)
			return err
		})
		if !fault.Is(err, fault.KindForbidden) {
			t.Fatalf("the consumer's manager settled a dispute: %v", err)
		}
		err = audit.InTx(ctx, d, func(tx bun.Tx) error {
			_, err := billing.MovePeriod(ctx, tx, k.viewer("auditor"), "2026-04", "close", helsinki, at)
			return err
		})
		if !fault.Is(err, fault.KindForbidden) {
			t.Fatalf("the auditor closed a period: %v", err)
		}
		for _, want := range []struct {
			object, id, who string
		}{{"dispute", strconv.FormatInt(k.dispute.ID, 10), "mktmgr"}, {"period", "2026-04", "auditor"}} {
			n, err := d.NewSelect().Table("audit_events").
				Where("object_type = ? AND object_id = ? AND action = 'refuse' AND actor_id = ?", want.object, want.id, k.people[want.who]).Count(ctx)
			if err != nil || n != 1 {
				t.Errorf("refusal of %s %s by %s recorded %d times, %v; want once", want.object, want.id, want.who, n, err)
			}
		}
		if got, err := billing.GetDispute(ctx, d, k.dispute.ID); err != nil || got.Status != billing.DisputeOpen {
			t.Fatalf("after the refusal the dispute is %+v, %v", got, err)
		}
	})
}
