package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// orderDesk is the fixture organisation with the people and services the request
// tests need on top of the harness personas:
//
//	mktmgr      manager of MKT (approves MKT's requests, runs MKT's services)
//	mktmember2  a second member of MKT
//	itsdmember  a member of IT-SD
//
// IT offers ALWAYS (fixed, always approved), NEVER (per_unit, never),
// THRESH (per_unit, threshold) and FORM (fixed, with a form); MKT offers
// DESIGN (hourly).
type orderDesk struct {
	*fixture
	as  map[string]*client
	svc map[string]string
}

var deskExtraPeople = []struct{ name, unit, role string }{
	{"mktmgr", "MKT", "manager"}, {"mktmember2", "MKT", "member"}, {"itsdmember", "IT-SD", "member"},
}

func newOrderDesk(t *testing.T, d *db.DB) *orderDesk {
	t.Helper()
	f := newFixture(t, d)
	ctx := context.Background()
	hash, err := auth.HashPassword(testPassword, cheapHash)
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		for _, p := range deskExtraPeople {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: p.name + "@example.org", Name: p.name, PasswordHash: hash})
			if err != nil {
				return err
			}
			f.users[p.name] = u.ID
			if _, err := units.GrantUnitRole(ctx, tx, 0, f.units[p.unit], u.ID, p.role); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("desk people: %v", err)
	}
	k := &orderDesk{fixture: f, as: map[string]*client{}, svc: map[string]string{}}
	for _, p := range personas {
		k.as[p.name] = f.login(p.name)
	}
	for _, p := range deskExtraPeople {
		k.as[p.name] = f.login(p.name)
	}
	form := []map[string]any{
		{"key": "size", "label": "Size", "type": "choice", "required": true, "options": []string{"S", "M", "L"}},
		{"key": "note", "label": "Note", "type": "text"},
	}
	for _, s := range []struct {
		by, unit, code, model, policy string
		price                         int64
		fields                        any
	}{
		{"itmgr", "IT", "ALWAYS", "fixed", "always", 10000, nil},
		{"itmgr", "IT", "NEVER", "per_unit", "never", 5000, nil},
		{"itmgr", "IT", "THRESH", "per_unit", "threshold", 2500, nil},
		{"itmgr", "IT", "FORM", "fixed", "never", 1000, form},
		{"mktmgr", "MKT", "DESIGN", "hourly", "never", 9000, nil},
	} {
		body := map[string]any{"provider_unit_id": id(f.units[s.unit]), "code": s.code, "name": s.code + " service",
			"pricing_model": s.model, "approval_policy": s.policy, "price": eur(s.price),
			"sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}}
		if s.fields != nil {
			body["fields"] = s.fields
		}
		res := k.as[s.by].call("POST", "/api/v1/services", body)
		if res.status != http.StatusCreated {
			t.Fatalf("create service %s: %d %s", s.code, res.status, res.body)
		}
		k.svc[s.code] = res.str("id")
	}
	return k
}

func eur(minor int64) map[string]any { return map[string]any{"amount_minor": minor, "currency": "EUR"} }

// file posts a request as the named person.
func (k *orderDesk) file(as string, body map[string]any) response {
	k.t.Helper()
	return k.as[as].call("POST", "/api/v1/requests", body)
}

// order files a request for the person's unit and fails the test unless it
// is created.
func (k *orderDesk) order(as, unit, service, title string, extra ...any) response {
	k.t.Helper()
	body := map[string]any{"service_id": k.svc[service], "consumer_unit_id": id(k.units[unit]), "title": title}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	res := k.file(as, body)
	if res.status != http.StatusCreated {
		k.t.Fatalf("%s ordering %s: %d %s", as, service, res.status, res.body)
	}
	return res
}

// act posts an action with the given version.
func (k *orderDesk) act(as, requestID, action string, version int64, extra ...any) response {
	k.t.Helper()
	body := map[string]any{"action": action, "version": version}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return k.as[as].call("POST", "/api/v1/requests/"+requestID+"/actions", body)
}

// mustAct takes an action with the request's current version and fails the
// test unless it succeeds.
func (k *orderDesk) mustAct(as, requestID, action string, extra ...any) response {
	k.t.Helper()
	res := k.act(as, requestID, action, k.row(requestID).Version, extra...)
	if res.status != http.StatusOK {
		k.t.Fatalf("%s %s on %s: %d %s", as, action, requestID, res.status, res.body)
	}
	return res
}

// row reads the request as stored.
func (k *orderDesk) row(requestID string) requests.Request {
	k.t.Helper()
	var r requests.Request
	if err := k.d.NewSelect().Model(&r).Where("id = ?", requestID).Scan(context.Background()); err != nil {
		k.t.Fatalf("read request %s: %v", requestID, err)
	}
	return r
}

// events counts the stored events of a request, of one action or all ("").
func (k *orderDesk) events(requestID, action string) int {
	k.t.Helper()
	q := k.d.NewSelect().Model((*requests.Event)(nil)).Where("request_id = ?", requestID)
	if action != "" {
		q = q.Where("action = ?", action)
	}
	n, err := q.Count(context.Background())
	if err != nil {
		k.t.Fatal(err)
	}
	return int(n)
}

// listIDs pages through GET /requests with the query and returns the ids
// in the order served.
func (k *orderDesk) listIDs(as, query string) []string {
	k.t.Helper()
	var ids []string
	cursor := ""
	for page := 0; page < 100; page++ {
		path := "/api/v1/requests?" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		res := k.as[as].call("GET", path, nil)
		if res.status != http.StatusOK {
			k.t.Fatalf("%s GET %s: %d %s", as, path, res.status, res.body)
		}
		for _, it := range res.items() {
			ids = append(ids, it["id"].(string))
		}
		if cursor = res.str("next_cursor"); cursor == "" {
			return ids
		}
	}
	k.t.Fatalf("%s GET /requests?%s did not end", as, query)
	return nil
}

func jsonInt(r response, key string) int64 {
	f, _ := r.json[key].(float64)
	return int64(f)
}

func amountMinor(r response, key string) int64 {
	m, _ := r.json[key].(map[string]any)
	f, _ := m["amount_minor"].(float64)
	return int64(f)
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sortedIDs(ids []string) []string {
	out := slices.Clone(ids)
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// lifecycleActor is a party allowed by role to take each action on a
// request a MKT member filed for MKT from IT.
var lifecycleActor = map[string]string{
	"approve": "mktmgr", "reject": "mktmgr", "assign": "itagent", "start": "itagent", "wait": "itagent",
	"resume": "mktmember", "resolve": "itagent", "close": "mktmember", "reopen": "mktmember", "cancel": "mktmember",
}

// lifecyclePath drives a fresh pending request to each status reachable
// through the API. (submitted is transient: Submit routes on the spot.)
var lifecyclePath = map[requests.Status][]string{
	requests.PendingApproval:   nil,
	requests.Open:              {"approve"},
	requests.InProgress:        {"approve", "start"},
	requests.WaitingOnCustomer: {"approve", "start", "wait"},
	requests.Resolved:          {"approve", "start", "resolve"},
	requests.Closed:            {"approve", "start", "resolve", "close"},
	requests.Rejected:          {"reject"},
	requests.Cancelled:         {"cancel"},
}

// TestEveryTransitionFromEveryState tries every action from every reachable
// status as a party the role rules allow: the transition table decides
// between 200 with the new status and 409 invalid_transition with nothing
// changed.
func TestEveryTransitionFromEveryState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		for _, from := range requests.Statuses {
			path, reachable := lifecyclePath[from]
			if !reachable {
				if from != requests.Submitted {
					t.Fatalf("no path to %s", from)
				}
				continue
			}
			for _, action := range requests.Actions() {
				i := slices.IndexFunc(requests.Lifecycle, func(tr requests.Transition) bool { return tr.Action == action })
				tr := requests.Lifecycle[i]
				created := k.order("mktmember", "MKT", "ALWAYS", fmt.Sprintf("%s from %s", action, from))
				rid := created.str("id")
				if created.str("status") != string(requests.PendingApproval) {
					t.Fatalf("filed request is %s", created.str("status"))
				}
				for _, step := range path {
					k.mustAct(lifecycleActor[step], rid, step)
				}
				before := k.row(rid)
				if before.Status != from {
					t.Fatalf("drove %s to %s, want %s", rid, before.Status, from)
				}
				eventsBefore := k.events(rid, "")
				var extra []any
				if action == "assign" {
					extra = []any{"assignee_id", id(k.users["itagent"])}
				}
				res := k.act(lifecycleActor[action], rid, action, before.Version, extra...)
				after := k.row(rid)
				if slices.Contains(tr.From, from) {
					want := tr.To
					if want == "" {
						want = from
					}
					if res.status != http.StatusOK || res.str("status") != string(want) || after.Status != want ||
						after.Version != before.Version+1 || jsonInt(res, "version") != after.Version ||
						k.events(rid, "") != eventsBefore+1 || k.events(rid, action) != 1 {
						t.Errorf("%s from %s: %d %s; stored %s v%d (was v%d), events %d→%d",
							action, from, res.status, res.body, after.Status, after.Version, before.Version, eventsBefore, k.events(rid, ""))
					}
					continue
				}
				if res.status != http.StatusConflict || res.errorCode() != "invalid_transition" {
					t.Errorf("%s from %s = %d %s, want 409 invalid_transition", action, from, res.status, res.body)
				}
				if after.Status != from || after.Version != before.Version || k.events(rid, "") != eventsBefore {
					t.Errorf("refused %s from %s changed the request: %s v%d, events %d→%d",
						action, from, after.Status, after.Version, eventsBefore, k.events(rid, ""))
				}
			}
		}
	})
}

// TestActionRefusals checks who may not act: the requester cannot work or
// approve their own request, an agent cannot approve, a stranger cannot
// even see it, and a stale version changes nothing.
func TestActionRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		refused := func(what, as, rid, action string, status int, code string) {
			t.Helper()
			before := k.row(rid)
			events := k.events(rid, "")
			res := k.act(as, rid, action, before.Version)
			if res.status != status || (code != "" && res.errorCode() != code) {
				t.Errorf("%s: %d %s, want %d %s", what, res.status, res.body, status, code)
			}
			if after := k.row(rid); after.Status != before.Status || after.Version != before.Version || k.events(rid, "") != events {
				t.Errorf("%s changed the request: %s v%d", what, after.Status, after.Version)
			}
		}
		open := k.order("mktmember", "MKT", "NEVER", "Open one").str("id")
		refused("start by the requester", "mktmember", open, "start", http.StatusForbidden, "forbidden")
		k.mustAct("itagent", open, "start")
		refused("resolve by the requester", "mktmember", open, "resolve", http.StatusForbidden, "forbidden")

		own := k.order("mktmgr", "MKT", "ALWAYS", "Manager's own").str("id")
		if k.row(own).Status != requests.PendingApproval {
			t.Fatalf("manager's own request is %s", k.row(own).Status)
		}
		refused("approve own request as the unit's manager", "mktmgr", own, "approve", http.StatusForbidden, "forbidden")
		refused("reject own request as the unit's manager", "mktmgr", own, "reject", http.StatusForbidden, "forbidden")
		refused("approve by a provider agent", "itagent", own, "approve", http.StatusForbidden, "forbidden")
		refused("approve by another member", "mktmember", own, "approve", http.StatusNotFound, "not_found")
		refused("cancel by an unrelated user", "nobody", own, "cancel", http.StatusNotFound, "not_found")
		refused("cancel by a member of another unit", "itsdmember", own, "cancel", http.StatusNotFound, "not_found")
		// The ancestor's manager may approve what the unit's manager filed.
		k.mustAct("groupmgr", own, "approve")

		pending := k.order("mktmember", "MKT", "ALWAYS", "Stale").str("id")
		before := k.row(pending)
		res := k.act("mktmgr", pending, "approve", before.Version-1)
		if res.status != http.StatusConflict || res.errorCode() != "stale_version" {
			t.Errorf("stale approve: %d %s", res.status, res.body)
		}
		res = k.act("mktmgr", pending, "approve", before.Version+1)
		if res.status != http.StatusConflict || res.errorCode() != "stale_version" {
			t.Errorf("future version approve: %d %s", res.status, res.body)
		}
		if after := k.row(pending); after.Status != before.Status || after.Version != before.Version || k.events(pending, "approve") != 0 {
			t.Errorf("stale approve changed the request: %s v%d", after.Status, after.Version)
		}
		res = k.as["mktmgr"].call("POST", "/api/v1/requests/"+pending+"/actions", map[string]any{"action": "approve"})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("action without version: %d %s", res.status, res.body)
		}
		res = k.act("mktmgr", pending, "teleport", before.Version)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("unknown action: %d %s", res.status, res.body)
		}
		res = k.act("itagent", open, "assign", k.row(open).Version, "assignee_id", id(k.users["mktmember"]))
		if res.status != http.StatusUnprocessableEntity || k.row(open).AssigneeID != nil {
			t.Errorf("assign to a non-agent: %d %s", res.status, res.body)
		}
	})
}

// TestApprovalRouting checks when a request waits for approval, and that
// approvals record who decided and why.
func TestApprovalRouting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		res := k.as["admin"].call("PATCH", "/api/v1/units/"+id(k.units["MKT"]), map[string]any{"approval_threshold": eur(10000)})
		if res.status != http.StatusOK {
			t.Fatalf("set threshold: %d %s", res.status, res.body)
		}
		cases := []struct {
			service, quantity string
			estimate          int64
			status            requests.Status
		}{
			{"THRESH", "1", 2500, requests.Open},
			{"THRESH", "4", 10000, requests.Open}, // equal to the threshold is within it
			{"THRESH", "4.01", 10025, requests.PendingApproval},
			{"THRESH", "400", 1000000, requests.PendingApproval},
			{"ALWAYS", "1", 10000, requests.PendingApproval},
			{"NEVER", "100", 500000, requests.Open},
			{"NEVER", "0.5", 2500, requests.Open},
		}
		for _, c := range cases {
			res := k.order("mktmember", "MKT", c.service, "Routing "+c.service+" × "+c.quantity, "quantity", c.quantity)
			if res.str("status") != string(c.status) || amountMinor(res, "estimate") != c.estimate ||
				res.json["needs_approval"] != (c.status == requests.PendingApproval) {
				t.Errorf("%s × %s: status %s estimate %d needs_approval %v, want %s %d",
					c.service, c.quantity, res.str("status"), amountMinor(res, "estimate"), res.json["needs_approval"], c.status, c.estimate)
			}
			if row := k.row(res.str("id")); row.Status != c.status || k.events(res.str("id"), "route") != 1 || k.events(res.str("id"), "submit") != 1 {
				t.Errorf("%s × %s stored as %s", c.service, c.quantity, row.Status)
			}
		}

		// Approval by the unit's manager and by a manager above it, with notes.
		for _, approver := range []string{"mktmgr", "groupmgr"} {
			rid := k.order("mktmember", "MKT", "ALWAYS", "Approve by "+approver).str("id")
			res := k.mustAct(approver, rid, "approve", "note", "ok by "+approver)
			if res.str("status") != "open" {
				t.Errorf("approved by %s: %s", approver, res.str("status"))
			}
			assertEvent(t, k, rid, "approve", approver, "pending_approval", "open", "ok by "+approver)
		}
		rid := k.order("mktmember", "MKT", "ALWAYS", "Reject me").str("id")
		res = k.mustAct("mktmgr", rid, "reject", "note", "no budget this quarter")
		if res.str("status") != "rejected" || k.row(rid).ClosedAt == nil {
			t.Errorf("rejected: %s", res.body)
		}
		assertEvent(t, k, rid, "reject", "mktmgr", "pending_approval", "rejected", "no budget this quarter")
		// IT's manager is not above MKT and may not approve its requests.
		rid = k.order("mktmember", "MKT", "ALWAYS", "Not yours").str("id")
		if res := k.act("itmgr", rid, "approve", k.row(rid).Version); res.status != http.StatusForbidden {
			t.Errorf("approve by the provider's manager: %d %s", res.status, res.body)
		}
	})
}

// assertEvent checks the request's one event of the action over the API.
func assertEvent(t *testing.T, k *orderDesk, rid, action, actor, from, to, note string) {
	t.Helper()
	res := k.as["admin"].call("GET", "/api/v1/requests/"+rid+"/events", nil)
	var found []map[string]any
	for _, e := range res.items() {
		if e["action"] == action {
			found = append(found, e)
		}
	}
	if res.status != http.StatusOK || len(found) != 1 {
		t.Fatalf("%s events of %s: %d %s", action, rid, res.status, res.body)
	}
	e := found[0]
	if e["actor_id"] != id(k.users[actor]) || e["from_status"] != from || e["to_status"] != to || e["note"] != note {
		t.Errorf("%s event of %s = %v, want by %s %s→%s %q", action, rid, e, actor, from, to, note)
	}
}

// TestAgentLogsRequestForMember covers requests an agent files on someone's
// behalf from a phone call or a walk-in.
func TestAgentLogsRequestForMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		base := func(requester, channel string) map[string]any {
			return map[string]any{"service_id": k.svc["NEVER"], "consumer_unit_id": id(k.units["MKT"]), "title": "Logged by phone",
				"requester_id": id(k.users[requester]), "channel": channel, "quantity": "2"}
		}
		res := k.file("itagent", base("mktmember", "phone"))
		if res.status != http.StatusCreated {
			t.Fatalf("agent logging by phone: %d %s", res.status, res.body)
		}
		rid := res.str("id")
		if res.str("requester_id") != id(k.users["mktmember"]) || res.str("created_by") != id(k.users["itagent"]) || res.str("channel") != "phone" {
			t.Errorf("logged request: %s", res.body)
		}
		if row := k.row(rid); row.RequesterID != k.users["mktmember"] || row.CreatedBy != k.users["itagent"] || row.Channel != "phone" {
			t.Errorf("stored: requester %d created_by %d channel %s", row.RequesterID, row.CreatedBy, row.Channel)
		}
		if res := k.as["mktmember"].call("GET", "/api/v1/requests/"+rid, nil); res.status != http.StatusOK {
			t.Errorf("the requester cannot see the request logged for them: %d", res.status)
		}
		if ids := k.listIDs("mktmember", "requester_id=me"); !slices.Equal(ids, []string{rid}) {
			t.Errorf("requester_id=me for the member = %v", ids)
		}

		rows := k.count("requests")
		for _, c := range []struct {
			name, as string
			body     map[string]any
			status   int
		}{
			{"channel portal", "itagent", base("mktmember", "portal"), 422},
			{"no channel", "itagent", base("mktmember", ""), 422},
			{"unknown channel", "itagent", base("mktmember", "pigeon"), 422},
			{"a member of the unit, not an agent", "mktmember2", base("mktmember", "phone"), 403},
			{"the consumer's manager, not an agent", "mktmgr", base("mktmember", "phone"), 403},
			{"requester not a member of the unit", "itagent", base("nobody", "phone"), 422},
			{"requester of another unit", "itagent", base("itsdmember", "phone"), 422},
			{"requester does not exist", "itagent", func() map[string]any {
				b := base("mktmember", "phone")
				b["requester_id"] = "999999"
				return b
			}(), 422},
		} {
			if res := k.file(c.as, c.body); res.status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.status)
			}
		}
		if got := k.count("requests"); got != rows {
			t.Errorf("refused logging wrote %d rows", got-rows)
		}
	})
}

// TestBadRequestInputWritesNothing sends each kind of bad order and checks
// it is refused with a 4xx and leaves no row behind.
func TestBadRequestInputWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		res := k.as["itmgr"].call("PATCH", "/api/v1/services/"+k.svc["ALWAYS"], map[string]any{"active": false})
		if res.status != http.StatusOK {
			t.Fatalf("deactivate: %d %s", res.status, res.body)
		}
		mkt := id(k.units["MKT"])
		order := func(service string, edit func(map[string]any)) map[string]any {
			b := map[string]any{"service_id": k.svc[service], "consumer_unit_id": mkt, "title": "A request"}
			if service == "FORM" {
				b["fields"] = map[string]any{"size": "M"}
			}
			if edit != nil {
				edit(b)
			}
			return b
		}
		set := func(key string, v any) func(map[string]any) { return func(b map[string]any) { b[key] = v } }
		raw := func(s string) []byte { return []byte(s) }
		cases := []struct {
			name   string
			body   any
			status int
		}{
			{"unknown service", order("NEVER", set("service_id", "999999")), 422},
			{"service id not a number", order("NEVER", set("service_id", "abc")), 422},
			{"inactive service", order("ALWAYS", nil), 422},
			{"unit the caller is not a member of", order("NEVER", set("consumer_unit_id", id(k.units["IT"]))), 422},
			{"unknown unit", order("NEVER", set("consumer_unit_id", "999999")), 422},
			{"quantity 0", order("NEVER", set("quantity", 0)), 422},
			{"quantity -1", order("NEVER", set("quantity", -1)), 422},
			{"quantity 10001", order("NEVER", set("quantity", 10001)), 422},
			{"quantity 1.234", order("NEVER", set("quantity", 1.234)), 422},
			{"quantity string 1.234", order("NEVER", set("quantity", "1.234")), 422},
			{"quantity abc", order("NEVER", set("quantity", "abc")), 400},
			{"quantity 1e3", raw(`{"service_id":"` + k.svc["NEVER"] + `","consumer_unit_id":"` + mkt + `","title":"x","quantity":1e3}`), 422},
			{"quantity 1e3 as string", order("NEVER", set("quantity", "1e3")), 422},
			{"quantity 2 on a fixed service", order("FORM", set("quantity", 2)), 422},
			{"missing required field", order("FORM", set("fields", map[string]any{"note": "hi"})), 422},
			{"no fields for a form", order("FORM", set("fields", nil)), 422},
			{"choice outside options", order("FORM", set("fields", map[string]any{"size": "XXL"})), 422},
			{"unknown field key", order("FORM", set("fields", map[string]any{"size": "M", "colour": "red"})), 422},
			{"field of the wrong type", order("FORM", set("fields", map[string]any{"size": 3})), 422},
			{"empty title", order("NEVER", set("title", "")), 422},
			{"blank title", order("NEVER", set("title", "   ")), 422},
			{"title over 200", order("NEVER", set("title", strings.Repeat("t", 201))), 422},
			{"unknown top-level field", order("NEVER", set("priority", "high")), 400},
			{"malformed JSON", raw(`{"service_id": "` + k.svc["NEVER"] + `", "title": `), 400},
			{"bad channel", order("NEVER", set("channel", "pigeon")), 422},
		}
		tables := []string{"requests", "request_events", "idempotency_keys"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = k.count(tb)
		}
		for _, c := range cases {
			res := k.as["mktmember"].call("POST", "/api/v1/requests", c.body)
			if res.status != c.status || res.errorCode() == "" {
				t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.status)
			}
		}
		for _, tb := range tables {
			if got := k.count(tb); got != before[tb] {
				t.Errorf("bad input wrote %d rows to %s", got-before[tb], tb)
			}
		}
		// The same order, made good, is accepted: the refusals were about the input.
		if res := k.file("mktmember", order("FORM", nil)); res.status != http.StatusCreated || res.json["fields"].(map[string]any)["size"] != "M" {
			t.Errorf("good order: %d %s", res.status, res.body)
		}
		if res := k.file("mktmember", order("NEVER", set("quantity", "1.50"))); res.status != http.StatusCreated || res.str("quantity") != "1.5" || amountMinor(res, "estimate") != 7500 {
			t.Errorf("quantity 1.50: %d %s", res.status, res.body)
		}
	})
}

// TestRequestVisibilityAndFilters files requests across units and checks
// who sees which, through every read path, and what each filter returns.
func TestRequestVisibilityAndFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		r1 := k.order("mktmember", "MKT", "NEVER", "Laptop for Anna").str("id")
		r2 := k.order("mktmember2", "MKT", "NEVER", "Monitors for the design team", "quantity", "3").str("id")
		r3 := k.order("itsdmember", "IT-SD", "DESIGN", "Spring campaign visuals", "quantity", "4").str("id")
		r4 := k.order("mktmgr", "MKT", "ALWAYS", "Docking station").str("id")
		r5 := k.order("itsdmember", "IT-SD", "NEVER", "Keyboard replacement").str("id")
		k.mustAct("itagent", r2, "assign", "assignee_id", id(k.users["itagent"]))
		k.mustAct("itagent", r5, "start")
		all := []string{r1, r2, r3, r4, r5}

		sees := map[string][]string{
			"mktmember":  {r1},
			"mktmember2": {r2},
			"itsdmember": {r3, r5},
			"mktmgr":     {r1, r2, r3, r4}, // MKT's requests, and MKT's own queue (DESIGN)
			"groupmgr":   all,
			"itmgr":      all, // IT's queue, and IT-SD's requests
			"itagent":    {r1, r2, r4, r5},
			"finance":    all, "auditor": all, "admin": all,
			"nobody": {},
		}
		titles := map[string]string{r1: "laptop", r2: "monitors", r3: "campaign", r4: "docking", r5: "keyboard"}
		for who, want := range sees {
			if got := sortedIDs(k.listIDs(who, "limit=200")); !slices.Equal(got, want) {
				t.Errorf("%s lists %v, want %v", who, got, want)
			}
			for _, rid := range all {
				visible := slices.Contains(want, rid)
				wantStatus := http.StatusNotFound
				if visible {
					wantStatus = http.StatusOK
				}
				if res := k.as[who].call("GET", "/api/v1/requests/"+rid, nil); res.status != wantStatus {
					t.Errorf("%s GET request %s = %d, want %d", who, rid, res.status, wantStatus)
				}
				if res := k.as[who].call("GET", "/api/v1/requests/"+rid+"/events", nil); res.status != wantStatus {
					t.Errorf("%s GET events of %s = %d, want %d", who, rid, res.status, wantStatus)
				}
				if !visible {
					before := k.row(rid)
					if res := k.act(who, rid, "cancel", before.Version); res.status != http.StatusNotFound {
						t.Errorf("%s cancel %s = %d, want 404", who, rid, res.status)
					}
					if res := k.act(who, rid, "approve", before.Version); res.status != http.StatusNotFound {
						t.Errorf("%s approve %s = %d, want 404", who, rid, res.status)
					}
					if after := k.row(rid); after.Version != before.Version {
						t.Errorf("%s changed invisible %s", who, rid)
					}
				}
				for _, q := range []string{titles[rid], requests.Number(k.row(rid).ID), strings.ToLower(requests.Number(k.row(rid).ID))} {
					got := k.listIDs(who, "q="+url.QueryEscape(q))
					wantIDs := []string{}
					if visible {
						wantIDs = []string{rid}
					}
					if !slices.Equal(append([]string{}, got...), wantIDs) {
						t.Errorf("%s q=%s = %v, want %v", who, q, got, wantIDs)
					}
				}
			}
		}
		if res := k.as["nobody"].call("GET", "/api/v1/requests/999999", nil); res.status != http.StatusNotFound {
			t.Errorf("unknown request = %d", res.status)
		}

		u := func(name string) string { return id(k.units[name]) }
		for _, c := range []struct {
			as, query string
			want      []string
		}{
			{"admin", "status=pending_approval", []string{r4}},
			{"admin", "status=open", []string{r1, r2, r3}},
			{"admin", "status=open,in_progress", []string{r1, r2, r3, r5}},
			{"admin", "status=in_progress", []string{r5}},
			{"admin", "status=closed", []string{}},
			{"admin", "consumer_unit_id=" + u("MKT"), []string{r1, r2, r4}},
			{"admin", "consumer_unit_id=" + u("IT-SD"), []string{r3, r5}},
			{"admin", "provider_unit_id=" + u("MKT"), []string{r3}},
			{"admin", "provider_unit_id=" + u("IT"), []string{r1, r2, r4, r5}},
			{"admin", "service_id=" + k.svc["NEVER"], []string{r1, r2, r5}},
			{"admin", "consumer_unit_id=" + u("MKT") + "&status=open", []string{r1, r2}},
			{"admin", "assignee_id=" + id(k.users["itagent"]), []string{r2}},
			{"admin", "requester_id=" + id(k.users["mktmember"]), []string{r1}},
			{"admin", "q=LAPTOP", []string{r1}},
			{"admin", "q=for", []string{r1, r2}},
			{"admin", "q=%25", []string{}},
			{"itagent", "assignee_id=me", []string{r2}},
			{"itagent", "assignee_id=none", []string{r1, r4, r5}},
			{"itagent", "consumer_unit_id=" + u("IT-SD"), []string{r5}},
			{"mktmember2", "requester_id=me", []string{r2}},
			{"mktmgr", "requester_id=me", []string{r4}},
			{"mktmgr", "provider_unit_id=" + u("MKT"), []string{r3}},
			{"mktmember", "consumer_unit_id=" + u("MKT"), []string{r1}},
		} {
			if got := sortedIDs(k.listIDs(c.as, c.query)); !slices.Equal(got, c.want) {
				t.Errorf("%s ?%s = %v, want %v", c.as, c.query, got, c.want)
			}
		}
		for _, q := range []string{"status=lost", "consumer_unit_id=abc", "assignee_id=someone", "sort=priority", "limit=0", "limit=201"} {
			if res := k.as["admin"].call("GET", "/api/v1/requests?"+q, nil); res.status != http.StatusUnprocessableEntity {
				t.Errorf("?%s = %d %s, want 422", q, res.status, res.body)
			}
		}
	})
}

// TestRequestPagination pages with limit=2 through every sort and checks
// each visible request comes exactly once, in the sort's order.
func TestRequestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		var mine []string
		for i := 0; i < 4; i++ {
			mine = append(mine, k.order("mktmember", "MKT", "NEVER", fmt.Sprintf("Mine %d", i)).str("id"))
		}
		other := k.order("itsdmember", "IT-SD", "NEVER", "Not MKT's").str("id")
		for i := 4; i < 7; i++ {
			mine = append(mine, k.order("mktmember2", "MKT", "NEVER", fmt.Sprintf("Mine %d", i)).str("id"))
		}
		// Touch older requests so the updated order differs from the created one.
		k.mustAct("itagent", mine[0], "start")
		k.mustAct("itagent", mine[2], "start")
		k.mustAct("itagent", mine[0], "wait")
		visible := map[string][]string{"mktmgr": mine, "admin": append(slices.Clone(mine), other)}

		for who, want := range visible {
			for _, sortBy := range []string{"-created", "created", "-updated", "updated"} {
				full := k.as[who].call("GET", "/api/v1/requests?limit=200&sort="+sortBy, nil)
				var fullIDs []string
				var updated []string
				for _, it := range full.items() {
					fullIDs = append(fullIDs, it["id"].(string))
					updated = append(updated, it["updated_at"].(string))
				}
				paged := k.listIDs(who, "limit=2&sort="+url.QueryEscape(sortBy))
				if !slices.Equal(paged, fullIDs) {
					t.Errorf("%s sort=%s: pages %v, one list %v", who, sortBy, paged, fullIDs)
				}
				if got := sortedIDs(paged); !slices.Equal(got, sortedIDs(want)) {
					t.Errorf("%s sort=%s returned %v, want each of %v once", who, sortBy, got, sortedIDs(want))
				}
				switch sortBy {
				case "created":
					if !slices.Equal(paged, sortedIDs(paged)) {
						t.Errorf("sort=created order %v", paged)
					}
				case "-created":
					rev := sortedIDs(paged)
					slices.Reverse(rev)
					if !slices.Equal(paged, rev) {
						t.Errorf("sort=-created order %v", paged)
					}
				case "-updated", "updated":
					for i := 1; i < len(updated); i++ {
						a, b := parseTime(t, updated[i-1]), parseTime(t, updated[i])
						if (sortBy == "-updated" && a.Before(b)) || (sortBy == "updated" && b.Before(a)) {
							t.Errorf("sort=%s order %v at %v", sortBy, fullIDs, updated)
						}
					}
				}
			}
			if got := k.listIDs(who, "limit=2&sort=-updated"); got[0] != mine[0] {
				t.Errorf("%s sort=-updated starts with %s, want the last touched %s", who, got[0], mine[0])
			}
		}

		first := k.as["admin"].call("GET", "/api/v1/requests?limit=2&sort=-created", nil)
		cursor := first.str("next_cursor")
		if cursor == "" {
			t.Fatal("no next cursor")
		}
		tampered := []byte(cursor)
		tampered[2] ^= 1
		units := k.as["admin"].call("GET", "/api/v1/units?limit=1", nil).str("next_cursor")
		for name, q := range map[string]string{
			"cursor from another sort":      "sort=created&cursor=" + url.QueryEscape(cursor),
			"cursor from -updated":          "sort=-updated&cursor=" + url.QueryEscape(cursor),
			"tampered cursor":               "sort=-created&cursor=" + url.QueryEscape(string(tampered)),
			"cursor from another list":      "sort=-created&cursor=" + url.QueryEscape(units),
			"cursor garbage":                "cursor=abc",
			"unknown sort":                  "sort=title",
			"unknown sort with good cursor": "sort=-title&cursor=" + url.QueryEscape(cursor),
		} {
			if res := k.as["admin"].call("GET", "/api/v1/requests?"+q, nil); res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s, want 422", name, res.status, res.body)
			}
		}
		if res := k.as["admin"].call("GET", "/api/v1/requests?sort=-created&limit=2&cursor="+url.QueryEscape(cursor), nil); res.status != http.StatusOK || len(res.items()) != 2 {
			t.Errorf("the untouched cursor: %d %s", res.status, res.body)
		}
	})
}
