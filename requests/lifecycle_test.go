package requests_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

const (
	lifecycleDoc   = "../docs/request-lifecycle.md"
	lifecycleStart = "<!-- lifecycle:start -->\n"
	lifecycleEnd   = "<!-- lifecycle:end -->"
)

// TestLifecycleDocMatchesCode keeps docs/request-lifecycle.md and the
// transition table the code enforces one and the same table.
func TestLifecycleDocMatchesCode(t *testing.T) {
	raw, err := os.ReadFile(lifecycleDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	_, rest, ok := strings.Cut(doc, lifecycleStart)
	if !ok {
		t.Fatalf("%s has no %q line", lifecycleDoc, strings.TrimSpace(lifecycleStart))
	}
	table, _, ok := strings.Cut(rest, lifecycleEnd)
	if !ok {
		t.Fatalf("%s has no %q line after the start marker", lifecycleDoc, lifecycleEnd)
	}
	if want := requests.LifecycleMarkdown(); table != want {
		t.Fatalf("the table in %s differs from requests.LifecycleMarkdown(); put this between the markers:\n%s", lifecycleDoc, want)
	}
}

// TestLifecycleTableIsWellFormed checks the table itself: every action once,
// every From state a real status, no action out of a final state.
func TestLifecycleTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	final := map[requests.Status]bool{requests.Closed: true, requests.Rejected: true, requests.Cancelled: true}
	known := map[requests.Status]bool{}
	for _, s := range requests.Statuses {
		known[s] = true
	}
	for _, tr := range requests.Lifecycle {
		if seen[tr.Action] {
			t.Errorf("action %s appears twice", tr.Action)
		}
		seen[tr.Action] = true
		if len(tr.From) == 0 {
			t.Errorf("action %s has no From state", tr.Action)
		}
		for _, s := range tr.From {
			if !known[s] || final[s] {
				t.Errorf("action %s from %s: unknown or final state", tr.Action, s)
			}
		}
		if tr.To != "" && !known[tr.To] {
			t.Errorf("action %s to unknown state %s", tr.Action, tr.To)
		}
	}
	if got := strings.Join(requests.Actions(), ","); got != "approve,reject,assign,start,wait,resume,approve_overrun,resolve,close,reopen,cancel" {
		t.Errorf("Actions() = %s", got)
	}
}

// desk is the standard organisation (testkit) seen from the request
// tests: MKT's member orders IT's services, IT's agent works them, MKT's
// manager approves.
type desk struct {
	*testkit.Kit
}

func newDesk(t *testing.T, d *db.DB, opts ...testkit.Option) *desk {
	t.Helper()
	return &desk{Kit: testkit.New(t, d, opts...)}
}

func (k *desk) viewer(userID int64) requests.Viewer {
	return requests.Viewer{UserID: userID, Authz: k.Authz}
}

// resolvedAt files a request and has the agent start and resolve it at the
// given time.
func (k *desk) resolvedAt(t *testing.T, at time.Time) *requests.Request {
	t.Helper()
	ctx := context.Background()
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		r, err = requests.Submit(ctx, tx, k.viewer(k.People.Member), k.Org,
			requests.Order{ServiceID: k.Services.Laptop.ID, ConsumerUnitID: k.Units.MKT, Title: "Laptop"}, at.Add(-time.Hour))
		if err != nil {
			return err
		}
		for _, a := range []string{"start", "resolve"} {
			if r, err = requests.Act(ctx, tx, k.viewer(k.People.Agent), k.Org, r.ID, requests.Action{Name: a, Version: r.Version}, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("resolve a request: %v", err)
	}
	if r.Status != requests.Resolved {
		t.Fatalf("status = %s", r.Status)
	}
	return r
}

func (k *desk) act(ctx context.Context, userID, id int64, a requests.Action, now time.Time) (*requests.Request, error) {
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		r, err = requests.Act(ctx, tx, k.viewer(userID), k.Org, id, a, now)
		return err
	})
	return r, err
}

func (k *desk) reload(t *testing.T, id int64) *requests.Request {
	t.Helper()
	r := new(requests.Request)
	if err := k.DB.NewSelect().Model(r).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func (k *desk) events(t *testing.T, id int64, action string) int {
	t.Helper()
	n, err := k.DB.NewSelect().Model((*requests.Event)(nil)).Where("request_id = ? AND action = ?", id, action).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestReopenOnlyWithinSevenDays drives the clock through requests.Act: the
// requester may reopen a resolved request for seven days, not after.
func TestReopenOnlyWithinSevenDays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		resolved := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

		late := k.resolvedAt(t, resolved)
		_, err := k.act(ctx, k.People.Member, late.ID, requests.Action{Name: "reopen", Version: late.Version},
			resolved.Add(requests.ReopenWindow+time.Minute))
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.KindConflict || fe.Code != "reopen_window_passed" {
			t.Fatalf("reopen after 7 days: %v", err)
		}
		if got := k.reload(t, late.ID); got.Status != requests.Resolved || got.Version != late.Version || k.events(t, late.ID, "reopen") != 0 {
			t.Fatalf("refused reopen changed the request: %s v%d", got.Status, got.Version)
		}
		if allowed := k.viewer(k.People.Member).AllowedActions(late, resolved.Add(requests.ReopenWindow+time.Minute)); strings.Contains(strings.Join(allowed, ","), "reopen") {
			t.Fatalf("reopen offered after the window: %v", allowed)
		}

		early := k.resolvedAt(t, resolved)
		r, err := k.act(ctx, k.People.Member, early.ID, requests.Action{Name: "reopen", Version: early.Version, Note: "still broken"},
			resolved.Add(6*24*time.Hour))
		if err != nil {
			t.Fatalf("reopen within 7 days: %v", err)
		}
		if r.Status != requests.InProgress || r.Version != early.Version+1 || r.ResolvedAt != nil || k.events(t, early.ID, "reopen") != 1 {
			t.Fatalf("after reopen: %s v%d resolved_at %v", r.Status, r.Version, r.ResolvedAt)
		}
		// The agent is not the requester and may not reopen, even in time.
		other := k.resolvedAt(t, resolved)
		if _, err := k.act(ctx, k.People.Agent, other.ID, requests.Action{Name: "reopen", Version: other.Version}, resolved.Add(time.Hour)); !fault.Is(err, fault.KindForbidden) {
			t.Fatalf("agent reopening: %v", err)
		}
	})
}

// TestCloseResolvedClosesOnlyExpiredOnce checks the automatic close: only
// requests resolved more than seven days before now, each once, one event.
func TestCloseResolvedClosesOnlyExpiredOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		now := time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC)
		old1 := k.resolvedAt(t, now.Add(-8*24*time.Hour))
		old2 := k.resolvedAt(t, now.Add(-30*24*time.Hour))
		recent := k.resolvedAt(t, now.Add(-6*24*time.Hour))
		justInside := k.resolvedAt(t, now.Add(-requests.ReopenWindow+time.Minute))
		reopened := k.resolvedAt(t, now.Add(-9*24*time.Hour))
		if _, err := k.act(ctx, k.People.Member, reopened.ID, requests.Action{Name: "reopen", Version: reopened.Version},
			now.Add(-9*24*time.Hour+time.Hour)); err != nil {
			t.Fatal(err)
		}

		before := map[int64]int64{}
		for _, r := range []*requests.Request{old1, old2, recent, justInside, reopened} {
			before[r.ID] = k.reload(t, r.ID).Version
		}
		closeRun := func() int {
			var n int
			if err := d.InTx(ctx, func(tx bun.Tx) (err error) {
				n, err = requests.CloseResolved(ctx, tx, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := closeRun(); n != 2 {
			t.Fatalf("first run closed %d, want 2", n)
		}
		if n := closeRun(); n != 0 {
			t.Fatalf("second run closed %d, want 0", n)
		}
		for _, c := range []struct {
			r      *requests.Request
			status requests.Status
			closes int
		}{
			{old1, requests.Closed, 1}, {old2, requests.Closed, 1},
			{recent, requests.Resolved, 0}, {justInside, requests.Resolved, 0}, {reopened, requests.InProgress, 0},
		} {
			got := k.reload(t, c.r.ID)
			if got.Status != c.status || k.events(t, c.r.ID, "close") != c.closes {
				t.Errorf("request %d: %s with %d close events, want %s with %d", c.r.ID, got.Status, k.events(t, c.r.ID, "close"), c.status, c.closes)
			}
			if c.status == requests.Closed {
				if got.Version != before[c.r.ID]+1 || got.ClosedAt == nil || !got.ClosedAt.Equal(now) {
					t.Errorf("request %d: version %d (was %d), closed_at %v", c.r.ID, got.Version, before[c.r.ID], got.ClosedAt)
				}
				var ev requests.Event
				if err := d.NewSelect().Model(&ev).Where("request_id = ? AND action = 'close'", c.r.ID).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				if ev.ActorID != nil || ev.FromStatus == nil || *ev.FromStatus != requests.Resolved || ev.ToStatus == nil || *ev.ToStatus != requests.Closed {
					t.Errorf("close event of %d: %+v", c.r.ID, ev)
				}
			} else if got.Version != before[c.r.ID] || got.ClosedAt != nil {
				t.Errorf("request %d was touched", c.r.ID)
			}
		}
	})
}
