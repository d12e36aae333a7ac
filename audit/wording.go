package audit

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/money"
)

// Sentence is an entry in words: a message key of the catalogue
// ("audit.dispute.accept") and its arguments, which are text, money
// (rendered in the reader's format) or terms (rendered in the reader's
// language; one without a group is a message id, such as a refusal's
// English reason). The first argument is always who did it; an event
// without an actor was Tiski's own (or the server operator's).
type Sentence struct {
	Key  string
	Args []any
}

// state is what the wording reads of an event's before and after: the
// union of the fields the recorded objects carry.
type state struct {
	ID              int64
	ChargeID        int64
	Reason          string
	Note            string
	Status          string
	CreditMinor     int64
	AmountMinor     int64
	PriceMinor      int64
	Currency        string
	Month           string
	UnitID          int64
	UserID          int64
	Role            string
	ServiceID       int64
	EffectiveFrom   string
	DebitUnitID     int64
	CreditUnitID    int64
	Code            string
	Name            string
	Email           string
	EstimateMinor   int64  `json:"estimate_minor"`
	OverrunMinor    int64  `json:"amount_minor"`
	OverrunCurr     string `json:"currency"`
	Attempt         string `json:"attempt"`
	RefusalReason   string `json:"reason"`
	RefusalMessage  string `json:"message"`
	ExpenseAccount  string
	RecoveryAccount string
}

func decode(raw *string) state {
	var s state
	if raw != nil {
		_ = json.Unmarshal([]byte(*raw), &s) // an object of another shape reads as empty
	}
	return s
}

type mentioned struct{ users, units, services []int64 }

// mentions lists the ids of users, units and services an entry's sentence
// names, for LoadNames.
func mentions(e *Entry) mentioned {
	var m mentioned
	after := decode(e.AfterJSON)
	switch e.ObjectType {
	case "budget":
		if id := leadingID(e.ObjectID); id != 0 {
			m.units = append(m.units, id)
		}
	case "grant":
		user, unit, _ := grantParts(e.ObjectID)
		m.users = append(m.users, user)
		if unit != 0 {
			m.units = append(m.units, unit)
		}
	case "adjustment":
		m.units = append(m.units, after.DebitUnitID, after.CreditUnitID)
	case "service":
		if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil {
			m.services = append(m.services, id)
		}
	case "gl_mapping":
		if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil {
			m.services = append(m.services, id)
		}
	case "calendar":
		if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil {
			m.units = append(m.units, id)
		}
	}
	return m
}

// leadingID reads the unit id of a budget's object id, "5/2026-12".
func leadingID(objectID string) int64 {
	head, _, _ := strings.Cut(objectID, "/")
	id, _ := strconv.ParseInt(head, 10, 64)
	return id
}

// grantParts reads a grant's object id: "org/USER/ROLE" or "UNIT/USER/ROLE".
func grantParts(objectID string) (userID, unitID int64, role string) {
	parts := strings.Split(objectID, "/")
	if len(parts) != 3 {
		return 0, 0, ""
	}
	userID, _ = strconv.ParseInt(parts[1], 10, 64)
	if parts[0] != "org" {
		unitID, _ = strconv.ParseInt(parts[0], 10, 64)
	}
	return userID, unitID, parts[2]
}

// Describe words an entry. The rules: each object type and action has a
// sentence of its own where one is written (the keys audit.<type>.<action>),
// a refusal reads "Refused: …" with its reason, and anything else the
// generic sentence naming the action and the object. Amounts without a
// currency of their own are in the organisation's currency.
func Describe(e *Entry, n Names, currency string) Sentence {
	var who any = fault.Term{Group: "audit.actor", Name: "system"}
	if e.ActorName != nil {
		who = *e.ActorName
	}
	after := decode(e.AfterJSON)
	cur := func(c string) string {
		if c != "" {
			return c
		}
		return currency
	}
	amount := func(minor int64, c string) money.Money { return money.Money{Minor: minor, Currency: cur(c)} }
	unit := func(id int64) string {
		if name, ok := n.Units[id]; ok {
			return name
		}
		return "#" + strconv.FormatInt(id, 10)
	}
	user := func(id int64) string {
		if name, ok := n.Users[id]; ok {
			return name
		}
		return "#" + strconv.FormatInt(id, 10)
	}
	say := func(key string, args ...any) Sentence {
		return Sentence{Key: "audit." + key, Args: append([]any{who}, args...)}
	}
	id := e.ObjectID
	switch e.ObjectType + "." + e.Action {
	case "dispute.raise":
		return say("dispute.raise", id, strconv.FormatInt(after.ChargeID, 10), after.Reason)
	case "dispute.accept":
		return say("dispute.accept", id, amount(after.CreditMinor, ""))
	case "dispute.reject":
		return say("dispute.reject", id, after.Note)
	case "charge.posted", "charge.disputed", "charge.credited":
		return say("charge.status", id, fault.Term{Group: "charge.status", Name: e.Action})
	case "adjustment.create":
		return say("adjustment.create", id, amount(after.AmountMinor, after.Currency), unit(after.DebitUnitID), unit(after.CreditUnitID), after.Reason)
	case "adjustment.approve", "adjustment.reject":
		return say("adjustment."+e.Action, id, amount(after.AmountMinor, after.Currency))
	case "period.review", "period.close":
		return say("period."+e.Action, id)
	case "budget.create", "budget.update", "budget.set":
		return say("budget.set", unit(leadingID(id)), after.Month, amount(after.AmountMinor, after.Currency))
	case "budget.warning":
		return say("budget.warning", unit(leadingID(id)), after.Month)
	case "grant.grant", "grant.revoke":
		grantee, unitID, role := grantParts(id)
		r := fault.Term{Group: "admin.role", Name: role}
		if unitID != 0 {
			return say("grant."+e.Action+"_unit", user(grantee), r, unit(unitID))
		}
		return say("grant."+e.Action, user(grantee), r)
	case "service.create", "service.update":
		return say("service."+e.Action, after.Name)
	case "service.add_rate":
		name := n.Services[after.ServiceID]
		return say("service.add_rate", name, amount(after.PriceMinor, after.Currency), after.EffectiveFrom)
	case "request.approve_overrun":
		return say("request.approve_overrun", id, amount(after.EstimateMinor, after.OverrunCurr), amount(after.OverrunMinor, after.OverrunCurr))
	case "gl_mapping.create", "gl_mapping.update":
		if id == "default" {
			return say("gl_mapping.set_default", after.ExpenseAccount, after.RecoveryAccount)
		}
		name := n.Services[leadingID(id)]
		if name == "" {
			name = "#" + id
		}
		return say("gl_mapping.set", name, after.ExpenseAccount, after.RecoveryAccount)
	case "calendar.set":
		return say("calendar.set", unit(leadingID(id)))
	case "user.create", "user.update", "user.set_password":
		return say("user."+e.Action, after.Name)
	case "unit.create", "unit.update":
		return say("unit."+e.Action, after.Name)
	}
	if e.ObjectType == "request" && e.Action != "refuse" && after.Status != "" {
		return say("request.status", id, fault.Term{Group: "status", Name: after.Status}, fault.Term{Group: "audit.action", Name: e.Action})
	}
	if e.Action == "refuse" {
		reason := after.RefusalMessage
		if reason == "" {
			reason = after.RefusalReason
		}
		return say("refuse", fault.Term{Group: "audit.action", Name: after.Attempt}, fault.Term{Group: "audit.object", Name: e.ObjectType}, id,
			fault.Term{Name: reason})
	}
	return say("generic", fault.Term{Group: "audit.action", Name: e.Action}, fault.Term{Group: "audit.object", Name: e.ObjectType}, id)
}
