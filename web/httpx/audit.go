package httpx

import (
	"net/url"

	"github.com/tiski/tiski/audit"
)

// AuditQuery reads the audit trail's filters from a query string, for the
// API's list and file and the portal's page alike; Parse checks them.
func AuditQuery(q url.Values) audit.FilterQuery {
	return audit.FilterQuery{ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"), ActorID: q.Get("actor_id"), ChargeID: q.Get("charge_id"),
		Action: q.Get("action"), From: q.Get("from"), To: q.Get("to")}
}

// AuditScope is the part of the trail the signed-in user reads
// (audit.ReaderScope decides, and refuses a user who reads none of it).
func (k *Kit) AuditScope(p *Principal) (audit.Scope, error) {
	return audit.ReaderScope(k.Authz, p.ID())
}
