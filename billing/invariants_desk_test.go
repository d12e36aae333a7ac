package billing_test

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
)

// The desk half of the world: requests filed, worked, resolved, reopened
// and resolved again through the requests domain (requests.Submit,
// LogTime and Perform), as the API and the portal do, so that resolving
// posts the charge the way it does in production and an overrun beyond
// the tolerance holds the resolution until a manager of the consumer unit
// approves it. The shadow prices each resolution itself.

// overrunTolerancePct is the organisation's tolerance in the world: the
// default, as no setting names another.
const overrunTolerancePct = 10

// deskStats counts what the desk's steps did, so a run shows it reached
// each case.
type deskStats struct {
	Orders, Reopened, LateReopens, Supplementary, RechargedNothing, OverrunsHeld, OverrunsRefused, OverrunsApproved int
}

func (s *deskStats) add(o deskStats) {
	s.Orders += o.Orders
	s.Reopened += o.Reopened
	s.LateReopens += o.LateReopens
	s.Supplementary += o.Supplementary
	s.RechargedNothing += o.RechargedNothing
	s.OverrunsHeld += o.OverrunsHeld
	s.OverrunsRefused += o.OverrunsRefused
	s.OverrunsApproved += o.OverrunsApproved
}

// deskTime is a billable time entry no charge covers yet, as the shadow
// knows it.
type deskTime struct {
	minutes int64
	date    string
}

// deskRequest is a request of the desk as the shadow knows it.
type deskRequest struct {
	id         int64
	s          worldService
	consumer   int64
	requester  int64
	quantity   string
	filed      string // the day it was filed: no time is dated before it
	estimate   int64
	charged    int64      // what its resolutions posted
	approved   int64      // the largest overrun approval, 0 for none
	uncharged  []deskTime // billable time not charged yet
	resolved   bool
	resolvedAt time.Time
	charges    int // how many charges its resolutions posted
}

// viewer is userID as the requests domain sees them.
func (w *world) viewer(userID int64) requests.Viewer {
	return requests.Viewer{UserID: userID, Authz: w.authz}
}

// deskOrder files a fixed, per-unit or hourly order through requests.Submit
// for a consumer-only unit, by a member or one of its managers, has the
// agent start it, log billable and non-billable time on an hourly one, and
// resolve it.
func (w *world) deskOrder() {
	// Hourly orders twice as often: they are the ones a reopen charges
	// again and an overrun holds.
	s := w.service([]string{"fixed", "per_unit", "hourly", "hourly"}[w.rng.IntN(4)])
	consumer := w.units[3+w.rng.IntN(len(w.units)-3)]
	requester := []int64{w.member, w.managers[0], w.managers[1]}[w.rng.IntN(3)]
	quantity := s.quoteQuantity[w.rng.IntN(len(s.quoteQuantity))]
	if s.model == "hourly" {
		quantity = []string{"0.5", "1", "2", "4"}[w.rng.IntN(4)] // the hours estimated
	}
	var r *requests.Request
	err := w.d.InTx(w.ctx, func(tx bun.Tx) (err error) {
		r, err = requests.Submit(w.ctx, tx, w.viewer(requester), w.org,
			requests.Order{ServiceID: s.id, ConsumerUnitID: consumer, Title: "desk " + s.model, Quantity: quantity}, w.clock)
		return err
	})
	if err != nil {
		w.failf("file a %s order: %v", s.model, err)
		return
	}
	q, _ := new(big.Rat).SetString(quantity)
	estimate := halfEven(q.Mul(q, new(big.Rat).SetInt64(w.rateOn(s, catalog.Today(w.clock, w.loc)).PriceMinor)))
	if r.EstimateMinor != estimate || r.Status != requests.Open {
		w.failf("%s order %d of %s is %s estimated at %d, want open at %d", s.model, r.ID, quantity, r.Status, r.EstimateMinor, estimate)
	}
	w.deskRuns.Orders++
	dr := &deskRequest{id: r.ID, s: s, consumer: consumer, requester: requester, quantity: quantity, estimate: estimate,
		filed: catalog.Today(r.CreatedAt, w.loc)}
	w.desk = append(w.desk, dr)
	if !w.act(dr, w.agent, "start") {
		return
	}
	if s.model == "hourly" {
		// Up to twice the estimate: within the tolerance or beyond it.
		w.logTime(dr, estimate*2)
	}
	w.resolve(dr)
	if dr.resolved && w.rng.IntN(3) == 0 {
		w.reopen(dr) // at once: the requester finds the work unfinished
	}
}

// deskWork has the agent log more time on a request in progress, sometimes,
// and resolve it.
func (w *world) deskWork() {
	dr := w.pickDesk(func(dr *deskRequest) bool { return !dr.resolved })
	if dr == nil {
		return
	}
	if dr.s.model == "hourly" && w.rng.IntN(3) == 0 {
		w.logTime(dr, dr.estimate/2)
	}
	w.resolve(dr)
}

// reopenDesk has the requester reopen a resolved request: within the
// reopen window it goes back to work, an hourly one takes more billable
// time, and the agent resolves it again; only the new time is charged, a
// fixed or per-unit request charges nothing more. After the window the
// reopen is refused and nothing changes.
func (w *world) reopenDesk() {
	within := w.rng.IntN(10) < 8
	dr := w.pickDesk(func(dr *deskRequest) bool {
		return dr.resolved && (!within || w.clock.Sub(dr.resolvedAt) <= requests.ReopenWindow)
	})
	if dr == nil {
		return
	}
	if w.clock.Sub(dr.resolvedAt) > requests.ReopenWindow {
		_, err := w.perform(dr, dr.requester, "reopen")
		if fe, _ := fault.As(err); fe == nil || fe.Code != "reopen_window_passed" {
			w.failf("reopen request %d resolved %s: %v, want reopen_window_passed", dr.id, dr.resolvedAt.Format(time.RFC3339), err)
		}
		w.deskRuns.LateReopens++
		return
	}
	w.reopen(dr)
}

// reopen has the requester reopen dr, resolved within the reopen window,
// the agent log more time on an hourly one and resolve it again.
func (w *world) reopen(dr *deskRequest) {
	if !w.act(dr, dr.requester, "reopen") {
		return
	}
	dr.resolved = false
	w.deskRuns.Reopened++
	if dr.s.model == "hourly" {
		w.logTime(dr, dr.estimate/3)
	}
	w.resolve(dr)
}

// approveOverrun picks a request whose resolution waits for an overrun
// approval. The requester (who may be a manager of the unit: four eyes) and
// the agent are refused and nothing is approved; a manager of the consumer
// unit who did not order it approves the amount, and resolving then posts.
func (w *world) approveOverrun() {
	dr := w.pickDesk(func(dr *deskRequest) bool { return !dr.resolved && w.overrunWaits(dr) })
	if dr == nil {
		return
	}
	approvals := w.countWhere("overrun_approvals", "request_id = ?", dr.id)
	refused := []int64{dr.requester, w.agent}[w.rng.IntN(2)]
	refusals := w.countWhere("audit_events", "action = 'refuse' AND object_type = 'request' AND object_id = ?", fmt.Sprint(dr.id))
	_, err := w.perform(dr, refused, "approve_overrun")
	if !fault.Is(err, fault.KindForbidden) || w.countWhere("overrun_approvals", "request_id = ?", dr.id) != approvals {
		w.failf("user %d (requester %d, agent %d) approved the overrun of request %d: %v", refused, dr.requester, w.agent, dr.id, err)
	}
	w.deskRuns.OverrunsRefused++
	if refused == dr.requester {
		if got := w.countWhere("audit_events", "action = 'refuse' AND object_type = 'request' AND object_id = ?", fmt.Sprint(dr.id)); got != refusals+1 {
			w.failf("the requester's overrun approval of request %d was not audited as a refusal (%d refusals, had %d)", dr.id, got, refusals)
		}
	}
	if w.rng.IntN(4) == 0 {
		return // it waits
	}
	manager := w.managers[0]
	if manager == dr.requester {
		manager = w.managers[1]
	}
	if !w.act(dr, manager, "approve_overrun") {
		return
	}
	dr.approved, _ = w.deskPrice(dr)
	w.deskRuns.OverrunsApproved++
	if w.rng.IntN(3) != 0 {
		w.resolve(dr)
	}
}

// resolve has the agent resolve dr and expects what the shadow prices: a
// refusal naming the overrun while one waits (nothing posted), else one
// charge per rate of the uncharged billable time (hourly) or the quote on
// the first resolution (fixed, per unit), in the period the clock's month
// posts into.
func (w *world) resolve(dr *deskRequest) {
	amount, want := w.deskPrice(dr)
	before := w.countWhere("charges", "request_id = ?", dr.id)
	r, err := w.perform(dr, w.agent, "resolve")
	if w.overrunWaits(dr) {
		fe, _ := fault.As(err)
		if fe == nil || fe.Code != "overrun_needs_approval" || w.countWhere("charges", "request_id = ?", dr.id) != before {
			w.failf("resolve request %d costing %d against %d (approved %d): %v, want overrun_needs_approval", dr.id, amount, dr.estimate, dr.approved, err)
		}
		w.deskRuns.OverrunsHeld++
		return
	}
	if err != nil {
		w.failf("resolve request %d costing %d against %d (approved %d): %v", dr.id, amount, dr.estimate, dr.approved, err)
		return
	}
	if r.Status != requests.Resolved {
		w.failf("resolved request %d is %s", dr.id, r.Status)
	}
	var charges []struct {
		AmountMinor int64   `bun:"amount_minor"`
		Period      string  `bun:"period"`
		LateFrom    *string `bun:"late_from"`
	}
	if err := w.d.NewSelect().Table("charges").Column("amount_minor", "period", "late_from").Where("request_id = ?", dr.id).
		OrderExpr("id").Scan(w.ctx, &charges); err != nil {
		w.t.Fatal(err)
	}
	var got []int64
	period := w.postingPeriod(w.month())
	for _, c := range charges[before:] {
		got = append(got, c.AmountMinor)
		if late := c.LateFrom != nil; c.Period != period || late != (period != w.month()) {
			w.failf("charge of request %d in %s late from %v, want %s (resolved in %s)", dr.id, c.Period, c.LateFrom, period, w.month())
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		w.failf("resolution %d of %s request %d charged %v, want %v", dr.charges+1, dr.s.model, dr.id, got, want)
	}
	for _, a := range want {
		w.balances[dr.consumer] += a
		w.balances[dr.s.provider] -= a
		dr.charged += a
	}
	switch {
	case dr.charges > 0 && len(want) > 0:
		w.deskRuns.Supplementary++
	case dr.charges > 0:
		w.deskRuns.RechargedNothing++
	}
	w.charges += len(want)
	dr.charges += len(want)
	dr.uncharged, dr.resolved, dr.resolvedAt = nil, true, w.clock
}

// deskPrice is what dr comes to if resolved now (what earlier
// resolutions charged and what this one would post) and the amounts this
// one would post: for an hourly request one per rate of the uncharged
// billable time, each rounded once; for a fixed or per-unit one the quote,
// once.
func (w *world) deskPrice(dr *deskRequest) (int64, []int64) {
	if dr.s.model != "hourly" {
		if dr.charges > 0 || dr.estimate == 0 {
			return dr.estimate, nil
		}
		return dr.estimate, []int64{dr.estimate}
	}
	minutesByRate := map[int64]int64{}
	var rates []int64
	price := map[int64]int64{}
	for _, e := range dr.uncharged {
		r := w.rateOn(dr.s, e.date)
		if _, seen := price[r.ID]; !seen {
			rates = append(rates, r.ID)
			price[r.ID] = r.PriceMinor
		}
		minutesByRate[r.ID] += e.minutes
	}
	amount := dr.charged
	var want []int64
	for _, id := range rates {
		if a := halfEven(new(big.Rat).SetFrac64(price[id]*minutesByRate[id], 60)); a != 0 {
			want = append(want, a)
			amount += a
		}
	}
	return amount, want
}

// overrunWaits is the shadow's answer to whether resolving dr needs an
// overrun approval: it costs more than the estimate beyond the tolerance
// and no approval covers the amount.
func (w *world) overrunWaits(dr *deskRequest) bool {
	amount, _ := w.deskPrice(dr)
	excess := amount - dr.estimate
	return excess > 0 && excess*100 > dr.estimate*overrunTolerancePct && dr.approved < amount
}

// rateOn is the service's rate in force on day.
func (w *world) rateOn(s worldService, day string) catalog.Rate {
	r := s.rates[0]
	for _, rate := range s.rates {
		if rate.EffectiveFrom <= day {
			r = rate
		}
	}
	return r
}

// logTime has the agent log one to three entries on dr, each of up to
// what upToMinor buys at today's rate (at least a minute), dated today or
// up to two days before (never before the day it was filed), about one in
// six of them non-billable.
func (w *world) logTime(dr *deskRequest, upToMinor int64) {
	hourly := w.rateOn(dr.s, catalog.Today(w.clock, w.loc)).PriceMinor
	budget := max(1, upToMinor*60/max(1, hourly)) // minutes that upTo buys
	for range 1 + w.rng.IntN(3) {
		minutes := min(1+w.rng.Int64N(budget), 24*60)
		billable := w.rng.IntN(6) != 0
		date := max(dr.filed, w.clock.In(w.loc).AddDate(0, 0, -w.rng.IntN(3)).Format(catalog.DateLayout))
		err := w.d.InTx(w.ctx, func(tx bun.Tx) error {
			_, err := requests.LogTime(w.ctx, tx, w.viewer(w.agent), w.org, dr.id,
				requests.TimeLog{Minutes: int(minutes), Date: date, Billable: billable}, w.clock)
			return err
		})
		if err != nil {
			w.failf("log %d minutes on request %d for %s: %v", minutes, dr.id, date, err)
			return
		}
		if billable {
			dr.uncharged = append(dr.uncharged, deskTime{minutes: minutes, date: date})
		}
	}
}

// perform takes action on dr as userID through requests.Perform, at the
// request's current version.
func (w *world) perform(dr *deskRequest, userID int64, action string) (*requests.Request, error) {
	var version int64
	if err := w.d.NewSelect().Table("requests").Column("version").Where("id = ?", dr.id).Scan(w.ctx, &version); err != nil {
		w.t.Fatal(err)
	}
	return requests.Perform(w.ctx, w.d, w.viewer(userID), w.org, dr.id, requests.Action{Name: action, Version: version}, w.clock)
}

// act performs an action that must succeed.
func (w *world) act(dr *deskRequest, userID int64, action string) bool {
	if _, err := w.perform(dr, userID, action); err != nil {
		w.failf("%s request %d as user %d: %v", action, dr.id, userID, err)
		return false
	}
	return true
}

// pickDesk picks one of the desk's requests that ok accepts, nil for none.
func (w *world) pickDesk(ok func(*deskRequest) bool) *deskRequest {
	var of []*deskRequest
	for _, dr := range w.desk {
		if ok(dr) {
			of = append(of, dr)
		}
	}
	if len(of) == 0 {
		return nil
	}
	return of[w.rng.IntN(len(of))]
}
