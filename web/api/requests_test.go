package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web/webtest"
)

func jsonInt(r webtest.Response, key string) int64 {
	f, _ := r.JSON[key].(float64)
	return int64(f)
}

func amountMinor(r webtest.Response, key string) int64 {
	m, _ := r.JSON[key].(map[string]any)
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
	"resume": "mktmember", "approve_overrun": "mktmgr", "resolve": "itagent", "close": "mktmember", "reopen": "mktmember", "cancel": "mktmember",
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
		k := webtest.NewOrderDesk(t, d)
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
				created := k.Order("mktmember", "MKT", "ALWAYS", fmt.Sprintf("%s from %s", action, from))
				rid := created.Str("id")
				if created.Str("status") != string(requests.PendingApproval) {
					t.Fatalf("filed request is %s", created.Str("status"))
				}
				for _, step := range path {
					k.MustAct(lifecycleActor[step], rid, step)
				}
				before := k.Row(rid)
				if before.Status != from {
					t.Fatalf("drove %s to %s, want %s", rid, before.Status, from)
				}
				eventsBefore := k.Events(rid, "")
				var extra []any
				if action == "assign" {
					extra = []any{"assignee_id", webtest.ID(k.Users["itagent"])}
				}
				res := k.Act(lifecycleActor[action], rid, action, before.Version, extra...)
				after := k.Row(rid)
				if slices.Contains(tr.From, from) && tr.WhenOverrunWaits {
					// A fixed price never overruns: nothing waits to approve.
					if res.Status != http.StatusConflict || res.ErrorCode() != "no_overrun" || after.Version != before.Version {
						t.Errorf("%s from %s without an overrun = %d %s, want 409 no_overrun", action, from, res.Status, res.Body)
					}
					continue
				}
				if slices.Contains(tr.From, from) {
					want := tr.To
					if want == "" {
						want = from
					}
					if res.Status != http.StatusOK || res.Str("status") != string(want) || after.Status != want ||
						after.Version != before.Version+1 || jsonInt(res, "version") != after.Version ||
						k.Events(rid, "") != eventsBefore+1 || k.Events(rid, action) != 1 {
						t.Errorf("%s from %s: %d %s; stored %s v%d (was v%d), events %d→%d",
							action, from, res.Status, res.Body, after.Status, after.Version, before.Version, eventsBefore, k.Events(rid, ""))
					}
					continue
				}
				if res.Status != http.StatusConflict || res.ErrorCode() != "invalid_transition" {
					t.Errorf("%s from %s = %d %s, want 409 invalid_transition", action, from, res.Status, res.Body)
				}
				if after.Status != from || after.Version != before.Version || k.Events(rid, "") != eventsBefore {
					t.Errorf("refused %s from %s changed the request: %s v%d, events %d→%d",
						action, from, after.Status, after.Version, eventsBefore, k.Events(rid, ""))
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
		k := webtest.NewOrderDesk(t, d)
		refused := func(what, as, rid, action string, status int, code string) {
			t.Helper()
			before := k.Row(rid)
			events := k.Events(rid, "")
			res := k.Act(as, rid, action, before.Version)
			if res.Status != status || (code != "" && res.ErrorCode() != code) {
				t.Errorf("%s: %d %s, want %d %s", what, res.Status, res.Body, status, code)
			}
			if after := k.Row(rid); after.Status != before.Status || after.Version != before.Version || k.Events(rid, "") != events {
				t.Errorf("%s changed the request: %s v%d", what, after.Status, after.Version)
			}
		}
		open := k.Order("mktmember", "MKT", "NEVER", "Open one").Str("id")
		refused("start by the requester", "mktmember", open, "start", http.StatusForbidden, "forbidden")
		k.MustAct("itagent", open, "start")
		refused("resolve by the requester", "mktmember", open, "resolve", http.StatusForbidden, "forbidden")

		own := k.Order("mktmgr", "MKT", "ALWAYS", "Manager's own").Str("id")
		if k.Row(own).Status != requests.PendingApproval {
			t.Fatalf("manager's own request is %s", k.Row(own).Status)
		}
		refused("approve own request as the unit's manager", "mktmgr", own, "approve", http.StatusForbidden, "forbidden")
		refused("reject own request as the unit's manager", "mktmgr", own, "reject", http.StatusForbidden, "forbidden")
		refused("approve by a provider agent", "itagent", own, "approve", http.StatusForbidden, "forbidden")
		refused("approve by another member", "mktmember", own, "approve", http.StatusNotFound, "not_found")
		refused("cancel by an unrelated user", "nobody", own, "cancel", http.StatusNotFound, "not_found")
		refused("cancel by a member of another unit", "itsdmember", own, "cancel", http.StatusNotFound, "not_found")
		// The ancestor's manager may approve what the unit's manager filed.
		k.MustAct("groupmgr", own, "approve")

		pending := k.Order("mktmember", "MKT", "ALWAYS", "Stale").Str("id")
		before := k.Row(pending)
		res := k.Act("mktmgr", pending, "approve", before.Version-1)
		if res.Status != http.StatusConflict || res.ErrorCode() != "stale_version" {
			t.Errorf("stale approve: %d %s", res.Status, res.Body)
		}
		res = k.Act("mktmgr", pending, "approve", before.Version+1)
		if res.Status != http.StatusConflict || res.ErrorCode() != "stale_version" {
			t.Errorf("future version approve: %d %s", res.Status, res.Body)
		}
		if after := k.Row(pending); after.Status != before.Status || after.Version != before.Version || k.Events(pending, "approve") != 0 {
			t.Errorf("stale approve changed the request: %s v%d", after.Status, after.Version)
		}
		res = k.As["mktmgr"].Call("POST", "/api/v1/requests/"+pending+"/actions", map[string]any{"action": "approve"})
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("action without version: %d %s", res.Status, res.Body)
		}
		res = k.Act("mktmgr", pending, "teleport", before.Version)
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("unknown action: %d %s", res.Status, res.Body)
		}
		res = k.Act("itagent", open, "assign", k.Row(open).Version, "assignee_id", webtest.ID(k.Users["mktmember"]))
		if res.Status != http.StatusUnprocessableEntity || k.Row(open).AssigneeID != nil {
			t.Errorf("assign to a non-agent: %d %s", res.Status, res.Body)
		}
	})
}

// TestApprovalRouting checks when a request waits for approval, and that
// approvals record who decided and why.
func TestApprovalRouting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		res := k.As["admin"].Call("PATCH", "/api/v1/units/"+webtest.ID(k.Units["MKT"]), map[string]any{"approval_threshold": webtest.EUR(10000)})
		if res.Status != http.StatusOK {
			t.Fatalf("set threshold: %d %s", res.Status, res.Body)
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
			res := k.Order("mktmember", "MKT", c.service, "Routing "+c.service+" × "+c.quantity, "quantity", c.quantity)
			if res.Str("status") != string(c.status) || amountMinor(res, "estimate") != c.estimate ||
				res.JSON["needs_approval"] != (c.status == requests.PendingApproval) {
				t.Errorf("%s × %s: status %s estimate %d needs_approval %v, want %s %d",
					c.service, c.quantity, res.Str("status"), amountMinor(res, "estimate"), res.JSON["needs_approval"], c.status, c.estimate)
			}
			if row := k.Row(res.Str("id")); row.Status != c.status || k.Events(res.Str("id"), "route") != 1 || k.Events(res.Str("id"), "submit") != 1 {
				t.Errorf("%s × %s stored as %s", c.service, c.quantity, row.Status)
			}
		}

		// Approval by the unit's manager and by a manager above it, with notes.
		for _, approver := range []string{"mktmgr", "groupmgr"} {
			rid := k.Order("mktmember", "MKT", "ALWAYS", "Approve by "+approver).Str("id")
			res := k.MustAct(approver, rid, "approve", "note", "ok by "+approver)
			if res.Str("status") != "open" {
				t.Errorf("approved by %s: %s", approver, res.Str("status"))
			}
			assertEvent(t, k, rid, "approve", approver, "pending_approval", "open", "ok by "+approver)
		}
		rid := k.Order("mktmember", "MKT", "ALWAYS", "Reject me").Str("id")
		res = k.MustAct("mktmgr", rid, "reject", "note", "no budget this quarter")
		if res.Str("status") != "rejected" || k.Row(rid).ClosedAt == nil {
			t.Errorf("rejected: %s", res.Body)
		}
		assertEvent(t, k, rid, "reject", "mktmgr", "pending_approval", "rejected", "no budget this quarter")
		// IT's manager is not above MKT and may not approve its requests.
		rid = k.Order("mktmember", "MKT", "ALWAYS", "Not yours").Str("id")
		if res := k.Act("itmgr", rid, "approve", k.Row(rid).Version); res.Status != http.StatusForbidden {
			t.Errorf("approve by the provider's manager: %d %s", res.Status, res.Body)
		}
	})
}

// assertEvent checks the request's one event of the action over the API.
func assertEvent(t *testing.T, k *webtest.OrderDesk, rid, action, actor, from, to, note string) {
	t.Helper()
	res := k.As["admin"].Call("GET", "/api/v1/requests/"+rid+"/events", nil)
	var found []map[string]any
	for _, e := range res.Items() {
		if e["action"] == action {
			found = append(found, e)
		}
	}
	if res.Status != http.StatusOK || len(found) != 1 {
		t.Fatalf("%s events of %s: %d %s", action, rid, res.Status, res.Body)
	}
	e := found[0]
	if e["actor_id"] != webtest.ID(k.Users[actor]) || e["from_status"] != from || e["to_status"] != to || e["note"] != note {
		t.Errorf("%s event of %s = %v, want by %s %s→%s %q", action, rid, e, actor, from, to, note)
	}
}

// TestAgentLogsRequestForMember covers requests an agent files on someone's
// behalf from a phone call or a walk-in.
func TestAgentLogsRequestForMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		base := func(requester, channel string) map[string]any {
			return map[string]any{"service_id": k.Svc["NEVER"], "consumer_unit_id": webtest.ID(k.Units["MKT"]), "title": "Logged by phone",
				"requester_id": webtest.ID(k.Users[requester]), "channel": channel, "quantity": "2"}
		}
		res := k.File("itagent", base("mktmember", "phone"))
		if res.Status != http.StatusCreated {
			t.Fatalf("agent logging by phone: %d %s", res.Status, res.Body)
		}
		rid := res.Str("id")
		if res.Str("requester_id") != webtest.ID(k.Users["mktmember"]) || res.Str("created_by") != webtest.ID(k.Users["itagent"]) || res.Str("channel") != "phone" {
			t.Errorf("logged request: %s", res.Body)
		}
		if row := k.Row(rid); row.RequesterID != k.Users["mktmember"] || row.CreatedBy != k.Users["itagent"] || row.Channel != "phone" {
			t.Errorf("stored: requester %d created_by %d channel %s", row.RequesterID, row.CreatedBy, row.Channel)
		}
		if res := k.As["mktmember"].Call("GET", "/api/v1/requests/"+rid, nil); res.Status != http.StatusOK {
			t.Errorf("the requester cannot see the request logged for them: %d", res.Status)
		}
		if ids := k.ListIDs("mktmember", "requester_id=me"); !slices.Equal(ids, []string{rid}) {
			t.Errorf("requester_id=me for the member = %v", ids)
		}

		rows := k.Count("requests")
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
			if res := k.File(c.as, c.body); res.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.status)
			}
		}
		if got := k.Count("requests"); got != rows {
			t.Errorf("refused logging wrote %d rows", got-rows)
		}
	})
}

// TestBadRequestInputWritesNothing sends each kind of bad order and checks
// it is refused with a 4xx and leaves no row behind.
func TestBadRequestInputWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		res := k.As["itmgr"].Call("PATCH", "/api/v1/services/"+k.Svc["ALWAYS"], map[string]any{"active": false})
		if res.Status != http.StatusOK {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		mkt := webtest.ID(k.Units["MKT"])
		order := func(service string, edit func(map[string]any)) map[string]any {
			b := map[string]any{"service_id": k.Svc[service], "consumer_unit_id": mkt, "title": "A request"}
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
			{"unit the caller is not a member of", order("NEVER", set("consumer_unit_id", webtest.ID(k.Units["IT"]))), 422},
			{"unknown unit", order("NEVER", set("consumer_unit_id", "999999")), 422},
			{"quantity 0", order("NEVER", set("quantity", 0)), 422},
			{"quantity -1", order("NEVER", set("quantity", -1)), 422},
			{"quantity 10001", order("NEVER", set("quantity", 10001)), 422},
			{"quantity 1.234", order("NEVER", set("quantity", 1.234)), 422},
			{"quantity string 1.234", order("NEVER", set("quantity", "1.234")), 422},
			{"quantity abc", order("NEVER", set("quantity", "abc")), 400},
			{"quantity 1e3", raw(`{"service_id":"` + k.Svc["NEVER"] + `","consumer_unit_id":"` + mkt + `","title":"x","quantity":1e3}`), 422},
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
			{"malformed JSON", raw(`{"service_id": "` + k.Svc["NEVER"] + `", "title": `), 400},
			{"bad channel", order("NEVER", set("channel", "pigeon")), 422},
		}
		tables := []string{"requests", "request_events", "idempotency_keys"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = k.Count(tb)
		}
		for _, c := range cases {
			res := k.As["mktmember"].Call("POST", "/api/v1/requests", c.body)
			if res.Status != c.status || res.ErrorCode() == "" {
				t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.status)
			}
		}
		for _, tb := range tables {
			if got := k.Count(tb); got != before[tb] {
				t.Errorf("bad input wrote %d rows to %s", got-before[tb], tb)
			}
		}
		// The same order, made good, is accepted: the refusals were about the input.
		if res := k.File("mktmember", order("FORM", nil)); res.Status != http.StatusCreated || res.JSON["fields"].(map[string]any)["size"] != "M" {
			t.Errorf("good order: %d %s", res.Status, res.Body)
		}
		if res := k.File("mktmember", order("NEVER", set("quantity", "1.50"))); res.Status != http.StatusCreated || res.Str("quantity") != "1.5" || amountMinor(res, "estimate") != 7500 {
			t.Errorf("quantity 1.50: %d %s", res.Status, res.Body)
		}
	})
}

// TestRequestVisibilityAndFilters files requests across units and checks
// who sees which, through every read path, and what each filter returns.
func TestRequestVisibilityAndFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		r1 := k.Order("mktmember", "MKT", "NEVER", "Laptop for Anna").Str("id")
		r2 := k.Order("mktmember2", "MKT", "NEVER", "Monitors for the design team", "quantity", "3").Str("id")
		r3 := k.Order("itsdmember", "IT-SD", "DESIGN", "Spring campaign visuals", "quantity", "4").Str("id")
		r4 := k.Order("mktmgr", "MKT", "ALWAYS", "Docking station").Str("id")
		r5 := k.Order("itsdmember", "IT-SD", "NEVER", "Keyboard replacement").Str("id")
		k.MustAct("itagent", r2, "assign", "assignee_id", webtest.ID(k.Users["itagent"]))
		k.MustAct("itagent", r5, "start")
		all := []string{r1, r2, r3, r4, r5}

		testkit.Step(t, "each person lists, reads and finds only the requests they see", func(t *testing.T) {
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
				if got := sortedIDs(k.ListIDs(who, "limit=200")); !slices.Equal(got, want) {
					t.Errorf("%s lists %v, want %v", who, got, want)
				}
				for _, rid := range all {
					visible := slices.Contains(want, rid)
					wantStatus := http.StatusNotFound
					if visible {
						wantStatus = http.StatusOK
					}
					if res := k.As[who].Call("GET", "/api/v1/requests/"+rid, nil); res.Status != wantStatus {
						t.Errorf("%s GET request %s = %d, want %d", who, rid, res.Status, wantStatus)
					}
					if res := k.As[who].Call("GET", "/api/v1/requests/"+rid+"/events", nil); res.Status != wantStatus {
						t.Errorf("%s GET events of %s = %d, want %d", who, rid, res.Status, wantStatus)
					}
					if !visible {
						before := k.Row(rid)
						if res := k.Act(who, rid, "cancel", before.Version); res.Status != http.StatusNotFound {
							t.Errorf("%s cancel %s = %d, want 404", who, rid, res.Status)
						}
						if res := k.Act(who, rid, "approve", before.Version); res.Status != http.StatusNotFound {
							t.Errorf("%s approve %s = %d, want 404", who, rid, res.Status)
						}
						if after := k.Row(rid); after.Version != before.Version {
							t.Errorf("%s changed invisible %s", who, rid)
						}
					}
					for _, q := range []string{titles[rid], requests.Number(k.Row(rid).ID), strings.ToLower(requests.Number(k.Row(rid).ID))} {
						got := k.ListIDs(who, "q="+url.QueryEscape(q))
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
			if res := k.As["nobody"].Call("GET", "/api/v1/requests/999999", nil); res.Status != http.StatusNotFound {
				t.Errorf("unknown request = %d", res.Status)
			}
		})

		testkit.Step(t, "filters narrow the list", func(t *testing.T) {
			u := func(name string) string { return webtest.ID(k.Units[name]) }
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
				{"admin", "service_id=" + k.Svc["NEVER"], []string{r1, r2, r5}},
				{"admin", "consumer_unit_id=" + u("MKT") + "&status=open", []string{r1, r2}},
				{"admin", "assignee_id=" + webtest.ID(k.Users["itagent"]), []string{r2}},
				{"admin", "requester_id=" + webtest.ID(k.Users["mktmember"]), []string{r1}},
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
				if got := sortedIDs(k.ListIDs(c.as, c.query)); !slices.Equal(got, c.want) {
					t.Errorf("%s ?%s = %v, want %v", c.as, c.query, got, c.want)
				}
			}
		})
		testkit.Step(t, "bad filters are refused", func(t *testing.T) {
			for _, q := range []string{"status=lost", "consumer_unit_id=abc", "assignee_id=someone", "sort=priority", "limit=0", "limit=201"} {
				if res := k.As["admin"].Call("GET", "/api/v1/requests?"+q, nil); res.Status != http.StatusUnprocessableEntity {
					t.Errorf("?%s = %d %s, want 422", q, res.Status, res.Body)
				}
			}
		})
	})
}

// TestRequestPagination pages with limit=2 through every sort and checks
// each visible request comes exactly once, in the sort's order.
func TestRequestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		var mine []string
		for i := 0; i < 4; i++ {
			mine = append(mine, k.Order("mktmember", "MKT", "NEVER", fmt.Sprintf("Mine %d", i)).Str("id"))
		}
		other := k.Order("itsdmember", "IT-SD", "NEVER", "Not MKT's").Str("id")
		for i := 4; i < 7; i++ {
			mine = append(mine, k.Order("mktmember2", "MKT", "NEVER", fmt.Sprintf("Mine %d", i)).Str("id"))
		}
		// Touch older requests so the updated order differs from the created one.
		k.MustAct("itagent", mine[0], "start")
		k.MustAct("itagent", mine[2], "start")
		k.MustAct("itagent", mine[0], "wait")
		visible := map[string][]string{"mktmgr": mine, "admin": append(slices.Clone(mine), other)}

		for who, want := range visible {
			for _, sortBy := range []string{"-created", "created", "-updated", "updated"} {
				full := k.As[who].Call("GET", "/api/v1/requests?limit=200&sort="+sortBy, nil)
				var fullIDs []string
				var updated []string
				for _, it := range full.Items() {
					fullIDs = append(fullIDs, it["id"].(string))
					updated = append(updated, it["updated_at"].(string))
				}
				paged := k.ListIDs(who, "limit=2&sort="+url.QueryEscape(sortBy))
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
			if got := k.ListIDs(who, "limit=2&sort=-updated"); got[0] != mine[0] {
				t.Errorf("%s sort=-updated starts with %s, want the last touched %s", who, got[0], mine[0])
			}
		}

		first := k.As["admin"].Call("GET", "/api/v1/requests?limit=2&sort=-created", nil)
		cursor := first.Str("next_cursor")
		if cursor == "" {
			t.Fatal("no next cursor")
		}
		tampered := []byte(cursor)
		tampered[2] ^= 1
		units := k.As["admin"].Call("GET", "/api/v1/units?limit=1", nil).Str("next_cursor")
		for name, q := range map[string]string{
			"cursor from another sort":      "sort=created&cursor=" + url.QueryEscape(cursor),
			"cursor from -updated":          "sort=-updated&cursor=" + url.QueryEscape(cursor),
			"tampered cursor":               "sort=-created&cursor=" + url.QueryEscape(string(tampered)),
			"cursor from another list":      "sort=-created&cursor=" + url.QueryEscape(units),
			"cursor garbage":                "cursor=abc",
			"unknown sort":                  "sort=title",
			"unknown sort with good cursor": "sort=-title&cursor=" + url.QueryEscape(cursor),
		} {
			if res := k.As["admin"].Call("GET", "/api/v1/requests?"+q, nil); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s, want 422", name, res.Status, res.Body)
			}
		}
		if res := k.As["admin"].Call("GET", "/api/v1/requests?sort=-created&limit=2&cursor="+url.QueryEscape(cursor), nil); res.Status != http.StatusOK || len(res.Items()) != 2 {
			t.Errorf("the untouched cursor: %d %s", res.Status, res.Body)
		}
	})
}
