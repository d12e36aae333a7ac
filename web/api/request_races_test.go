package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/webtest"
)

// together runs n calls at once, released by one signal, and returns their
// answers.
func together(n int, call func(i int) webtest.RaceResult) []webtest.RaceResult {
	out := make([]webtest.RaceResult, n)
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
func tally(t *testing.T, results []webtest.RaceResult, allowed ...int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, r := range results {
		if r.Err != nil {
			t.Errorf("transport error: %v", r.Err)
			continue
		}
		key := fmt.Sprint(r.Status)
		if r.Status >= 400 {
			key += " " + r.Code()
		}
		counts[key]++
		ok := false
		for _, a := range allowed {
			ok = ok || r.Status == a
		}
		if !ok {
			t.Errorf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	return counts
}

// TestConcurrentActionsOneWins fires fifty identical actions at one request
// at once: one succeeds, the others are told the request moved on, and the
// version and timeline show exactly one change.
func TestConcurrentActionsOneWins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		const n = 50
		for _, c := range []struct {
			action, as string
			setup      []string
			from, to   requests.Status
		}{
			{"approve", "mktmgr", nil, requests.PendingApproval, requests.Open},
			{"resolve", "itagent", []string{"approve", "start"}, requests.InProgress, requests.Resolved},
		} {
			rid := k.Order("mktmember", "MKT", "ALWAYS", "Race to "+c.action).Str("id")
			for _, step := range c.setup {
				k.MustAct(lifecycleActor[step], rid, step)
			}
			before := k.Row(rid)
			if before.Status != c.from {
				t.Fatalf("setup left %s", before.Status)
			}
			body, _ := json.Marshal(map[string]any{"action": c.action, "version": before.Version})
			results := together(n, func(int) webtest.RaceResult {
				return k.As[c.as].RaceCall("POST", "/api/v1/requests/"+rid+"/actions", body, nil)
			})
			counts := tally(t, results, http.StatusOK, http.StatusConflict)
			if counts["200"] != 1 || counts["200"]+counts["409 stale_version"]+counts["409 invalid_transition"] != n {
				t.Errorf("%d concurrent %s: %v, want one 200 and %d × 409", n, c.action, counts, n-1)
			}
			after := k.Row(rid)
			if after.Status != c.to || after.Version != before.Version+1 || k.Events(rid, c.action) != 1 {
				t.Errorf("after %d concurrent %s: %s v%d (was v%d), %d %s events",
					n, c.action, after.Status, after.Version, before.Version, k.Events(rid, c.action), c.action)
			}
		}
	})
}

// TestIdempotentFilingUnderConcurrency sends the same order with the same
// Idempotency-Key ten times at once: one request is filed and every caller
// is told its id.
func TestIdempotentFilingUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		const n = 10
		order := func(title string) []byte {
			b, _ := json.Marshal(map[string]any{"service_id": k.Svc["NEVER"], "consumer_unit_id": webtest.ID(k.Units["MKT"]),
				"title": title, "quantity": "2"})
			return b
		}
		key := map[string]string{"Idempotency-Key": "order-7f3a"}
		rows := k.Count("requests")
		results := together(n, func(int) webtest.RaceResult {
			return k.As["mktmember"].RaceCall("POST", "/api/v1/requests", order("Ten taps on submit"), key)
		})
		counts := tally(t, results, http.StatusCreated)
		ids := map[string]int{}
		for _, r := range results {
			if s, _ := r.JSON["id"].(string); s != "" {
				ids[s]++
			}
		}
		if counts["201"] != n || len(ids) != 1 {
			t.Errorf("%d concurrent POSTs with one key: %v, ids %v", n, counts, ids)
		}
		if got := k.Count("requests"); got != rows+1 {
			t.Errorf("%d concurrent POSTs with one key filed %d requests", n, got-rows)
		}
		var first string
		for s := range ids {
			first = s
		}
		if k.Events(first, "submit") != 1 {
			t.Errorf("submit events = %d", k.Events(first, "submit"))
		}

		// Later, the same key and body replay; a different body is refused.
		replay := k.As["mktmember"].RaceCall("POST", "/api/v1/requests", order("Ten taps on submit"), key)
		if replay.Status != http.StatusCreated || replay.JSON["id"] != first {
			t.Errorf("replay: %d %s", replay.Status, replay.Body)
		}
		other := k.As["mktmember"].RaceCall("POST", "/api/v1/requests", order("Something else"), key)
		if other.Status != http.StatusUnprocessableEntity {
			t.Errorf("same key, other body: %d %s", other.Status, other.Body)
		}
		if got := k.Count("requests"); got != rows+1 {
			t.Errorf("replays filed %d more requests", got-rows-1)
		}

		// Keys belong to their user: another member's same key is a new order.
		theirs := together(n, func(int) webtest.RaceResult {
			return k.As["mktmember2"].RaceCall("POST", "/api/v1/requests", order("Ten taps on submit"), key)
		})
		tally(t, theirs, http.StatusCreated)
		theirIDs := map[string]bool{}
		for _, r := range theirs {
			theirIDs[fmt.Sprint(r.JSON["id"])] = true
		}
		if len(theirIDs) != 1 || theirIDs[first] {
			t.Errorf("another user's key gave ids %v (first user's %s)", theirIDs, first)
		}
		if got := k.Count("requests"); got != rows+2 {
			t.Errorf("two users, one key each: %d requests filed, want 2", got-rows)
		}
		for s := range theirIDs {
			if row := k.Row(s); row.RequesterID != k.Users["mktmember2"] {
				t.Errorf("second user's request has requester %d", row.RequesterID)
			}
		}
		// Without a key, the same body files again.
		plain := k.As["mktmember"].RaceCall("POST", "/api/v1/requests", order("Ten taps on submit"), nil)
		if plain.Status != http.StatusCreated || plain.JSON["id"] == first {
			t.Errorf("no key: %d %s", plain.Status, plain.Body)
		}
	})
}
