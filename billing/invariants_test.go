package billing_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// TestLedgerInvariantsUnderRandomOperations applies a seeded random mix of
// charges, retries, subscriptions, billing runs, disputes, settlements,
// adjustments (with their four-eyes approval), period moves, and requests
// worked through the requests domain (resolved, reopened and resolved again
// with more time, overruns approved by a manager of the consumer unit and
// refused to the requester and the agent), some of them concurrently (two
// closes of one month among them), and after every step checks the books
// two ways: billing.Verify, and a shadow ledger the test keeps by
// itself (balances per unit, charges per source, what each closed month
// held when it closed). TISKI_SEED replays a run; TISKI_INVARIANT_STEPS
// overrides the number of steps.
func TestLedgerInvariantsUnderRandomOperations(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TISKI_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("TISKI_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with TISKI_SEED=%d)", seed, seed)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		steps := 2000
		if d.Engine == db.Postgres {
			steps = 400
		}
		if testing.Short() {
			steps /= 5
		}
		if s := os.Getenv("TISKI_INVARIANT_STEPS"); s != "" {
			steps, _ = strconv.Atoi(s)
		}
		// The steps run as episodes, each on a fresh ledger: Verify reads the
		// whole ledger after every step, so a ledger of every step would
		// make the test quadratic. Each episode's clock covers about
		// fourteen months, enough to close months and post late.
		const episodeSteps = 50
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var w *world
		defer func() {
			if t.Failed() && w != nil {
				t.Logf("failed in episode %d at step %d; replay with TISKI_SEED=%d", w.episode, w.step, seed)
			}
		}()
		var stats [5]int
		var desk deskStats
		fresh := freshLedgers(t, d)
		for done := 0; done < steps && !t.Failed(); done += episodeSteps {
			w = newWorld(t, fresh(), rng)
			w.episode = done/episodeSteps + 1
			w.run(min(episodeSteps, steps-done))
			stats[0] += w.charges
			stats[1] += len(w.subs)
			stats[2] += len(w.closed)
			stats[3] += w.countWhere("charges", "late_from IS NOT NULL")
			stats[4] += w.adjusted
			desk.add(w.deskRuns)
		}
		t.Logf("%s: %d steps in episodes of %d: %d charges, %d subscriptions, %d closed months, %d late charges, %d adjustments posted; desk: %+v",
			d.Engine, steps, episodeSteps, stats[0], stats[1], stats[2], stats[3], stats[4], desk)
	})
}

// freshLedgers returns a source of new, migrated, empty databases on d's
// engine, d itself first. On SQLite they are copies of d as it is now,
// which spares migrating each one under the race detector.
func freshLedgers(t *testing.T, d *db.DB) func() *db.DB {
	t.Helper()
	var template string
	if d.Engine == db.SQLite {
		template = filepath.Join(t.TempDir(), "template.db")
		if _, err := d.ExecContext(context.Background(), "VACUUM INTO ?", template); err != nil {
			t.Fatal(err)
		}
	}
	first := true
	return func() *db.DB {
		switch {
		case first:
			first = false
			return d
		case template == "":
			return dbtest.Open(t, d.Engine)
		}
		raw, err := os.ReadFile(template)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "ledger.db")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return dbtest.OpenURL(t, "sqlite:"+path)
	}
}

// run applies steps random operations, checking the books after each.
func (w *world) run(steps int) {
	maxAdvance := 2 * 420 * 24 * time.Hour / time.Duration(steps)
	ops := []struct {
		weight int
		name   string
		run    func()
	}{
		{30, "charge", w.chargeNew},
		{8, "retry", w.retryCharge},
		{4, "subscribe", w.subscribe},
		{12, "dispute", w.raiseDispute},
		{12, "settle", w.settle},
		{8, "period", w.movePeriod},
		{4, "billing run", w.billingRun},
		{6, "adjustment", w.adjust},
		{4, "decide adjustment", w.decideAdjustment},
		{3, "concurrent close", w.closeTogether},
		{8, "desk order", w.deskOrder},
		{4, "desk work", w.deskWork},
		{5, "reopen", w.reopenDesk},
		{5, "approve overrun", w.approveOverrun},
	}
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	for w.step = 1; w.step <= steps && !w.t.Failed(); w.step++ {
		w.clock = w.clock.Add(time.Duration(w.rng.Int64N(int64(maxAdvance))))
		pick := w.rng.IntN(total)
		for _, op := range ops {
			if pick -= op.weight; pick < 0 {
				w.op = op.name
				op.run()
				break
			}
		}
		w.check()
	}
	w.checkStatementsReconcile()
	w.checkTrialBalances()
}

// checkStatementsReconcile checks, for every unit and every month with a
// posting, that the unit's statement less its recovery view is what the
// month moved on its cost center, in the ledger and in the GL journal.
func (w *world) checkStatementsReconcile() {
	w.t.Helper()
	var months []string
	if err := w.d.NewRaw("SELECT DISTINCT period FROM journal_entries ORDER BY period").Scan(w.ctx, &months); err != nil {
		w.t.Fatal(err)
	}
	for _, month := range months {
		for _, u := range w.units {
			r, err := billing.Reconcile(w.ctx, w.d, u, month, "EUR")
			if err != nil {
				w.t.Fatal(err)
			}
			if !r.Agrees() {
				w.failf("unit %d in %s: statement and recovery do not explain the books: %+v", u, month, r)
			}
		}
	}
}

type worldService struct {
	id, provider  int64
	model         string
	rates         []catalog.Rate // oldest first
	quote         catalog.Rate
	quoteQuantity []string
}

type worldSubscription struct {
	id, consumer, provider, price int64
	start                         string
}

// worldAdjustment is a pending adjustment as the shadow knows it.
type worldAdjustment struct {
	id, maker, debit, credit, amount int64
	month                            string
}

type chargedRequest struct {
	f       billing.Fulfilment
	charges int
}

// world is the database under test and the shadow books kept beside it.
type world struct {
	t        *testing.T
	d        *db.DB
	ctx      context.Context
	rng      *rand.Rand
	fanOdds  int // one operation in fanOdds runs concurrently
	loc      *time.Location
	clock    time.Time
	episode  int
	step     int
	op       string
	actor    int64
	checker  int64   // the second finance user, who approves the actor's adjustments
	units    []int64 // the first three provide services, the rest only consume
	services []worldService

	// The desk (see invariants_desk_test.go): a member of every consumer-only
	// unit, two managers of each, an agent of every provider.
	org      units.Organisation
	authz    *policies.Authorizer
	member   int64
	managers [2]int64
	agent    int64
	desk     []*deskRequest
	deskRuns deskStats

	balances      map[int64]int64
	charges       int
	charged       []chargedRequest
	subs          []worldSubscription
	subCharges    map[string]int64 // source key → amount
	closed        map[string]bool
	closedEntries map[string]int // month → its entries when it closed
	adjusted      int            // adjustments posted
	pending       []worldAdjustment

	// What check has read of the database so far.
	seenPosting, seenCharge, postingTotal int64
	ledger                                map[int64]int64 // unit → sum of its postings
	sources                               map[string]bool
}

func newWorld(t *testing.T, d *db.DB, rng *rand.Rand) *world {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, d: d, ctx: context.Background(), rng: rng, loc: loc, fanOdds: 4,
		clock: time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC), balances: map[int64]int64{}, subCharges: map[string]int64{},
		closed: map[string]bool{}, closedEntries: map[string]int{},
		ledger: map[int64]int64{}, sources: map[string]bool{}}
	if d.Engine == db.SQLite {
		// SQLite's writers queue on a sleeping busy handler: keep the
		// concurrent steps, fewer of them, so the test stays quick.
		w.fanOdds = 10
	}
	err = d.InTx(w.ctx, func(tx bun.Tx) error {
		// The organisation is the world's: the desk passes it to the
		// requests domain, and billing gets its zone, w.loc, as a value.
		org, err := units.EnsureOrganisation(w.ctx, tx, "EUR", tz)
		if err != nil {
			return err
		}
		w.org = *org
		for i, code := range []string{"IT", "FAC", "LEGAL", "MKT", "HR", "OPS"} {
			u, err := units.CreateUnit(w.ctx, tx, 0, units.Unit{Code: code, Name: code})
			if err != nil {
				return err
			}
			w.units = append(w.units, u.ID)
			if i >= 3 {
				continue // consumers only
			}
			for _, model := range []string{"fixed", "per_unit", "hourly", "monthly"} {
				price := []int64{3333, 1999, 1001, 2500}[w.rng.IntN(4)] + int64(i)
				svc, first, err := catalog.CreateService(w.ctx, tx, 0, catalog.Service{ProviderUnitID: u.ID, Code: code + "-" + model,
					Name: model, PricingModel: model, ApprovalPolicy: "never", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600},
					nil, catalog.Rate{PriceMinor: price, Currency: "EUR", EffectiveFrom: "2025-01-01"})
				if err != nil {
					return err
				}
				ws := worldService{id: svc.ID, provider: u.ID, model: model, rates: []catalog.Rate{*first}, quote: *first,
					quoteQuantity: []string{"1"}}
				if model == "per_unit" {
					ws.quoteQuantity = []string{"1", "2", "3", "0.5", "2.5", "1.25", "7"}
				}
				if model == "hourly" {
					second, err := catalog.AddRate(w.ctx, tx, 0, catalog.Rate{ServiceID: svc.ID, PriceMinor: price*3/2 + 1, Currency: "EUR",
						EffectiveFrom: "2026-06-01"}, "")
					if err != nil {
						return err
					}
					ws.rates = append(ws.rates, *second)
				}
				w.services = append(w.services, ws)
			}
		}
		u, err := units.CreateUser(w.ctx, tx, 0, units.User{Email: "fin@example.org", Name: "Fin"})
		if err != nil {
			return err
		}
		w.actor = u.ID
		c, err := units.CreateUser(w.ctx, tx, 0, units.User{Email: "checker@example.org", Name: "Checker"})
		if err != nil {
			return err
		}
		w.checker = c.ID
		return w.staffDesk(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.authz, err = policies.New(w.ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return w
}

// staffDesk creates the desk's people and their grants.
func (w *world) staffDesk(tx bun.Tx) error {
	user := func(email string) (int64, error) {
		u, err := units.CreateUser(w.ctx, tx, 0, units.User{Email: email, Name: email})
		if err != nil {
			return 0, err
		}
		return u.ID, nil
	}
	var err error
	if w.member, err = user("member@example.org"); err != nil {
		return err
	}
	if w.agent, err = user("agent@example.org"); err != nil {
		return err
	}
	for i := range w.managers {
		if w.managers[i], err = user(fmt.Sprintf("manager%d@example.org", i+1)); err != nil {
			return err
		}
	}
	for i, unit := range w.units {
		grants := map[int64]string{w.agent: "agent"}
		if i >= 3 {
			grants = map[int64]string{w.member: "member", w.managers[0]: "manager", w.managers[1]: "manager"}
		}
		for userID, role := range grants {
			if _, err := units.GrantUnitRole(w.ctx, tx, 0, unit, userID, role); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *world) failf(format string, args ...any) {
	w.t.Helper()
	w.t.Errorf("episode %d step %d (%s, clock %s): %s", w.episode, w.step, w.op, w.clock.Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func (w *world) month() string { return billing.MonthOf(w.clock, w.loc) }

// monthNear is the clock's month moved by delta months.
func (w *world) monthNear(delta int) string {
	m, _ := time.Parse("2006-01", w.month())
	return m.AddDate(0, delta, 0).Format("2006-01")
}

// postingPeriod is the shadow's answer to where an item of month posts.
func (w *world) postingPeriod(month string) string {
	if last := w.lastClosed(); last != "" && month <= last {
		return billing.NextMonth(last)
	}
	return month
}

func (w *world) service(model string) worldService {
	var of []worldService
	for _, s := range w.services {
		if s.model == model {
			of = append(of, s)
		}
	}
	return of[w.rng.IntN(len(of))]
}

func (w *world) consumerFor(provider int64) int64 {
	for {
		if u := w.units[w.rng.IntN(len(w.units))]; u != provider {
			return u
		}
	}
}

// fileRequest stores a resolved request at the quote.
func (w *world) fileRequest(s worldService, consumer int64, quantity string) int64 {
	w.t.Helper()
	r := &requests.Request{ServiceID: s.id, ConsumerUnitID: consumer, ProviderUnitID: s.provider, RequesterID: w.actor,
		CreatedBy: w.actor, Title: "random " + s.model, Quantity: quantity, FieldsJSON: "{}", Channel: "api", Status: requests.Resolved,
		Version: 1, RateID: s.quote.ID, PricingModel: s.model, UnitPriceMinor: s.quote.PriceMinor, Currency: "EUR",
		SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 600, CreatedAt: w.clock, UpdatedAt: w.clock}
	if _, err := w.d.NewInsert().Model(r).Returning("id").Exec(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	return r.ID
}

func (w *world) fulfilment(s worldService, requestID, consumer int64, quantity string) billing.Fulfilment {
	return billing.Fulfilment{RequestID: requestID, Number: fmt.Sprintf("REQ-%06d", requestID), Title: "random " + s.model,
		ConsumerUnitID: consumer, ProviderUnitID: s.provider, ServiceID: s.id, RateID: s.quote.ID, PricingModel: s.model,
		Quantity: quantity, UnitPriceMinor: s.quote.PriceMinor, Currency: "EUR", ResolvedAt: w.clock, ActorID: w.actor}
}

// together runs fn n times at once and returns the results.
func together[T any](n int, fn func() (T, error)) ([]T, []error) {
	out, errs := make([]T, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return out, errs
}

// fanOut is how many goroutines an operation runs on: mostly one,
// sometimes up to max.
func (w *world) fanOut(max int) int {
	if w.rng.IntN(w.fanOdds) == 0 {
		return 2 + w.rng.IntN(max-1)
	}
	return 1
}

// chargeNew resolves a new fixed, per-unit or hourly request (hourly with
// random billable and non-billable time) and expects one charge per rate
// used, at amounts the shadow computes itself.
func (w *world) chargeNew() {
	s := w.service([]string{"fixed", "per_unit", "hourly"}[w.rng.IntN(3)])
	consumer := w.consumerFor(s.provider)
	quantity := s.quoteQuantity[w.rng.IntN(len(s.quoteQuantity))]
	rid := w.fileRequest(s, consumer, quantity)
	var want []int64
	if s.model == "hourly" {
		minutesByRate := map[int]int64{}
		for range w.rng.IntN(5) {
			minutes := 1 + w.rng.Int64N(600)
			date := w.clock.In(w.loc).AddDate(0, 0, -w.rng.IntN(90)).Format(catalog.DateLayout)
			billable := w.rng.IntN(5) != 0
			if _, err := w.d.ExecContext(w.ctx, `INSERT INTO time_entries (request_id, agent_id, minutes, work_date, billable, note, created_at)
				VALUES (?, ?, ?, ?, ?, '', ?)`, rid, w.actor, minutes, date, billable, w.clock); err != nil {
				w.t.Fatal(err)
			}
			if billable {
				r := 0
				for i, rate := range s.rates {
					if rate.EffectiveFrom <= date {
						r = i
					}
				}
				minutesByRate[r] += minutes
			}
		}
		for i := range s.rates {
			if m := minutesByRate[i]; m > 0 {
				if a := halfEven(new(big.Rat).SetFrac64(s.rates[i].PriceMinor*m, 60)); a != 0 {
					want = append(want, a)
				}
			}
		}
	} else {
		q, ok := new(big.Rat).SetString(quantity)
		if !ok {
			w.t.Fatalf("quantity %q", quantity)
		}
		if a := halfEven(q.Mul(q, new(big.Rat).SetInt64(s.quote.PriceMinor))); a != 0 {
			want = append(want, a)
		}
	}
	f := w.fulfilment(s, rid, consumer, quantity)
	results, errs := together(w.fanOut(3), func() (charges []billing.Charge, err error) {
		err = w.d.InTx(w.ctx, func(tx bun.Tx) (err error) {
			charges, err = billing.ChargeFulfilment(w.ctx, tx, f, w.loc)
			return err
		})
		return charges, err
	})
	var got []int64
	period := w.postingPeriod(w.month())
	for i, charges := range results {
		if errs[i] != nil {
			w.failf("charge request %d: %v", rid, errs[i])
		}
		for _, c := range charges {
			got = append(got, c.AmountMinor)
			late := ""
			if c.LateFrom != nil {
				late = *c.LateFrom
			}
			wantLate := ""
			if period != w.month() {
				wantLate = w.month()
			}
			if c.Period != period || late != wantLate {
				w.failf("charge of request %d in %s late from %q, want %s (resolved in %s)", rid, c.Period, late, period, w.month())
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		w.failf("%s request %d (quantity %s) charged %v, want %v", s.model, rid, quantity, got, want)
	}
	for _, a := range want {
		w.balances[consumer] += a
		w.balances[s.provider] -= a
	}
	w.charges += len(want)
	w.charged = append(w.charged, chargedRequest{f: f, charges: len(want)})
}

// retryCharge resolves an already charged request again, possibly in a
// later month: nothing is posted.
func (w *world) retryCharge() {
	if len(w.charged) == 0 {
		return
	}
	c := w.charged[w.rng.IntN(len(w.charged))]
	f := c.f
	f.ResolvedAt = w.clock
	entries := w.count("journal_entries")
	err := w.d.InTx(w.ctx, func(tx bun.Tx) error {
		again, err := billing.ChargeFulfilment(w.ctx, tx, f, w.loc)
		if len(again) != 0 {
			w.failf("retrying request %d posted %d charges", f.RequestID, len(again))
		}
		return err
	})
	if err != nil {
		w.failf("retry request %d: %v", f.RequestID, err)
	}
	if got := w.count("journal_entries"); got != entries {
		w.failf("retrying request %d wrote %d entries", f.RequestID, got-entries)
	}
}

// subscribe resolves a monthly request, which starts a subscription and
// charges nothing yet.
func (w *world) subscribe() {
	s := w.service("monthly")
	consumer := w.consumerFor(s.provider)
	rid := w.fileRequest(s, consumer, "1")
	f := w.fulfilment(s, rid, consumer, "1")
	for range 1 + w.rng.IntN(2) { // a retry starts nothing more
		err := w.d.InTx(w.ctx, func(tx bun.Tx) error {
			charges, err := billing.ChargeFulfilment(w.ctx, tx, f, w.loc)
			if len(charges) != 0 {
				w.failf("a monthly request charged at resolution")
			}
			return err
		})
		if err != nil {
			w.failf("subscribe: %v", err)
		}
	}
	var ids []int64
	if err := w.d.NewSelect().Table("subscriptions").Column("id").Where("request_id = ?", rid).Scan(w.ctx, &ids); err != nil || len(ids) != 1 {
		w.failf("subscriptions of request %d: %v %v", rid, ids, err)
		return
	}
	w.subs = append(w.subs, worldSubscription{id: ids[0], consumer: consumer, provider: s.provider, price: s.quote.PriceMinor,
		start: w.clock.In(w.loc).Format(catalog.DateLayout)})
}

// billingRun runs a recent month's billing, sometimes twice at once, and
// expects every subscription active in it charged once, prorated by days.
func (w *world) billingRun() {
	month := w.monthNear(-w.rng.IntN(4))
	first, _ := time.Parse("2006-01", month)
	last := first.AddDate(0, 1, -1)
	days := int64(last.Day())
	want := 0
	for _, s := range w.subs {
		key := fmt.Sprintf("subscription:%d:%s", s.id, month)
		if _, done := w.subCharges[key]; done || s.start > last.Format(catalog.DateLayout) {
			continue
		}
		from := first
		if start, _ := time.Parse(catalog.DateLayout, s.start); start.After(first) {
			from = start
		}
		active := int64(last.Sub(from).Hours()/24) + 1
		amount := halfEven(new(big.Rat).SetFrac64(s.price*active, days))
		if amount == 0 {
			continue
		}
		w.subCharges[key] = amount
		w.balances[s.consumer] += amount
		w.balances[s.provider] -= amount
		want++
	}
	results, errs := together(w.fanOut(2), func() (billing.RunResult, error) {
		return billing.BillingRun(w.ctx, w.d, month, w.loc, w.clock)
	})
	charged := 0
	for i, res := range results {
		if errs[i] != nil {
			w.failf("billing run %s: %v", month, errs[i])
		}
		charged += res.Charged
	}
	if charged != want {
		w.failf("billing run %s charged %d subscriptions, want %d", month, charged, want)
	}
	w.charges += want
	var rows []struct {
		SourceKey   string `bun:"source_key"`
		AmountMinor int64  `bun:"amount_minor"`
	}
	if err := w.d.NewSelect().Table("charges").Column("source_key", "amount_minor").Where("source_key LIKE 'subscription:%'").Scan(w.ctx, &rows); err != nil {
		w.t.Fatal(err)
	}
	if len(rows) != len(w.subCharges) {
		w.failf("%d subscription charges, want %d", len(rows), len(w.subCharges))
	}
	for _, r := range rows {
		if w.subCharges[r.SourceKey] != r.AmountMinor {
			w.failf("%s charged %d, want %d", r.SourceKey, r.AmountMinor, w.subCharges[r.SourceKey])
		}
	}
}

type chargeRow struct {
	ID          int64  `bun:"id"`
	Period      string `bun:"period"`
	AmountMinor int64  `bun:"amount_minor"`
	Consumer    int64  `bun:"consumer_unit_id"`
	Provider    int64  `bun:"provider_unit_id"`
	Disputes    int    `bun:"disputes"`
}

// raiseDispute disputes a charge: mostly one that may be disputed, else
// any, and expects the period and the one-dispute rule to decide.
func (w *world) raiseDispute() {
	var rows []chargeRow
	q := w.d.NewSelect().TableExpr("charges AS c").ColumnExpr("c.id, c.period, c.amount_minor, c.consumer_unit_id, c.provider_unit_id").
		ColumnExpr("(SELECT COUNT(*) FROM disputes d WHERE d.charge_id = c.id) AS disputes").OrderExpr("c.id")
	if err := q.Scan(w.ctx, &rows); err != nil {
		w.t.Fatal(err)
	}
	if w.rng.IntN(10) < 7 {
		rows = slices.DeleteFunc(rows, func(r chargeRow) bool { return r.Disputes > 0 || w.closed[r.Period] })
	}
	if len(rows) == 0 {
		return
	}
	c := rows[w.rng.IntN(len(rows))]
	err := w.d.InTx(w.ctx, func(tx bun.Tx) error {
		_, err := billing.RaiseDispute(w.ctx, tx, billing.Operator(w.actor), c.ID, "random objection", w.clock)
		return err
	})
	switch fe, _ := fault.As(err); {
	case w.closed[c.Period]:
		if fe == nil || fe.Code != "period_closed" {
			w.failf("dispute on charge %d of closed %s: %v", c.ID, c.Period, err)
		}
	case c.Disputes > 0:
		if fe == nil || fe.Code != "already_disputed" {
			w.failf("second dispute on charge %d: %v", c.ID, err)
		}
	case err != nil:
		w.failf("dispute on charge %d: %v", c.ID, err)
	}
}

// settle accepts (fully or partly) or rejects an open dispute, sometimes
// from several finance users at once: one wins, the rest conflict.
func (w *world) settle() {
	var rows []struct {
		ID       int64 `bun:"id"`
		ChargeID int64 `bun:"charge_id"`
	}
	if err := w.d.NewSelect().Table("disputes").Column("id", "charge_id").Where("status = 'open'").OrderExpr("id").Scan(w.ctx, &rows); err != nil {
		w.t.Fatal(err)
	}
	if len(rows) == 0 {
		return
	}
	dispute := rows[w.rng.IntN(len(rows))]
	c, err := billing.GetCharge(w.ctx, w.d, dispute.ChargeID)
	if err != nil {
		w.t.Fatal(err)
	}
	action, credit, note := "reject", int64(0), "as ordered"
	switch w.rng.IntN(10) {
	case 0, 1, 2:
		action, credit = "accept", c.AmountMinor
	case 3, 4, 5, 6:
		action, credit = "accept", 1+w.rng.Int64N(c.AmountMinor)
	case 7:
		// Too much: refused, nothing changes.
		entries := w.count("journal_entries")
		err := w.d.InTx(w.ctx, func(tx bun.Tx) error {
			_, err := billing.SettleDispute(w.ctx, tx, billing.Operator(w.actor), billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: c.AmountMinor + 1}, helsinki, w.clock)
			return err
		})
		if !fault.Is(err, fault.KindInvalid) || w.count("journal_entries") != entries {
			w.failf("crediting more than charge %d: %v", c.ID, err)
		}
		return
	}
	_, errs := together(w.fanOut(4), func() (*billing.Dispute, error) {
		var d *billing.Dispute
		err := w.d.InTx(w.ctx, func(tx bun.Tx) (err error) {
			d, err = billing.SettleDispute(w.ctx, tx, billing.Operator(w.actor), billing.Settlement{DisputeID: dispute.ID, Action: action, CreditMinor: credit, Note: note}, helsinki, w.clock)
			return err
		})
		return d, err
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if fe, ok := fault.As(err); !ok || fe.Code != "dispute_settled" {
			w.failf("settle dispute %d: %v", dispute.ID, err)
		}
	}
	if wins != 1 {
		w.failf("%d settlements of dispute %d succeeded", wins, dispute.ID)
	}
	if action == "accept" {
		w.balances[c.ConsumerUnitID] -= credit
		w.balances[c.ProviderUnitID] += credit
	}
}

// movePeriod reviews or closes a month near the clock (the current one
// included, which has not ended) and expects the rules: only an ended month
// from the first month on moves; review from open only; close only the
// earliest month not closed (every earlier one closed; on new books any)
// and only without open disputes; a month before the latest closed one is
// closed, row or not.
func (w *world) movePeriod() {
	month := w.monthNear(-w.rng.IntN(5))
	action := []string{"review", "close", "close"}[w.rng.IntN(3)]
	months, err := billing.LoadMonths(w.ctx, w.d, w.loc, w.clock)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := billing.GetPeriod(w.ctx, w.d, month)
	if err != nil {
		w.t.Fatal(err)
	}
	last := w.lastClosed()
	status := p.Status
	if last != "" && month <= last {
		status = billing.PeriodClosed
	}
	earliest := months.First
	if last != "" && billing.NextMonth(last) > earliest {
		earliest = billing.NextMonth(last)
	}
	if w.countWhere("requests", "1 = 1")+w.countWhere("journal_entries", "1 = 1")+w.countWhere("periods", "1 = 1") == 0 {
		earliest = month // new books close any ended month first
	}
	open := w.countWhere("disputes", "status = 'open' AND charge_id IN (SELECT id FROM charges WHERE period = ?)", month)
	err = w.d.InTx(w.ctx, func(tx bun.Tx) error {
		_, err := billing.MovePeriod(w.ctx, tx, billing.Operator(w.actor), month, action, w.loc, w.clock)
		return err
	})
	fe, _ := fault.As(err)
	switch {
	case month >= w.month() || month < months.First:
		if fe == nil || fe.Details["field"] != "month" {
			w.failf("%s %s (now %s, first %s): %v", action, month, w.month(), months.First, err)
		}
	case (action == "close" && status != billing.PeriodClosed || action == "review" && status == billing.PeriodOpen) && month > earliest:
		if fe == nil || fe.Code != "earlier_period_open" {
			w.failf("%s %s before %s: %v", action, month, earliest, err)
		}
	case action == "review" && status == billing.PeriodOpen, action == "close" && status != billing.PeriodClosed && open == 0:
		if err != nil {
			w.failf("%s %s (%s): %v", action, month, status, err)
		}
	case action == "close" && status != billing.PeriodClosed:
		if fe == nil || fe.Code != "open_disputes" {
			w.failf("close %s with %d open disputes: %v", month, open, err)
		}
	default:
		if fe == nil || fe.Code != "invalid_transition" {
			w.failf("%s %s (%s): %v", action, month, status, err)
		}
	}
	if err == nil && action == "close" {
		w.closed[month] = true
		w.closedEntries[month] = w.countWhere("journal_entries", "period = ?", month)
	}
}

// adjust has one of the two finance users move money between two units for
// a month from the first to the current one, sometimes one outside (refused
// on the month), sometimes above the approval limit (it waits as pending,
// nothing posted). One posted at once adds exactly one entry, in its month
// or, when that is closed, the earliest open one after it.
func (w *world) adjust() {
	months, err := billing.LoadMonths(w.ctx, w.d, w.loc, w.clock)
	if err != nil {
		w.t.Fatal(err)
	}
	first, _ := time.Parse("2006-01", months.First)
	now, _ := time.Parse("2006-01", months.Now)
	span := (now.Year()-first.Year())*12 + int(now.Month()-first.Month()) + 1
	month := first.AddDate(0, w.rng.IntN(span), 0).Format("2006-01")
	outside := w.rng.IntN(10) == 0
	if outside {
		month = []string{billing.NextMonth(months.Now), first.AddDate(0, -1, 0).Format("2006-01")}[w.rng.IntN(2)]
	}
	maker := []int64{w.actor, w.checker}[w.rng.IntN(2)]
	debit := w.units[w.rng.IntN(len(w.units))]
	credit := w.consumerFor(debit)
	amount := 1 + w.rng.Int64N(2*adjustmentLimit)
	entries := w.count("journal_entries")
	var a *billing.Adjustment
	err = w.d.InTx(w.ctx, func(tx bun.Tx) (err error) {
		a, err = billing.CreateAdjustment(w.ctx, tx, billing.Operator(maker), billing.Adjustment{DebitUnitID: debit, CreditUnitID: credit,
			AmountMinor: amount, Currency: "EUR", Month: month, Reason: "random recharge"}, adjustmentLimit, w.loc, w.clock)
		return err
	})
	added := w.count("journal_entries") - entries
	if outside {
		if fe, _ := fault.As(err); fe == nil || fe.Details["field"] != "month" {
			w.failf("adjustment for %s (months %s to %s): %v", month, months.First, months.Now, err)
		}
		if added != 0 {
			w.failf("a refused adjustment wrote %d entries", added)
		}
		return
	}
	if err != nil {
		w.failf("adjustment of %d for %s: %v", amount, month, err)
		return
	}
	if amount > adjustmentLimit {
		if a.Status != billing.AdjustmentPending || added != 0 {
			w.failf("adjustment %d of %d above the limit is %s with %d entries", a.ID, amount, a.Status, added)
		}
		w.pending = append(w.pending, worldAdjustment{id: a.ID, maker: maker, debit: debit, credit: credit, amount: amount, month: month})
		return
	}
	w.posted(a, worldAdjustment{debit: debit, credit: credit, amount: amount, month: month}, added)
}

// decideAdjustment decides a pending adjustment: its maker's approval is
// refused (four eyes) and changes nothing; the other finance user's posts
// it; a rejection by either posts nothing and ends it.
func (w *world) decideAdjustment() {
	if len(w.pending) == 0 {
		return
	}
	i := w.rng.IntN(len(w.pending))
	p := w.pending[i]
	other := w.actor
	if p.maker == w.actor {
		other = w.checker
	}
	decider, action, note := other, "approve", ""
	switch w.rng.IntN(4) {
	case 0:
		decider = p.maker
	case 1:
		decider, action, note = []int64{p.maker, other}[w.rng.IntN(2)], "reject", "not agreed"
	}
	entries := w.count("journal_entries")
	var a *billing.Adjustment
	err := w.d.InTx(w.ctx, func(tx bun.Tx) (err error) {
		a, err = billing.DecideAdjustment(w.ctx, tx, billing.Operator(decider), p.id, action, note, w.clock)
		return err
	})
	added := w.count("journal_entries") - entries
	switch {
	case action == "approve" && decider == p.maker:
		if fe, _ := fault.As(err); fe == nil || fe.Code != "self_approval" || added != 0 {
			w.failf("the maker approved adjustment %d: %v, %d entries", p.id, err, added)
		}
		return
	case err != nil:
		w.failf("%s adjustment %d: %v", action, p.id, err)
		return
	case action == "reject":
		if a.Status != billing.AdjustmentRejected || added != 0 {
			w.failf("rejected adjustment %d is %s with %d entries", p.id, a.Status, added)
		}
	default:
		w.posted(a, p, added)
	}
	w.pending = slices.Delete(w.pending, i, i+1)
}

// posted books an adjustment that should have posted just now, adding
// added entries: exactly one, into the month the shadow expects.
func (w *world) posted(a *billing.Adjustment, want worldAdjustment, added int) {
	if a.Status != billing.AdjustmentPosted || a.EntryID == nil || added != 1 {
		w.failf("adjustment %d of %d is %s with %d entries", a.ID, want.amount, a.Status, added)
		return
	}
	var period string
	if err := w.d.NewSelect().Table("journal_entries").Column("period").Where("id = ?", *a.EntryID).Scan(w.ctx, &period); err != nil {
		w.t.Fatal(err)
	}
	if wantPeriod := w.postingPeriod(want.month); period != wantPeriod {
		w.failf("adjustment %d for %s posted in %s, want %s", a.ID, want.month, period, wantPeriod)
	}
	w.balances[want.debit] += want.amount
	w.balances[want.credit] -= want.amount
	w.adjusted++
}

// closeTogether closes the earliest ended month not closed from two
// transactions at once: exactly one wins and the other finds it closed
// (on SQLite the single writer orders them), or, while the month has open
// disputes, both are refused.
func (w *world) closeTogether() {
	months, err := billing.LoadMonths(w.ctx, w.d, w.loc, w.clock)
	if err != nil {
		w.t.Fatal(err)
	}
	month := months.First
	if last := w.lastClosed(); last != "" && billing.NextMonth(last) > month {
		month = billing.NextMonth(last)
	}
	if month >= w.month() {
		return // no ended month is open
	}
	open := w.countWhere("disputes", "status = 'open' AND charge_id IN (SELECT id FROM charges WHERE period = ?)", month)
	_, errs := together(2, func() (*billing.Period, error) {
		var p *billing.Period
		err := w.d.InTx(w.ctx, func(tx bun.Tx) (err error) {
			p, err = billing.MovePeriod(w.ctx, tx, billing.Operator(w.actor), month, "close", w.loc, w.clock)
			return err
		})
		return p, err
	})
	wins := 0
	for _, err := range errs {
		fe, _ := fault.As(err)
		switch {
		case err == nil:
			wins++
		case open > 0 && fe != nil && fe.Code == "open_disputes", open == 0 && fe != nil && fe.Code == "invalid_transition":
		default:
			w.failf("close %s (%d open disputes) twice at once: %v", month, open, err)
		}
	}
	want := 1
	if open > 0 {
		want = 0
	}
	if wins != want {
		w.failf("%d of two closes of %s (%d open disputes) succeeded", wins, month, open)
	}
	if wins > 0 {
		w.closed[month] = true
		w.closedEntries[month] = w.countWhere("journal_entries", "period = ?", month)
	}
}

// lastClosed is the latest month the shadow closed, "" before any.
func (w *world) lastClosed() string {
	last := ""
	for m := range w.closed {
		last = max(last, m)
	}
	return last
}

// check compares the books with Verify and with the shadow. The shadow's
// own checks look only at rows added since the last step (postings and
// charges never change amounts), so a step costs Verify plus its own work.
func (w *world) check() {
	w.t.Helper()
	if breaches, err := billing.Verify(w.ctx, w.d); err != nil || len(breaches) != 0 {
		w.failf("verify: %v %v", breaches, err)
	}
	var postings []struct {
		ID          int64 `bun:"id"`
		EntryID     int64 `bun:"entry_id"`
		UnitID      int64 `bun:"unit_id"`
		AmountMinor int64 `bun:"amount_minor"`
	}
	if err := w.d.NewRaw(`SELECT p.id, p.entry_id, a.unit_id, p.amount_minor FROM postings p JOIN accounts a ON a.id = p.account_id
		WHERE p.id > ? ORDER BY p.id`, w.seenPosting).Scan(w.ctx, &postings); err != nil {
		w.t.Fatal(err)
	}
	legs := map[int64]map[int64]int64{} // entry → unit → amount
	for _, p := range postings {
		w.seenPosting, w.postingTotal = p.ID, w.postingTotal+p.AmountMinor
		w.ledger[p.UnitID] += p.AmountMinor
		if legs[p.EntryID] == nil {
			legs[p.EntryID] = map[int64]int64{}
		}
		legs[p.EntryID][p.UnitID] += p.AmountMinor
	}
	if w.postingTotal != 0 {
		w.failf("all postings sum to %d", w.postingTotal)
	}
	for _, u := range w.units {
		if w.ledger[u] != w.balances[u] {
			w.failf("unit %d balance %d, want %d", u, w.ledger[u], w.balances[u])
		}
	}
	var charges []struct {
		ID          int64  `bun:"id"`
		SourceKey   string `bun:"source_key"`
		Consumer    int64  `bun:"consumer_unit_id"`
		Provider    int64  `bun:"provider_unit_id"`
		AmountMinor int64  `bun:"amount_minor"`
		EntryID     int64  `bun:"entry_id"`
	}
	if err := w.d.NewRaw(`SELECT id, source_key, consumer_unit_id, provider_unit_id, amount_minor, entry_id FROM charges
		WHERE id > ? ORDER BY id`, w.seenCharge).Scan(w.ctx, &charges); err != nil {
		w.t.Fatal(err)
	}
	for _, c := range charges {
		w.seenCharge = c.ID
		if w.sources[c.SourceKey] {
			w.failf("source %s charged twice", c.SourceKey)
		}
		w.sources[c.SourceKey] = true
		// A charge's entry is posted in the charge's own transaction, so
		// its legs are among the postings read just now.
		if leg := legs[c.EntryID]; leg[c.Consumer] != c.AmountMinor || leg[c.Provider] != -c.AmountMinor || len(leg) != 2 {
			w.failf("charge %s of %d has legs %v", c.SourceKey, c.AmountMinor, leg)
		}
	}
	if len(w.sources) != w.charges {
		w.failf("%d charges, want %d", len(w.sources), w.charges)
	}
	if n := w.countWhere("journal_entries", "kind = 'adjustment'"); n != w.adjusted {
		w.failf("%d adjustment entries, want %d", n, w.adjusted)
	}
	if len(w.closedEntries) > 0 {
		months := make([]string, 0, len(w.closedEntries))
		for m := range w.closedEntries {
			months = append(months, m)
		}
		var perPeriod []struct {
			Period string `bun:"period"`
			N      int    `bun:"n"`
		}
		if err := w.d.NewRaw("SELECT period, COUNT(*) AS n FROM journal_entries WHERE period IN (?) GROUP BY period",
			bun.In(months)).Scan(w.ctx, &perPeriod); err != nil {
			w.t.Fatal(err)
		}
		for _, p := range perPeriod {
			if want := w.closedEntries[p.Period]; p.N != want {
				w.failf("closed %s held %d entries at its close and %d now", p.Period, want, p.N)
			}
		}
	}
}

func (w *world) count(table string) int {
	w.t.Helper()
	n, err := w.d.NewSelect().Table(table).Count(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return int(n)
}

func (w *world) countWhere(table, where string, args ...any) int {
	w.t.Helper()
	n, err := w.d.NewSelect().Table(table).Where(where, args...).Count(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return int(n)
}

// halfEven rounds a non-negative rational to the nearest integer, ties to
// even: the shadow's own rounding, independent of package money.
func halfEven(r *big.Rat) int64 {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	switch new(big.Int).Mul(m, big.NewInt(2)).Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}
