package billing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

const tz = testkit.TimeZone

var helsinki = testkit.Helsinki

// books is the standard organisation (testkit) seen from the ledger: MKT
// (the consumer, on consumerMode when one is given) orders IT's (the
// provider's) per-unit licences at 333.33; finance's user posts.
type books struct {
	*testkit.Kit
	d                  *db.DB
	consumer, provider int64
	service, rate      int64
	user               int64
}

func newBooks(t *testing.T, d *db.DB, consumerMode string) *books {
	t.Helper()
	var opts []testkit.Option
	if consumerMode != "" {
		opts = append(opts, testkit.ChargebackMode("MKT", consumerMode))
	}
	k := testkit.New(t, d, opts...)
	return &books{Kit: k, d: d, consumer: k.Units.MKT, provider: k.Units.IT,
		service: k.Services.Licence.ID, rate: k.Services.Licence.Rate.ID, user: k.People.Finance}
}

// request files a resolved per-unit request row for the fixture's service.
func (b *books) request(t *testing.T, quantity string) int64 {
	t.Helper()
	return b.requestPriced(t, "per_unit", quantity, 33333)
}

// requestPriced files a resolved request row quoted at model and price.
func (b *books) requestPriced(t *testing.T, model, quantity string, priceMinor int64) int64 {
	t.Helper()
	r := &requests.Request{ServiceID: b.service, ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, RequesterID: b.user,
		CreatedBy: b.user, Title: "Laptops", Quantity: quantity, FieldsJSON: "{}", Channel: "portal", Status: requests.Resolved,
		Version: 1, RateID: b.rate, PricingModel: model, UnitPriceMinor: priceMinor, Currency: "EUR",
		SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := b.d.NewInsert().Model(r).Returning("id").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (b *books) charge(t *testing.T, requestID int64, quantity string, at time.Time) []billing.Charge {
	t.Helper()
	ctx := context.Background()
	var charges []billing.Charge
	err := b.d.InTx(ctx, func(tx bun.Tx) (err error) {
		charges, err = billing.ChargeFulfilment(ctx, tx, billing.Fulfilment{RequestID: requestID, Number: "REQ-1", Title: "Laptops",
			ConsumerUnitID: b.consumer, ProviderUnitID: b.provider, ServiceID: b.service, RateID: b.rate, PricingModel: "per_unit",
			Quantity: quantity, UnitPriceMinor: 33333, Currency: "EUR", ResolvedAt: at, ActorID: b.user}, helsinki)
		return err
	})
	if err != nil {
		t.Fatalf("charge: %v", err)
	}
	return charges
}

func (b *books) balance(t *testing.T, unitID int64) int64 {
	t.Helper()
	var sum int64
	err := b.d.NewRaw(`SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.unit_id = ?`, unitID).
		Scan(context.Background(), &sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func (b *books) tx(t *testing.T, fn func(ctx context.Context, tx bun.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	return b.d.InTx(ctx, func(tx bun.Tx) error { return fn(ctx, tx) })
}

func TestChargeDebitsConsumerCreditsProviderOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		at := time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC) // already April in Helsinki
		charges := b.charge(t, b.request(t, "3"), "3", at)
		if len(charges) != 1 {
			t.Fatalf("charges = %d", len(charges))
		}
		c := charges[0]
		if c.AmountMinor != 99999 || c.Quantity != "3" || c.UnitPriceMinor != 33333 || c.Period != "2026-04" || c.Status != billing.ChargePosted {
			t.Fatalf("charge = %+v", c)
		}
		if b.balance(t, b.consumer) != 99999 || b.balance(t, b.provider) != -99999 {
			t.Fatalf("balances %d / %d", b.balance(t, b.consumer), b.balance(t, b.provider))
		}
		if again := b.charge(t, *charges[0].RequestID, "3", at); len(again) != 0 {
			t.Fatalf("a retry posted again: %+v", again)
		}
		if b.balance(t, b.consumer) != 99999 {
			t.Fatal("a retry moved money")
		}
	})
}

func TestLedgerIsAppendOnlyAndBalanced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		b.charge(t, b.request(t, "1"), "1", time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC))
		ctx := context.Background()
		for _, stmt := range []string{
			"UPDATE postings SET amount_minor = 1", "DELETE FROM postings",
			"UPDATE journal_entries SET memo = 'x'", "DELETE FROM journal_entries",
		} {
			if _, err := d.ExecContext(ctx, stmt); err == nil {
				t.Errorf("%s was allowed", stmt)
			}
		}
		err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, _, err := billing.Post(ctx, tx, billing.Entry{Key: "unbalanced", Month: "2026-05", Date: "2026-05-02", Kind: "adjustment",
				Currency: "EUR", Lines: []billing.Line{{UnitID: b.consumer, AmountMinor: 100}, {UnitID: b.provider, AmountMinor: -99}}}, time.Now())
			return err
		})
		if err == nil {
			t.Fatal("an unbalanced entry was posted")
		}
		var entries int
		if err := d.NewRaw("SELECT COUNT(*) FROM journal_entries").Scan(ctx, &entries); err != nil || entries != 1 {
			t.Fatalf("entries = %d, %v", entries, err)
		}
	})
}

func TestClosedPeriodTakesNoPostingsAndLateChargesPointBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC)
		for _, action := range []string{"review", "close"} {
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), "2026-05", action, helsinki, now)
				return err
			}); err != nil {
				t.Fatalf("%s May: %v", action, err)
			}
		}
		late := b.charge(t, b.request(t, "1"), "1", time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC))
		if len(late) != 1 || late[0].Period != "2026-06" || late[0].LateFrom == nil || *late[0].LateFrom != "2026-05" {
			t.Fatalf("late charge = %+v", late)
		}
		err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
			_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), "2026-05", "close", helsinki, now)
			return err
		})
		if !fault.Is(err, fault.KindConflict) {
			t.Fatalf("closing a closed period: %v", err)
		}
	})
}

func TestDisputeAcceptPartialAndFullAndClosingWaits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		b := newBooks(t, d, "")
		now := time.Date(2026, 7, 10, 9, 0, 0, 0, time.UTC)
		var first, second billing.Charge
		var dispute *billing.Dispute
		testkit.Step(t, "a dispute is raised once per charge", func(t *testing.T) {
			first = b.charge(t, b.request(t, "3"), "3", now)[0]
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) (err error) {
				dispute, err = billing.RaiseDispute(ctx, tx, billing.Operator(b.user), first.ID, "we ordered two", now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.RaiseDispute(ctx, tx, billing.Operator(b.user), first.ID, "again", now)
				return err
			}); !fault.Is(err, fault.KindConflict) {
				t.Fatalf("second dispute: %v", err)
			}
		})
		testkit.Step(t, "the month cannot close while the dispute is open", func(t *testing.T) {
			err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), "2026-07", "close", helsinki, now.AddDate(0, 1, 0)) // once July has ended
				return err
			})
			if fe, ok := fault.As(err); !ok || fe.Code != "open_disputes" {
				t.Fatalf("closing with an open dispute: %v", err)
			}
		})
		testkit.Step(t, "a credit of nothing or of more than the charge is refused", func(t *testing.T) {
			for _, credit := range []int64{0, 100000} {
				if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
					_, err := billing.SettleDispute(ctx, tx, billing.Operator(b.user), billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: credit}, helsinki, now)
					return err
				}); !fault.Is(err, fault.KindInvalid) {
					t.Fatalf("credit %d: %v", credit, err)
				}
			}
		})
		testkit.Step(t, "fifty finance users accept at once: one partial credit is posted", func(t *testing.T) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
						_, err := billing.SettleDispute(ctx, tx, billing.Operator(b.user), billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: 33333, Note: "one laptop too many"}, helsinki, now)
						return err
					})
					if err == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					} else if !fault.Is(err, fault.KindConflict) {
						t.Errorf("concurrent accept: %v", err)
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d accepts succeeded", wins)
			}
			if got := b.balance(t, b.consumer); got != 99999-33333 {
				t.Fatalf("consumer balance after partial credit = %d", got)
			}
			settled, err := billing.GetCharge(context.Background(), d, first.ID)
			if err != nil || settled.Status != billing.ChargeCredited {
				t.Fatalf("charge after accept = %+v, %v", settled, err)
			}
		})
		testkit.Step(t, "a full credit of a second charge reverses its entry", func(t *testing.T) {
			second = b.charge(t, b.request(t, "1"), "1", now)[0]
			err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				d2, err := billing.RaiseDispute(ctx, tx, billing.Operator(b.user), second.ID, "never delivered", now)
				if err != nil {
					return err
				}
				_, err = billing.SettleDispute(ctx, tx, billing.Operator(b.user), billing.Settlement{DisputeID: d2.ID, Action: "accept", CreditMinor: second.AmountMinor, Note: "refund"}, helsinki, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var reverses int64
			if err := d.NewRaw("SELECT COUNT(*) FROM journal_entries WHERE reverses_entry_id = ?", *second.EntryID).Scan(context.Background(), &reverses); err != nil || reverses != 1 {
				t.Fatalf("reversing entries = %d, %v", reverses, err)
			}
		})
		testkit.Step(t, "the month closes once its disputes are settled, and takes no new one", func(t *testing.T) {
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(b.user), "2026-07", "close", helsinki, now.AddDate(0, 1, 0))
				return err
			}); err != nil {
				t.Fatalf("closing once disputes are settled: %v", err)
			}
			if err := b.tx(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.RaiseDispute(ctx, tx, billing.Operator(b.user), second.ID, "late", now)
				return err
			}); !fault.Is(err, fault.KindConflict) {
				t.Fatalf("dispute in a closed period: %v", err)
			}
		})
	})
}

func TestShowbackChargesAreMarked(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	b := newBooks(t, d, units.ModeShowback)
	c := b.charge(t, b.request(t, "1"), "1", time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC))
	if len(c) != 1 || !c[0].Showback {
		t.Fatalf("showback charge = %+v", c)
	}
}
