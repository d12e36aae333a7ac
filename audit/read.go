package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/fault"
)

// The reading side of the trail: who may read which events (Scope), the
// filters a reader narrows them by (Filter), and the page of entries with
// the names behind the ids (List). Describe (wording.go) turns an entry
// into a sentence a person reads.

// MoneyObjects are the object types of the money trail finance reads:
// charges, disputes, periods, adjustments, budgets, grants, services and
// their rates, GL account mappings, and subscriptions.
var MoneyObjects = []string{"adjustment", "budget", "charge", "dispute", "gl_mapping", "grant", "grant_proposal", "period", "service", "subscription"}

// Scope is the part of the trail a reader sees.
type Scope struct {
	All   bool // auditors: everything
	Money bool // finance: the events of MoneyObjects
	// UnitIDs: managers see the events of the requests and charges whose
	// consumer or provider is one of these units, and of the disputes over
	// those charges.
	UnitIDs []int64
}

// None reports whether the reader sees no event at all.
func (s Scope) None() bool { return !s.All && !s.Money && len(s.UnitIDs) == 0 }

// Rules is what the trail asks of the access rules (policies.Authorizer;
// an interface, since policies' own tests build on packages that record
// audit events).
type Rules interface {
	Can(userID, unitID int64, obj, act string) bool
	UnitsWhere(userID int64, obj, act string) (unitIDs []int64, orgWide bool)
}

// ScopeOf reads a user's scope from the access rules: audit read_all
// (auditors), audit read (finance's money trail), audit read_unit in some
// units (managers, with every unit below theirs).
func ScopeOf(authz Rules, userID int64) Scope {
	if authz.Can(userID, 0, "audit", "read_all") {
		return Scope{All: true}
	}
	s := Scope{Money: authz.Can(userID, 0, "audit", "read")}
	s.UnitIDs, _ = authz.UnitsWhere(userID, "audit", "read_unit")
	return s
}

// ReaderScope is the part of the trail userID reads; a user who reads none
// of it is refused, on every surface alike.
func ReaderScope(authz Rules, userID int64) (Scope, error) {
	s := ScopeOf(authz, userID)
	if s.None() {
		return s, fault.Forbidden("the audit trail is for auditors, finance and unit managers")
	}
	return s, nil
}

// Filter narrows the trail. Zero fields do not filter.
type Filter struct {
	ObjectType string
	ObjectID   string
	ActorID    int64
	Action     string
	// ChargeID: the whole trail of one charge, from the order of its
	// request to the close of its month: the events of the charge, of its
	// disputes, of its request and of its period (and the month it was
	// late from).
	ChargeID int64
	From, To time.Time // From <= at < To
	BeforeID int64     // paging: only events older than this one
	Limit    int
}

// FilterQuery is a filter as a reader typed it (query parameters).
type FilterQuery struct {
	ObjectType, ObjectID, ActorID, ChargeID, Action, From, To string
}

// Parse checks q and returns its filter. A time is RFC 3339
// (2026-12-01T08:00:00Z) or a date (2026-12-01) in loc; a "to" date
// includes its whole day. A malformed value is a fault naming its field.
func (q FilterQuery) Parse(loc *time.Location) (Filter, error) {
	f := Filter{ObjectType: strings.TrimSpace(q.ObjectType), ObjectID: strings.TrimSpace(q.ObjectID), Action: strings.TrimSpace(q.Action)}
	if raw := strings.TrimSpace(q.ActorID); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			return f, fault.Invalid("actor_id", "%s must be an id such as \"42\"", "actor_id")
		}
		f.ActorID = id
	}
	if raw := strings.TrimSpace(q.ChargeID); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			return f, fault.Invalid("charge_id", "%s must be an id such as \"42\"", "charge_id")
		}
		f.ChargeID = id
	}
	var err error
	if f.From, err = parseBound("from", q.From, loc, false); err != nil {
		return f, err
	}
	if f.To, err = parseBound("to", q.To, loc, true); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, fault.Invalid("to", "%s must be after %s", "to", fault.Field("from"))
	}
	return f, nil
}

func parseBound(field, raw string, loc *time.Location, end bool) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), nil
	}
	day, err := time.ParseInLocation(time.DateOnly, raw, loc)
	if err != nil {
		return time.Time{}, fault.Invalid(field, "%s must be a time such as 2026-12-01T08:00:00Z or a date such as 2026-12-01", field)
	}
	if end {
		day = day.AddDate(0, 0, 1)
	}
	return day.UTC(), nil
}

// Entry is one event as a reader sees it, with the names behind its ids.
type Entry struct {
	ID         int64     `bun:"id"`
	At         time.Time `bun:"at"`
	ActorID    *int64    `bun:"actor_id"`
	ActorName  *string   `bun:"actor_name"`
	ObjectType string    `bun:"object_type"`
	ObjectID   string    `bun:"object_id"`
	Action     string    `bun:"action"`
	BeforeJSON *string   `bun:"before_json"`
	AfterJSON  *string   `bun:"after_json"`
}

// List returns the events of the trail in s that match f, newest first, at
// most f.Limit of them (all of them when it is 0).
func List(ctx context.Context, idb bun.IDB, s Scope, f Filter) ([]Entry, error) {
	if s.None() {
		return nil, nil
	}
	var entries []Entry
	q := idb.NewSelect().TableExpr("audit_events AS e").
		ColumnExpr("e.id, e.at, e.actor_id, e.object_type, e.object_id, e.action, e.before_json, e.after_json").
		ColumnExpr("u.name AS actor_name").
		Join("LEFT JOIN users AS u ON u.id = e.actor_id")
	if !s.All {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			if s.Money {
				q = q.WhereOr("e.object_type IN (?)", bun.In(MoneyObjects))
			}
			if len(s.UnitIDs) > 0 {
				ids := bun.In(s.UnitIDs)
				q = q.WhereOr("e.object_type = 'request' AND e.object_id IN (SELECT CAST(r.id AS TEXT) FROM requests AS r WHERE r.consumer_unit_id IN (?) OR r.provider_unit_id IN (?))", ids, ids).
					WhereOr("e.object_type = 'charge' AND e.object_id IN (SELECT CAST(c.id AS TEXT) FROM charges AS c WHERE c.consumer_unit_id IN (?) OR c.provider_unit_id IN (?))", ids, ids).
					WhereOr("e.object_type = 'dispute' AND e.object_id IN (SELECT CAST(d.id AS TEXT) FROM disputes AS d JOIN charges AS c ON c.id = d.charge_id WHERE c.consumer_unit_id IN (?) OR c.provider_unit_id IN (?))", ids, ids)
			}
			return q
		})
	}
	if f.ObjectType != "" {
		q = q.Where("e.object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("e.object_id = ?", f.ObjectID)
	}
	if f.ActorID != 0 {
		q = q.Where("e.actor_id = ?", f.ActorID)
	}
	if id := f.ChargeID; id != 0 {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.WhereOr("e.object_type = 'charge' AND e.object_id = ?", strconv.FormatInt(id, 10)).
				WhereOr("e.object_type = 'dispute' AND e.object_id IN (SELECT CAST(d.id AS TEXT) FROM disputes AS d WHERE d.charge_id = ?)", id).
				WhereOr("e.object_type = 'request' AND e.object_id IN (SELECT CAST(c.request_id AS TEXT) FROM charges AS c WHERE c.id = ? AND c.request_id IS NOT NULL)", id).
				WhereOr("e.object_type = 'period' AND (e.object_id IN (SELECT c.period FROM charges AS c WHERE c.id = ?) OR e.object_id IN (SELECT c.late_from FROM charges AS c WHERE c.id = ? AND c.late_from IS NOT NULL))", id, id)
		})
	}
	if f.Action != "" {
		q = q.Where("e.action = ?", f.Action)
	}
	if !f.From.IsZero() {
		q = q.Where("e.at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("e.at < ?", f.To.UTC())
	}
	if f.BeforeID != 0 {
		q = q.Where("e.id < ?", f.BeforeID)
	}
	q = q.OrderExpr("e.id DESC")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx, &entries); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return entries, nil
}

// Names are the names behind the ids a page of entries mentions.
type Names struct {
	Users    map[int64]string
	Units    map[int64]string
	Services map[int64]string
}

// LoadNames reads the names of the users, units and services the entries
// mention.
func LoadNames(ctx context.Context, idb bun.IDB, entries []Entry) (Names, error) {
	n := Names{Users: map[int64]string{}, Units: map[int64]string{}, Services: map[int64]string{}}
	var users, unitIDs, services []int64
	for i := range entries {
		r := mentions(&entries[i])
		users, unitIDs, services = append(users, r.users...), append(unitIDs, r.units...), append(services, r.services...)
	}
	load := func(table string, ids []int64, into map[int64]string) error {
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) == 0 {
			return nil
		}
		var rows []struct {
			ID   int64  `bun:"id"`
			Name string `bun:"name"`
		}
		if err := idb.NewSelect().Table(table).Column("id", "name").Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read %s names: %w", table, err)
		}
		for _, r := range rows {
			into[r.ID] = r.Name
		}
		return nil
	}
	if err := load("users", users, n.Users); err != nil {
		return n, err
	}
	if err := load("units", unitIDs, n.Units); err != nil {
		return n, err
	}
	return n, load("services", services, n.Services)
}
