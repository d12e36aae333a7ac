package requests_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// offer adds a service of IT's with the given pricing model and first price.
func (k *desk) offer(t *testing.T, code, model string, priceMinor int64) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := k.DB.InTx(ctx, func(tx bun.Tx) error {
		svc, _, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: k.Units.IT, Code: code, Name: code,
			PricingModel: model, ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
			nil, catalog.Rate{PriceMinor: priceMinor, Currency: "EUR", EffectiveFrom: "2020-01-01"})
		if err != nil {
			return err
		}
		id = svc.ID
		return nil
	})
	if err != nil {
		t.Fatalf("offer %s: %v", code, err)
	}
	return id
}

// startedOrder files an order for service and has the agent start it.
func (k *desk) startedOrder(t *testing.T, service int64, quantity string, at time.Time) *requests.Request {
	t.Helper()
	ctx := context.Background()
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		if r, err = requests.Submit(ctx, tx, k.viewer(k.People.Member), k.Org,
			requests.Order{ServiceID: service, ConsumerUnitID: k.Units.MKT, Title: "Work", Quantity: quantity}, at.Add(-2*time.Hour)); err != nil {
			return err
		}
		r, err = requests.Act(ctx, tx, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "start", Version: r.Version}, at.Add(-time.Hour))
		return err
	})
	if err != nil {
		t.Fatalf("file and start: %v", err)
	}
	return r
}

// step takes one action through requests.Perform and fails the test unless
// it succeeds.
func (k *desk) step(t *testing.T, userID int64, r *requests.Request, action string, at time.Time) *requests.Request {
	t.Helper()
	next, err := requests.Perform(context.Background(), k.DB, k.viewer(userID), k.Org, r.ID, requests.Action{Name: action, Version: r.Version}, at)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return next
}

func (k *desk) logTime(r *requests.Request, minutes int, date string, billable bool, at time.Time) (*requests.TimeEntry, error) {
	ctx := context.Background()
	var e *requests.TimeEntry
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		e, err = requests.LogTime(ctx, tx, k.viewer(k.People.Agent), k.Org, r.ID, requests.TimeLog{Minutes: minutes, Date: date, Billable: billable}, at)
		return err
	})
	return e, err
}

func (k *desk) mustLogTime(t *testing.T, r *requests.Request, minutes int, date string, billable bool, at time.Time) int64 {
	t.Helper()
	e, err := k.logTime(r, minutes, date, billable, at)
	if err != nil {
		t.Fatalf("log %d minutes on %s: %v", minutes, date, err)
	}
	return e.ID
}

func (k *desk) covered(t *testing.T, c billing.Charge) []int64 {
	t.Helper()
	ids, err := billing.ChargedTime(context.Background(), k.DB, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (k *desk) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := k.DB.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReopenedHourlyRequestChargesTheNewTimeOnce is issue 10's under-billing:
// 60 billable minutes, resolve (charged); reopen, 120 more billable minutes,
// resolve again. The second resolution posts a supplementary charge for the
// 120 minutes alone, under its own key and journal entry, priced at the
// rate in force on each entry's day; a third resolution without new time
// posts nothing. Each charge names the entries it covers, and each entry is
// covered once.
func TestReopenedHourlyRequestChargesTheNewTimeOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d)
		support := k.Services.Help.ID // 60.00 an hour
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.startedOrder(t, support, "4", at) // estimated at 4 h, within what is logged: no overrun
		first := k.mustLogTime(t, r, 60, "2026-03-02", true, at)
		k.mustLogTime(t, r, 30, "2026-03-02", false, at)
		r = k.step(t, k.People.Agent, r, "resolve", at)
		charges := k.charges(t, r.ID)
		if len(charges) != 1 || charges[0].AmountMinor != 6000 || charges[0].Quantity != "1" {
			t.Fatalf("first resolution: %+v, want one charge of 60.00 for 1 h", charges)
		}

		// A price rise from 5 March: the new time is priced by its day.
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := catalog.AddRate(ctx, tx, 0, catalog.Rate{ServiceID: support, PriceMinor: 9000, Currency: "EUR", EffectiveFrom: "2026-03-05"}, "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		later := at.Add(4 * 24 * time.Hour) // 6 March
		r = k.step(t, k.People.Member, r, "reopen", later)
		before := k.mustLogTime(t, r, 60, "2026-03-04", true, later)
		after := k.mustLogTime(t, r, 60, "2026-03-06", true, later)
		r = k.step(t, k.People.Agent, r, "resolve", later)
		charges = k.charges(t, r.ID)
		if len(charges) != 3 {
			t.Fatalf("after the second resolution: %d charges %+v, want the first and one supplementary per rate", len(charges), charges)
		}
		if got := k.covered(t, charges[0]); !slices.Equal(got, []int64{first}) {
			t.Errorf("the first charge covers %v, want [%d]", got, first)
		}
		if c := charges[1]; c.AmountMinor != 6000 || c.UnitPriceMinor != 6000 || !slices.Equal(k.covered(t, c), []int64{before}) {
			t.Errorf("supplementary charge at the old rate: %+v covering %v", c, k.covered(t, c))
		}
		if c := charges[2]; c.AmountMinor != 9000 || c.UnitPriceMinor != 9000 || !slices.Equal(k.covered(t, c), []int64{after}) {
			t.Errorf("supplementary charge at the new rate: %+v covering %v", c, k.covered(t, c))
		}
		keys, entries := map[string]bool{}, map[int64]bool{}
		for _, c := range charges {
			keys[c.SourceKey], entries[*c.EntryID] = true, true
			if !strings.Contains(c.Description, "time entries #") {
				t.Errorf("charge %d says %q, not which time entries it covers", c.ID, c.Description)
			}
		}
		if len(keys) != 3 || len(entries) != 3 {
			t.Errorf("charges share keys %v or entries %v", keys, entries)
		}
		if got := k.count(t, "SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.unit_id = ?", k.Units.MKT); got != 21000 {
			t.Errorf("Marketing paid %d, want 210.00 for three hours", got)
		}

		// The statement shows the supplementary charges as lines of the same request.
		lines := 0
		for l, err := range billing.StatementLines(ctx, d, billing.ConsumerSide, k.Units.MKT, "2026-03") {
			if err != nil {
				t.Fatal(err)
			}
			if l.RequestID != nil && *l.RequestID == r.ID {
				lines++
			}
		}
		if lines != 3 {
			t.Errorf("the statement has %d lines for the request, want 3", lines)
		}

		r = k.step(t, k.People.Member, r, "reopen", later)
		k.mustLogTime(t, r, 45, "2026-03-06", false, later)
		r = k.step(t, k.People.Agent, r, "resolve", later)
		if got := k.charges(t, r.ID); len(got) != 3 {
			t.Errorf("a resolution without new billable time posted %d charges", len(got)-3)
		}
		if n := k.count(t, "SELECT COUNT(*) FROM time_entries t WHERE t.billable AND NOT EXISTS (SELECT 1 FROM charge_time_entries l WHERE l.time_entry_id = t.id)"); n != 0 {
			t.Errorf("%d billable time entries are not charged", n)
		}
	})
}

// TestReopenedFixedAndPerUnitRequestsChargeOnce resolves a fixed and a
// per-unit request, reopens them and resolves them again, the second time
// in the next month: nothing new is posted.
func TestReopenedFixedAndPerUnitRequestsChargeOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		at := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
		next := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			name     string
			service  int64
			quantity string
			want     int64
		}{
			{"fixed", k.Services.Laptop.ID, "", 120000},
			{"per_unit", k.Services.Licence.ID, "3", 99999},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := k.startedOrder(t, tc.service, tc.quantity, at)
				r = k.step(t, k.People.Agent, r, "resolve", at)
				r = k.step(t, k.People.Member, r, "reopen", next)
				k.step(t, k.People.Agent, r, "resolve", next)
				charges := k.charges(t, r.ID)
				if len(charges) != 1 || charges[0].AmountMinor != tc.want || charges[0].Period != "2026-03" {
					t.Fatalf("charges = %+v, want one of %d in 2026-03", charges, tc.want)
				}
				if n := k.count(t, "SELECT COUNT(*) FROM journal_entries WHERE idempotency_key LIKE ?", fmt.Sprintf("request:%d:%%", r.ID)); n != 1 {
					t.Errorf("%d journal entries", n)
				}
			})
		}
	})
}

// TestReopenedMonthlyRequestKeepsOneSubscription: a re-resolution of a
// monthly request starts no second subscription and charges nothing.
func TestReopenedMonthlyRequestKeepsOneSubscription(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		network := k.offer(t, "NET", "monthly", 2500)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.startedOrder(t, network, "", at)
		r = k.step(t, k.People.Agent, r, "resolve", at)
		r = k.step(t, k.People.Member, r, "reopen", at.Add(time.Hour))
		k.step(t, k.People.Agent, r, "resolve", at.Add(2*time.Hour))
		if n := k.count(t, "SELECT COUNT(*) FROM subscriptions WHERE request_id = ?", r.ID); n != 1 {
			t.Errorf("%d subscriptions, want 1", n)
		}
		var start string
		if err := d.NewRaw("SELECT start_date FROM subscriptions WHERE request_id = ?", r.ID).Scan(context.Background(), &start); err != nil || start != "2026-03-02" {
			t.Errorf("subscription starts %q (%v), want the first resolution's day", start, err)
		}
		if got := k.charges(t, r.ID); len(got) != 0 {
			t.Errorf("the resolutions charged %+v; the billing run charges a subscription", got)
		}
	})
}

// TestBillableTimeOnAResolvedRequestIsRefused: a resolved request's charge
// is posted and it may close without another resolution, so billable time
// logged on it would never be charged. It is refused (nothing written);
// non-billable time is still taken, and after a reopen billable time is
// charged by the next resolution.
func TestBillableTimeOnAResolvedRequestIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		support := k.Services.Help.ID
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.startedOrder(t, support, "4", at) // estimated at 4 h: no overrun
		k.mustLogTime(t, r, 60, "2026-03-02", true, at)
		r = k.step(t, k.People.Agent, r, "resolve", at)

		_, err := k.logTime(r, 30, "2026-03-02", true, at.Add(time.Hour))
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindConflict || fe.Code != "request_resolved" {
			t.Fatalf("billable time on a resolved request: %v, want a request_resolved conflict", err)
		}
		if n := k.count(t, "SELECT COUNT(*) FROM time_entries WHERE request_id = ?", r.ID); n != 1 {
			t.Fatalf("%d time entries after the refusal, want 1", n)
		}
		k.mustLogTime(t, r, 30, "2026-03-02", false, at.Add(time.Hour))

		r = k.step(t, k.People.Member, r, "reopen", at.Add(2*time.Hour))
		k.mustLogTime(t, r, 30, "2026-03-02", true, at.Add(2*time.Hour))
		k.step(t, k.People.Agent, r, "resolve", at.Add(3*time.Hour))
		var total int64
		for _, c := range k.charges(t, r.ID) {
			total += c.AmountMinor
		}
		if total != 9000 {
			t.Errorf("charged %d, want 90.00 for 90 billable minutes", total)
		}
	})
}

// TestTimeLoggedDuringAResolutionIsChargedOrRefused races agents logging
// billable time against the resolution: each entry that is written is
// covered by the resolution's charge; the others are refused.
func TestTimeLoggedDuringAResolutionIsChargedOrRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		support := k.Services.Help.ID
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := k.startedOrder(t, support, "4", at) // estimated at 4 h: no overrun
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := k.logTime(r, 10, "2026-03-02", true, at); err != nil && !fault.Is(err, fault.KindConflict) {
					t.Errorf("log time: %v", err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := requests.Perform(context.Background(), d, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: "resolve", Version: r.Version}, at); err != nil {
				t.Errorf("resolve: %v", err)
			}
		}()
		wg.Wait()
		logged := k.count(t, "SELECT COUNT(*) FROM time_entries WHERE request_id = ?", r.ID)
		if n := k.count(t, "SELECT COUNT(*) FROM time_entries t WHERE t.request_id = ? AND NOT EXISTS (SELECT 1 FROM charge_time_entries l WHERE l.time_entry_id = t.id)", r.ID); n != 0 {
			t.Fatalf("%d of %d billable entries escaped the resolution's charge", n, logged)
		}
		var charged int64
		for _, c := range k.charges(t, r.ID) {
			charged += c.AmountMinor
		}
		if want := int64(logged) * 1000; charged != want {
			t.Fatalf("charged %d for %d entries of 10 minutes, want %d", charged, logged, want)
		}
	})
}
