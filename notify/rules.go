// Package notify decides who hears about what. A change that someone should
// hear about calls Record once, inside its own transaction: Record stores
// the event, resolves its recipients from the rules below, writes one
// in-app notification per recipient and, unless the recipient turned e-mail
// off for that kind, one e-mail message in the outbox. So a change and what
// people hear about it commit together or not at all.
package notify

import (
	"fmt"
	"strings"
)

// Kind names an event people hear about.
type Kind string

// The kinds, in the order the rules list them.
const (
	RequestFiled      Kind = "request_filed"
	ApprovalWaiting   Kind = "approval_waiting"
	RequestApproved   Kind = "request_approved"
	RequestRejected   Kind = "request_rejected"
	ProviderCommented Kind = "provider_commented"
	CustomerAnswered  Kind = "customer_answered"
	WaitingOnCustomer Kind = "waiting_on_customer"
	RequestResolved   Kind = "request_resolved"
	RequestAssigned   Kind = "request_assigned"
	DisputeRaised     Kind = "dispute_raised"
	DisputeSettled    Kind = "dispute_settled"
	OverrunWaiting    Kind = "overrun_waiting"
	AdjustmentWaiting Kind = "adjustment_waiting"
	SLAAtRisk         Kind = "sla_at_risk"
	SLABreached       Kind = "sla_breached"
	RatingReminder    Kind = "rating_reminder"
	QueueNew          Kind = "queue_new"
	QueueDigest       Kind = "queue_digest"
	BudgetReached     Kind = "budget_reached"
	BudgetWarning     Kind = "budget_warning"
	PeriodInReview    Kind = "period_in_review"
)

// Audience is a group of people an event can reach, found from the event's
// parties.
type Audience string

const (
	Requester        Audience = "requester"         // the person the request is for
	Assignee         Audience = "assignee"          // the agent the request is assigned to
	Approvers        Audience = "approvers"         // managers of the consumer unit and its ancestors, never the requester or filer
	ConsumerManagers Audience = "consumer_managers" // managers of the consumer unit and its ancestors
	Finance          Audience = "finance"           // every finance user
	Raiser           Audience = "raiser"            // whoever raised the dispute
	// AssigneeElseProviderManagers is the assignee, or when nobody is
	// assigned the managers of the provider unit and its ancestors.
	AssigneeElseProviderManagers Audience = "assignee_else_provider_managers"
	ProviderAgents               Audience = "provider_agents" // the agents of the provider unit
	Recipient                    Audience = "recipient"       // the one person a personal notice is for
)

// providerSide lists the audiences that may hear of internal matters: an
// internal event reaches only them, never the consumer side.
var providerSide = map[Audience]bool{Assignee: true, AssigneeElseProviderManagers: true, ProviderAgents: true}

// Rule says who hears of one kind of event.
type Rule struct {
	Kind   Kind
	Object string // the object type the event is about
	To     []Audience
	// Receipt lets the actor hear of their own act (the requester's receipt
	// of an order they filed); otherwise nobody is told what they did.
	Receipt bool
	// NotMaker keeps the maker of an adjustment out (maker-checker).
	NotMaker bool
	// Digest lets each recipient choose one daily digest (DigestKind)
	// instead of an e-mail per event; the in-app notification stays.
	Digest bool
}

// DigestKind is the kind of the daily digest of a kind whose rule has one.
var DigestKind = map[Kind]Kind{QueueNew: QueueDigest}

// Rules is who hears what, as data: Record enforces it, the preferences
// page lists its kinds and docs/notifications.md describes it.
var Rules = []Rule{
	{Kind: RequestFiled, Object: "request", To: []Audience{Requester}, Receipt: true},
	{Kind: ApprovalWaiting, Object: "request", To: []Audience{Approvers}},
	{Kind: RequestApproved, Object: "request", To: []Audience{Requester}},
	{Kind: RequestRejected, Object: "request", To: []Audience{Requester}},
	{Kind: ProviderCommented, Object: "request", To: []Audience{Requester}},
	{Kind: CustomerAnswered, Object: "request", To: []Audience{Assignee}},
	{Kind: WaitingOnCustomer, Object: "request", To: []Audience{Requester}},
	{Kind: RequestResolved, Object: "request", To: []Audience{Requester}},
	{Kind: RequestAssigned, Object: "request", To: []Audience{Assignee}},
	{Kind: DisputeRaised, Object: "dispute", To: []Audience{Finance}},
	{Kind: DisputeSettled, Object: "dispute", To: []Audience{Raiser, ConsumerManagers}},
	{Kind: OverrunWaiting, Object: "request", To: []Audience{Approvers}},
	{Kind: AdjustmentWaiting, Object: "adjustment", To: []Audience{Finance}, NotMaker: true},
	{Kind: SLAAtRisk, Object: "request", To: []Audience{AssigneeElseProviderManagers}},
	{Kind: SLABreached, Object: "request", To: []Audience{AssigneeElseProviderManagers}},
	{Kind: RatingReminder, Object: "request", To: []Audience{Requester}},
	{Kind: QueueNew, Object: "request", To: []Audience{ProviderAgents}, Digest: true},
	{Kind: QueueDigest, Object: "queue", To: []Audience{Recipient}},
	{Kind: BudgetReached, Object: "budget", To: []Audience{Finance}},
	{Kind: BudgetWarning, Object: "budget", To: []Audience{ConsumerManagers}},
	{Kind: PeriodInReview, Object: "statement", To: []Audience{ConsumerManagers}},
}

// Kinds lists every kind, in rule order.
func Kinds() []Kind {
	out := make([]Kind, len(Rules))
	for i, r := range Rules {
		out[i] = r.Kind
	}
	return out
}

// RuleFor returns the rule of kind.
func RuleFor(kind Kind) (Rule, bool) {
	for _, r := range Rules {
		if r.Kind == kind {
			return r, true
		}
	}
	return Rule{}, false
}

// audienceNames say in words who each audience is, for the docs.
var audienceNames = map[Audience]string{
	Requester:                    "the requester",
	Assignee:                     "the assignee",
	Approvers:                    "the managers of the consumer unit and its ancestors, never the requester or whoever filed it",
	ConsumerManagers:             "the managers of the consumer unit and its ancestors",
	Finance:                      "every finance user",
	Raiser:                       "whoever raised the dispute",
	AssigneeElseProviderManagers: "the assignee, or when nobody is assigned the managers of the provider unit and its ancestors",
	ProviderAgents:               "the agents of the provider unit",
	Recipient:                    "the person it is for",
}

// RulesMarkdown renders Rules for docs/notifications.md.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("| kind | about | who hears it |\n|---|---|---|\n")
	for _, r := range Rules {
		who := make([]string, len(r.To))
		for i, a := range r.To {
			who[i] = audienceNames[a]
		}
		text := strings.Join(who, "; ")
		if r.NotMaker {
			text += ", except its maker"
		}
		if r.Receipt {
			text += " (also when they did it themself: it is their receipt)"
		}
		if r.Digest {
			text += "; each chooses an e-mail for each or one daily digest (`" + string(DigestKind[r.Kind]) + "`)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.Kind, r.Object, text)
	}
	return b.String()
}
