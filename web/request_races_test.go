package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
)

// raceResult is one answer of a concurrent call.
type raceResult struct {
	status int
	body   []byte
	json   map[string]any
	err    error
}

func (r raceResult) code() string {
	e, _ := r.json["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// raceCall is client.call for goroutines: it reports transport errors
// instead of failing the test from outside the test's goroutine.
func (c *client) raceCall(method, path string, body []byte, header map[string]string) raceResult {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return raceResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return raceResult{err: err}
	}
	defer res.Body.Close()
	out := raceResult{status: res.StatusCode}
	out.body, out.err = io.ReadAll(res.Body)
	_ = json.Unmarshal(out.body, &out.json)
	return out
}

// together runs n calls at once, released by one signal, and returns their
// answers.
func together(n int, call func(i int) raceResult) []raceResult {
	out := make([]raceResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts answers by status and error code, failing on transport
// errors and on anything but the wanted statuses.
func tally(t *testing.T, results []raceResult, allowed ...int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("transport error: %v", r.err)
			continue
		}
		key := fmt.Sprint(r.status)
		if r.status >= 400 {
			key += " " + r.code()
		}
		counts[key]++
		ok := false
		for _, a := range allowed {
			ok = ok || r.status == a
		}
		if !ok {
			t.Errorf("unexpected answer %d %s", r.status, r.body)
		}
	}
	return counts
}

// TestConcurrentActionsOneWins fires fifty identical actions at one request
// at once: one succeeds, the others are told the request moved on, and the
// version and timeline show exactly one change.
func TestConcurrentActionsOneWins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		const n = 50
		for _, c := range []struct {
			action, as string
			setup      []string
			from, to   requests.Status
		}{
			{"approve", "mktmgr", nil, requests.PendingApproval, requests.Open},
			{"resolve", "itagent", []string{"approve", "start"}, requests.InProgress, requests.Resolved},
		} {
			rid := k.order("mktmember", "MKT", "ALWAYS", "Race to "+c.action).str("id")
			for _, step := range c.setup {
				k.mustAct(lifecycleActor[step], rid, step)
			}
			before := k.row(rid)
			if before.Status != c.from {
				t.Fatalf("setup left %s", before.Status)
			}
			body, _ := json.Marshal(map[string]any{"action": c.action, "version": before.Version})
			results := together(n, func(int) raceResult {
				return k.as[c.as].raceCall("POST", "/api/v1/requests/"+rid+"/actions", body, nil)
			})
			counts := tally(t, results, http.StatusOK, http.StatusConflict)
			if counts["200"] != 1 || counts["200"]+counts["409 stale_version"]+counts["409 invalid_transition"] != n {
				t.Errorf("%d concurrent %s: %v, want one 200 and %d × 409", n, c.action, counts, n-1)
			}
			after := k.row(rid)
			if after.Status != c.to || after.Version != before.Version+1 || k.events(rid, c.action) != 1 {
				t.Errorf("after %d concurrent %s: %s v%d (was v%d), %d %s events",
					n, c.action, after.Status, after.Version, before.Version, k.events(rid, c.action), c.action)
			}
		}
	})
}

// TestIdempotentFilingUnderConcurrency sends the same order with the same
// Idempotency-Key ten times at once: one request is filed and every caller
// is told its id.
func TestIdempotentFilingUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		const n = 10
		order := func(title string) []byte {
			b, _ := json.Marshal(map[string]any{"service_id": k.svc["NEVER"], "consumer_unit_id": id(k.units["MKT"]),
				"title": title, "quantity": "2"})
			return b
		}
		key := map[string]string{"Idempotency-Key": "order-7f3a"}
		rows := k.count("requests")
		results := together(n, func(int) raceResult {
			return k.as["mktmember"].raceCall("POST", "/api/v1/requests", order("Ten taps on submit"), key)
		})
		counts := tally(t, results, http.StatusCreated)
		ids := map[string]int{}
		for _, r := range results {
			if s, _ := r.json["id"].(string); s != "" {
				ids[s]++
			}
		}
		if counts["201"] != n || len(ids) != 1 {
			t.Errorf("%d concurrent POSTs with one key: %v, ids %v", n, counts, ids)
		}
		if got := k.count("requests"); got != rows+1 {
			t.Errorf("%d concurrent POSTs with one key filed %d requests", n, got-rows)
		}
		var first string
		for s := range ids {
			first = s
		}
		if k.events(first, "submit") != 1 {
			t.Errorf("submit events = %d", k.events(first, "submit"))
		}

		// Later, the same key and body replay; a different body is refused.
		replay := k.as["mktmember"].raceCall("POST", "/api/v1/requests", order("Ten taps on submit"), key)
		if replay.status != http.StatusCreated || replay.json["id"] != first {
			t.Errorf("replay: %d %s", replay.status, replay.body)
		}
		other := k.as["mktmember"].raceCall("POST", "/api/v1/requests", order("Something else"), key)
		if other.status != http.StatusUnprocessableEntity {
			t.Errorf("same key, other body: %d %s", other.status, other.body)
		}
		if got := k.count("requests"); got != rows+1 {
			t.Errorf("replays filed %d more requests", got-rows-1)
		}

		// Keys belong to their user: another member's same key is a new order.
		theirs := together(n, func(int) raceResult {
			return k.as["mktmember2"].raceCall("POST", "/api/v1/requests", order("Ten taps on submit"), key)
		})
		tally(t, theirs, http.StatusCreated)
		theirIDs := map[string]bool{}
		for _, r := range theirs {
			theirIDs[fmt.Sprint(r.json["id"])] = true
		}
		if len(theirIDs) != 1 || theirIDs[first] {
			t.Errorf("another user's key gave ids %v (first user's %s)", theirIDs, first)
		}
		if got := k.count("requests"); got != rows+2 {
			t.Errorf("two users, one key each: %d requests filed, want 2", got-rows)
		}
		for s := range theirIDs {
			if row := k.row(s); row.RequesterID != k.users["mktmember2"] {
				t.Errorf("second user's request has requester %d", row.RequesterID)
			}
		}
		// Without a key, the same body files again.
		plain := k.as["mktmember"].raceCall("POST", "/api/v1/requests", order("Ten taps on submit"), nil)
		if plain.status != http.StatusCreated || plain.json["id"] == first {
			t.Errorf("no key: %d %s", plain.status, plain.body)
		}
	})
}
