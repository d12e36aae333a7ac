package requests

import (
	"context"
	"slices"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/policies"
)

// Viewer is the person looking at or acting on requests, with the access
// rules that say what they may do.
type Viewer struct {
	UserID int64
	Authz  *policies.Authorizer
}

// party is a capacity a viewer can act in on one request. Each comes from
// the access rules, asked about the request's consumer or provider unit.
type party int

const (
	asRequester      party = 1 << iota // filed it for themself, or it was filed for them
	asApprover                         // request:approve in the consumer unit (its managers, inherited)
	asCanceller                        // request:cancel in the consumer unit
	asWorker                           // request:work in the provider unit (its agents)
	asDispatcher                       // request:assign in the provider unit (agents and managers)
	asConsumerReader                   // request:read_unit in the consumer unit
	asProviderReader                   // request:read_queue or read_unit in the provider unit
	asOrgReader                        // request:read_all: finance, auditor, admin
)

// partiesOf returns every capacity the viewer has on r.
func (v Viewer) partiesOf(r *Request) party {
	var p party
	if r.RequesterID == v.UserID {
		p |= asRequester
	}
	checks := []struct {
		p      party
		unitID int64
		act    string
	}{
		{asApprover, r.ConsumerUnitID, "approve"}, {asCanceller, r.ConsumerUnitID, "cancel"},
		{asWorker, r.ProviderUnitID, "work"}, {asDispatcher, r.ProviderUnitID, "assign"},
		{asConsumerReader, r.ConsumerUnitID, "read_unit"},
		{asProviderReader, r.ProviderUnitID, "read_queue"}, {asProviderReader, r.ProviderUnitID, "read_unit"},
		{asOrgReader, 0, "read_all"},
	}
	for _, c := range checks {
		if p&c.p == 0 && v.Authz.Can(v.UserID, c.unitID, "request", c.act) {
			p |= c.p
		}
	}
	return p
}

// fourEyes returns why the viewer cannot be the second pair of eyes on r,
// or nil when they are: they requested it, or they filed it for the
// requester (r.CreatedBy is whoever submitted it). The filer is no party
// of its own: filing for someone else gives no right to see or move the
// request later.
func (v Viewer) fourEyes(r *Request) error {
	switch v.UserID {
	case r.RequesterID:
		return fault.Forbidden("nobody approves or rejects their own request").With("reason", "requester")
	case r.CreatedBy:
		return fault.Forbidden("nobody approves or rejects an order they filed for someone else").With("reason", "filer")
	}
	return nil
}

// SeesInternal reports whether the viewer is on the provider side (or reads
// everything), and so sees internal comments and files.
func (v Viewer) SeesInternal(r *Request) bool {
	return v.partiesOf(r)&(asProviderReader|asOrgReader) != 0
}

// Get returns a request the viewer may see; any other is not found.
func Get(ctx context.Context, idb bun.IDB, v Viewer, id int64) (*Request, error) {
	r, err := get(ctx, idb, id)
	if err != nil {
		return nil, err
	}
	if v.partiesOf(r) == 0 {
		return nil, fault.NotFound("request")
	}
	return r, nil
}

// visibleScope is what a viewer may list: their own requests, those of the
// units they read as consumer (managed units) and as provider (managed and
// queue units), or all of them.
type visibleScope struct {
	userID   int64
	consumer []int64
	provider []int64
	all      bool
}

// scope reads the viewer's visibility rule from the access rules.
func (v Viewer) scope() visibleScope {
	managed, managesAll := v.Authz.UnitsWhere(v.UserID, "request", "read_unit")
	queues, queuesAll := v.Authz.UnitsWhere(v.UserID, "request", "read_queue")
	if managesAll || queuesAll || v.Authz.Can(v.UserID, 0, "request", "read_all") {
		return visibleScope{userID: v.UserID, all: true}
	}
	provider := slices.Concat(managed, queues)
	slices.Sort(provider)
	return visibleScope{userID: v.UserID, consumer: managed, provider: slices.Compact(provider)}
}

// or adds the scope as one condition to a query on requests (aliased r).
func (s visibleScope) or(q *bun.SelectQuery) *bun.SelectQuery {
	if s.all {
		return q
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.WhereOr("r.requester_id = ?", s.userID)
		if len(s.consumer) > 0 {
			q = q.WhereOr("r.consumer_unit_id IN (?)", bun.In(s.consumer))
		}
		if len(s.provider) > 0 {
			q = q.WhereOr("r.provider_unit_id IN (?)", bun.In(s.provider))
		}
		return q
	})
}

// branch is one equality of the scope's OR, answered by a (column, id) index.
type branch struct {
	where string
	value int64
}

// branches splits the scope into one equality per term of its OR: a request
// is visible exactly when it matches one of them. None for org-wide readers.
func (s visibleScope) branches() []branch {
	if s.all {
		return nil
	}
	bs := []branch{{"r.requester_id = ?", s.userID}}
	for _, id := range s.consumer {
		bs = append(bs, branch{"r.consumer_unit_id = ?", id})
	}
	for _, id := range s.provider {
		bs = append(bs, branch{"r.provider_unit_id = ?", id})
	}
	return bs
}
