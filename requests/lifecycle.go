package requests

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tiski/tiski/billing"
)

// ReopenWindow is how long after resolution the requester may reopen, and
// after which a resolved request closes itself.
const ReopenWindow = 7 * 24 * time.Hour

// Transition is one row of the lifecycle: an action, the states it may be
// taken from, the state it leads to, and who may take it. The web layer,
// the portal and docs/request-lifecycle.md all come from this one table.
type Transition struct {
	Action string
	From   []Status
	To     Status // empty: the status stays (assign)
	By     party
	// NotByRequesterOrFiler forbids the requester and whoever filed the
	// order for them, whatever else they are: nobody approves or rejects an
	// order they requested or filed (an agent who manages the ordering unit
	// logs a phone order for a member, then approves it himself).
	NotByRequesterOrFiler bool
	// NotByProviderAgent also forbids the agents of the providing unit: the
	// side whose work costs more does not approve paying for it.
	NotByProviderAgent bool
	// WhenOverrunWaits offers the action only while the request's
	// fulfilment waits for an overrun approval (Request.Overrun).
	WhenOverrunWaits bool
	// WithinReopenWindow limits the action to ReopenWindow after resolution.
	WithinReopenWindow bool
}

// Lifecycle is the request state machine, as data (docs/request-lifecycle.md
// is generated from it).
var Lifecycle = []Transition{
	{Action: "approve", From: []Status{PendingApproval}, To: Open, By: asApprover, NotByRequesterOrFiler: true},
	{Action: "reject", From: []Status{PendingApproval}, To: Rejected, By: asApprover, NotByRequesterOrFiler: true},
	{Action: "assign", From: []Status{Open, InProgress, WaitingOnCustomer}, By: asDispatcher},
	{Action: "start", From: []Status{Open}, To: InProgress, By: asWorker},
	{Action: "wait", From: []Status{InProgress}, To: WaitingOnCustomer, By: asWorker},
	{Action: "resume", From: []Status{WaitingOnCustomer}, To: InProgress, By: asRequester | asWorker},
	{Action: "approve_overrun", From: []Status{InProgress, WaitingOnCustomer}, By: asApprover,
		NotByRequesterOrFiler: true, NotByProviderAgent: true, WhenOverrunWaits: true},
	{Action: "resolve", From: []Status{InProgress}, To: Resolved, By: asWorker},
	{Action: "close", From: []Status{Resolved}, To: Closed, By: asRequester | asWorker},
	{Action: "reopen", From: []Status{Resolved}, To: InProgress, By: asRequester, WithinReopenWindow: true},
	{Action: "cancel", From: []Status{Submitted, PendingApproval, Open}, To: Cancelled, By: asRequester | asCanceller},
}

// Actions lists the action names in table order.
func Actions() []string {
	out := make([]string, len(Lifecycle))
	for i, t := range Lifecycle {
		out[i] = t.Action
	}
	return out
}

func transitionFor(action string) (Transition, bool) {
	i := slices.IndexFunc(Lifecycle, func(t Transition) bool { return t.Action == action })
	if i < 0 {
		return Transition{}, false
	}
	return Lifecycle[i], true
}

var partyNames = []struct {
	p    party
	name string
}{
	{asRequester, "the requester"},
	{asApprover, "a manager of the ordering unit (request:approve)"},
	{asCanceller, "a manager of the ordering unit (request:cancel)"},
	{asWorker, "an agent of the providing unit (request:work)"},
	{asDispatcher, "an agent or manager of the providing unit (request:assign)"},
}

// LifecycleMarkdown renders the table for docs/request-lifecycle.md.
func LifecycleMarkdown() string {
	var b strings.Builder
	b.WriteString("| action | from | to | who |\n|---|---|---|---|\n")
	for _, t := range Lifecycle {
		from := make([]string, len(t.From))
		for i, s := range t.From {
			from[i] = "`" + string(s) + "`"
		}
		to := "(unchanged)"
		if t.To != "" {
			to = "`" + string(t.To) + "`"
		}
		var who []string
		for _, pn := range partyNames {
			if t.By&pn.p != 0 {
				who = append(who, pn.name)
			}
		}
		whoText := strings.Join(who, " or ")
		if t.NotByRequesterOrFiler {
			whoText += ", never the requester nor whoever filed it"
		}
		if t.NotByProviderAgent {
			whoText += ", never an agent of the providing unit"
		}
		if t.WhenOverrunWaits {
			whoText += fmt.Sprintf(", while the fulfilment costs more than the estimate plus the tolerance (default %d %%) and no approval covers it", billing.DefaultOverrunTolerancePct)
		}
		if t.WithinReopenWindow {
			whoText += fmt.Sprintf(", within %d days of resolution", int(ReopenWindow.Hours()/24))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Action, strings.Join(from, ", "), to, whoText)
	}
	return b.String()
}

// AllowedActions lists the actions the viewer may take on r now, so a page
// offers those and only those.
func (v Viewer) AllowedActions(r *Request, now time.Time) []string {
	parties := v.partiesOf(r)
	var out []string
	for _, t := range Lifecycle {
		if !slices.Contains(t.From, r.Status) || parties&t.By == 0 {
			continue
		}
		if t.NotByRequesterOrFiler && v.fourEyes(r) != nil {
			continue
		}
		if t.NotByProviderAgent && parties&asWorker != 0 {
			continue
		}
		if t.WhenOverrunWaits && !r.OverrunWaits() {
			continue
		}
		if t.WithinReopenWindow && r.ResolvedAt != nil && now.Sub(*r.ResolvedAt) > ReopenWindow {
			continue
		}
		out = append(out, t.Action)
	}
	return out
}
