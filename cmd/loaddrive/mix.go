package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

// action is one kind of work in the mix, with its share in per cent.
type action struct {
	name  string
	share int
	do    func(ctx context.Context, d *desk, rng *rand.Rand, seq int) (answer, error)
}

// mix is Atlassian's service-management performance profile.
var mix = []action{
	{"view", 24, view},
	{"comment", 26, comment},
	{"create", 16, create},
	{"lists", 12, lists},
	{"search", 6, search},
	{"transition", 10, transition},
	{"approval", 3, approval},
	{"report", 3, readReport},
}

func pick(rng *rand.Rand) action {
	n := rng.IntN(100)
	for _, a := range mix {
		if n < a.share {
			return a
		}
		n -= a.share
	}
	return mix[0]
}

// view: the member opens one of their requests.
func view(ctx context.Context, d *desk, rng *rand.Rand, _ int) (answer, error) {
	id := d.known(rng.IntN(1<<20), false)
	if id == "" {
		return lists(ctx, d, rng, 0)
	}
	return d.call(ctx, d.people["member"], http.MethodGet, "/api/v1/requests/"+id, nil, nil)
}

// comment: the member or the agent writes in a request's conversation.
func comment(ctx context.Context, d *desk, rng *rand.Rand, seq int) (answer, error) {
	who, ours := d.people["member"], rng.IntN(2) == 0
	if ours {
		who = d.people["agent"]
	}
	id := d.known(rng.IntN(1<<20), ours)
	if id == "" {
		return create(ctx, d, rng, seq)
	}
	return d.call(ctx, who, http.MethodPost, "/api/v1/requests/"+id+"/comments",
		map[string]any{"body": fmt.Sprintf("Any news on this? (load comment %d)", seq)}, nil)
}

// create: the member orders a monitor, with an idempotency key of its own.
func create(ctx context.Context, d *desk, _ *rand.Rand, seq int) (answer, error) {
	var made struct {
		ID string `json:"id"`
	}
	body := map[string]any{"service_id": d.service, "consumer_unit_id": d.consumerUnit,
		"title": fmt.Sprintf("Second monitor %d", seq), "quantity": 1}
	a, err := d.call(ctx, d.people["member"], http.MethodPost, "/api/v1/requests", body, &made)
	if err == nil && a.status == http.StatusCreated {
		d.remember(made.ID)
	}
	return a, err
}

// lists: the agent's queue, or the member's own requests.
func lists(ctx context.Context, d *desk, rng *rand.Rand, _ int) (answer, error) {
	if rng.IntN(2) == 0 {
		return d.call(ctx, d.people["agent"], http.MethodGet, "/api/v1/requests?status=open&provider_unit_id="+d.providerUnit, nil, nil)
	}
	return d.call(ctx, d.people["member"], http.MethodGet, "/api/v1/requests", nil, nil)
}

// search: the member looks for a request by a word of its title.
func search(ctx context.Context, d *desk, rng *rand.Rand, _ int) (answer, error) {
	words := []string{"monitor", "laptop", "licence", "desk", "campaign"}
	return d.call(ctx, d.people["member"], http.MethodGet, "/api/v1/requests?q="+url.QueryEscape(words[rng.IntN(len(words))]), nil, nil)
}

// transition: the agent moves a request one step on (start an open one,
// resolve one in progress, which posts its charge). A request another
// worker moved first is a 409 stale_version, counted apart.
func transition(ctx context.Context, d *desk, rng *rand.Rand, _ int) (answer, error) {
	agent := d.people["agent"]
	id := d.known(rng.IntN(1<<20), true)
	if id == "" {
		return lists(ctx, d, rng, 0)
	}
	var r struct {
		Status  string `json:"status"`
		Version int64  `json:"version"`
	}
	a, err := d.call(ctx, agent, http.MethodGet, "/api/v1/requests/"+id, nil, &r)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	next := map[string]string{"open": "start", "in_progress": "resolve"}[r.Status]
	if next == "" {
		return a, nil // nothing for the agent to do here: the look was the work
	}
	return d.call(ctx, agent, http.MethodPost, "/api/v1/requests/"+id+"/actions",
		map[string]any{"action": next, "version": r.Version}, nil)
}

// approval: the manager approves the oldest order waiting for them.
func approval(ctx context.Context, d *desk, _ *rand.Rand, _ int) (answer, error) {
	manager := d.people["manager"]
	var waiting struct {
		Items []struct {
			ID          string `json:"id"`
			Version     int64  `json:"version"`
			RequesterID string `json:"requester_id"`
		} `json:"items"`
	}
	a, err := d.call(ctx, manager, http.MethodGet, "/api/v1/requests?limit=20&status=pending_approval&consumer_unit_id="+d.consumerUnit, nil, &waiting)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	for _, w := range waiting.Items {
		if w.RequesterID != manager.userID { // four eyes: never one's own
			return d.call(ctx, manager, http.MethodPost, "/api/v1/requests/"+w.ID+"/actions",
				map[string]any{"action": "approve", "version": w.Version}, nil)
		}
	}
	return a, nil
}

// readReport: finance reads this month's quality report.
func readReport(ctx context.Context, d *desk, _ *rand.Rand, _ int) (answer, error) {
	month := time.Now().UTC().Format("2006-01")
	return d.call(ctx, d.people["finance"], http.MethodGet, "/api/v1/reports/quality?month="+month, nil, nil)
}

// seqOf numbers a worker's actions apart from every other worker's.
func seqOf(worker, n int) int { return worker*1_000_000 + n }
