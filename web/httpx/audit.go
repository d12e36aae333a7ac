package httpx

import (
	"net/url"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/fault"
)

// AuditQuery reads the audit trail's filters from a query string, for the
// API's list and file and the portal's page alike; Parse checks them.
func AuditQuery(q url.Values) audit.FilterQuery {
	return audit.FilterQuery{ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"), ActorID: q.Get("actor_id"),
		Action: q.Get("action"), From: q.Get("from"), To: q.Get("to")}
}

// AuditScope is the part of the trail the signed-in user reads; a user who
// reads none of it is refused.
func (k *Kit) AuditScope(p *Principal) (audit.Scope, error) {
	s := audit.ScopeOf(k.Authz, p.ID())
	if s.None() {
		return s, fault.Forbidden("the audit trail is for auditors, finance and unit managers")
	}
	return s, nil
}
