package requests_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/requests"
)

// ratingToken finds the rating link the resolved notice of request id
// carries and signs its token as the mail does.
func ratingToken(t *testing.T, d *db.DB, requestID int64, kind notify.Kind) string {
	t.Helper()
	ctx := context.Background()
	var args []string
	if err := d.NewSelect().Table("notification_events").Column("args_json").
		Where("kind = ? AND object_id = ?", kind, requestID).OrderExpr("id DESC").Limit(1).Scan(ctx, &args); err != nil || len(args) != 1 {
		t.Fatalf("no %s event for request %d: %v", kind, requestID, err)
	}
	ev := notify.StoredEvent{ArgsJSON: args[0]}
	id, err := strconv.ParseInt(ev.Args()["rating_link"], 10, 64)
	if err != nil {
		t.Fatalf("the %s event carries no rating link: %s", kind, args[0])
	}
	key, err := requests.RatingKey(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	return requests.RatingToken(key, id)
}

func feedbackCount(t *testing.T, d *db.DB, requestID int64) int {
	t.Helper()
	n, err := d.NewSelect().Table("request_feedback").Where("request_id = ?", requestID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestARatingLinkRatesOnceAndThenNoMore: resolving mails a signed link
// (only its hash is kept); it shows its request, rates it as the requester
// through the feedback entry point, and a second use, a forged token, an
// out-of-range rating and an expired link are refused and change nothing.
func TestARatingLinkRatesOnceAndThenNoMore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d)
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		r := k.resolvedAt(t, at)
		token := ratingToken(t, d, r.ID, notify.RequestResolved)
		if n, _ := d.NewSelect().Table("rating_links").Where("token_hash = ?", token).Count(ctx); n != 0 {
			t.Fatal("the token itself is stored")
		}
		now := at.Add(time.Hour)
		_, got, err := requests.RatingLinkOf(ctx, d, k.Authz, token, now)
		if err != nil || got.ID != r.ID {
			t.Fatalf("link shows %+v, %v", got, err)
		}
		rate := func(token string, rating int) error {
			return d.InTx(ctx, func(tx bun.Tx) error {
				_, err := requests.RateByLink(ctx, tx, k.Authz, token, rating, "quick", now)
				return err
			})
		}
		if err := rate(token, 9); !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("rating 9: %v", err)
		}
		if err := rate(token+"0", 5); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("forged token: %v", err)
		}
		if n := feedbackCount(t, d, r.ID); n != 0 {
			t.Fatalf("%d ratings after refusals", n)
		}
		if err := rate(token, 4); err != nil {
			t.Fatalf("rate by link: %v", err)
		}
		f, err := requests.GetFeedback(ctx, d, k.viewer(k.People.Member), r.ID)
		if err != nil || f.Rating != 4 || f.AuthorID != k.People.Member {
			t.Fatalf("feedback = %+v, %v", f, err)
		}
		if err := rate(token, 1); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("second use: %v", err)
		}
		if _, _, err := requests.RatingLinkOf(ctx, d, k.Authz, token, now); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("a used link still shows: %v", err)
		}
		if f, _ := requests.GetFeedback(ctx, d, k.viewer(k.People.Member), r.ID); f.Rating != 4 || feedbackCount(t, d, r.ID) != 1 {
			t.Fatalf("the second use changed the rating: %+v", f)
		}

		// An expired link rates nothing.
		r2 := k.resolvedAt(t, at)
		late := ratingToken(t, d, r2.ID, notify.RequestResolved)
		err = d.InTx(ctx, func(tx bun.Tx) error {
			_, err := requests.RateByLink(ctx, tx, k.Authz, late, 5, "", at.Add(requests.RatingLinkTTL+time.Minute))
			return err
		})
		if !fault.Is(err, fault.KindConflict) || feedbackCount(t, d, r2.ID) != 0 {
			t.Fatalf("expired link: %v, %d ratings", err, feedbackCount(t, d, r2.ID))
		}
	})
}

// TestOneRatingReminderAfterBusinessDays: a request not rated gets one
// reminder once three business days have passed (Monday's resolution on
// Thursday), however many sweepers run at once and however often, with the
// same link; a rated request gets none.
func TestOneRatingReminderAfterBusinessDays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d)
		monday := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		unrated := k.resolvedAt(t, monday)
		rated := k.resolvedAt(t, monday)
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := requests.GiveFeedback(ctx, tx, k.viewer(k.People.Member), rated.ID, 5, "", monday)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sweep := func(now time.Time) int {
			var n int
			err := d.InTx(ctx, func(tx bun.Tx) (err error) {
				n, err = requests.RemindRatings(ctx, tx, now)
				return err
			})
			if err != nil && !db.IsRetryable(err) {
				t.Errorf("sweep: %v", err)
			}
			return n
		}
		if n := sweep(monday.AddDate(0, 0, 2)); n != 0 {
			t.Fatalf("%d reminders on Wednesday", n)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); sweep(monday.AddDate(0, 0, 4)) }()
		}
		wg.Wait()
		sweep(monday.AddDate(0, 0, 5))
		reminders, err := d.NewSelect().Table("notification_events").Where("kind = ?", notify.RatingReminder).Count(ctx)
		if err != nil || reminders != 1 {
			t.Fatalf("%d reminder events, want 1 (%v)", reminders, err)
		}
		mine, err := notify.List(ctx, d, k.People.Member, 0, 1, false)
		if err != nil || len(mine) != 1 || mine[0].Event.Kind != notify.RatingReminder || mine[0].Event.ObjectID != unrated.ID {
			t.Fatalf("the member's newest notification: %+v, %v", mine, err)
		}
		if a, b := ratingToken(t, d, unrated.ID, notify.RatingReminder), ratingToken(t, d, unrated.ID, notify.RequestResolved); a != b {
			t.Fatalf("the reminder carries another link: %s, %s", a, b)
		}
	})
}

// kindsHeard lists the kinds of the user's notifications, oldest first.
func kindsHeard(t *testing.T, d *db.DB, userID int64) []notify.Kind {
	t.Helper()
	got, err := notify.List(context.Background(), d, userID, 0, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []notify.Kind
	for i := len(got) - 1; i >= 0; i-- {
		kinds = append(kinds, got[i].Event.Kind)
	}
	return kinds
}

// TestSLAMarksTellTheAssigneeElseTheProviderManagers: an unassigned
// request at risk tells the provider unit's managers; once assigned, its
// resolution clock's marks tell the assignee only; a mark is told once however often the
// sweep runs, and never to the consumer side.
func TestSLAMarksTellTheAssigneeElseTheProviderManagers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		r := k.submitAt(t, hki(2026, 11, 23, 8, 0)) // first response due 09:00, at risk 08:45
		mark := func(now time.Time) {
			if err := d.InTx(ctx, func(tx bun.Tx) error {
				_, err := requests.MarkSLA(ctx, tx, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		mark(hki(2026, 11, 23, 8, 50))
		mark(hki(2026, 11, 23, 8, 52))
		if got := kindsHeard(t, d, k.People.ITManager); len(got) != 1 || got[0] != notify.SLAAtRisk {
			t.Fatalf("the IT manager heard %v", got)
		}
		if _, err := k.act(ctx, k.People.ITManager, r.ID, requests.Action{Name: "assign", Version: r.Version, AssigneeID: k.People.Agent}, hki(2026, 11, 23, 8, 55)); err != nil {
			t.Fatal(err)
		}
		// The assignment was the first response; the resolution clock runs on.
		mark(hki(2026, 12, 7, 12, 0))
		mark(hki(2026, 12, 7, 12, 1))
		if got := kindsHeard(t, d, k.People.Agent); len(got) != 4 || got[0] != notify.QueueNew || got[1] != notify.RequestAssigned ||
			got[2] != notify.SLAAtRisk || got[3] != notify.SLABreached {
			t.Fatalf("the agent heard %v", got)
		}
		if got := kindsHeard(t, d, k.People.ITManager); len(got) != 1 {
			t.Fatalf("the IT manager heard %v after the assignment", got)
		}
		for _, k := range kindsHeard(t, d, k.People.Member) {
			if k == notify.SLAAtRisk || k == notify.SLABreached {
				t.Fatalf("the requester heard of an SLA mark")
			}
		}
	})
}

// TestQueueNoticesEachOrADailyDigest: a new request in the queue tells the
// provider's agents; an agent who chose the daily digest gets the in-app
// notices but no e-mail for each, and the next day one digest naming them,
// recorded once however many sweepers run; a quiet day sends none.
func TestQueueNoticesEachOrADailyDigest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		yes := true
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			return notify.SetPreferences(ctx, tx, k.People.Agent, []notify.Preference{{Kind: notify.QueueNew, Email: true, Digest: &yes}})
		}); err != nil {
			t.Fatal(err)
		}
		loc := k.Org.Location
		monday := time.Date(2026, 11, 23, 9, 0, 0, 0, loc)
		a := k.submitAt(t, monday)
		b := k.submitAt(t, monday.Add(3*time.Hour))
		if got := kindsHeard(t, d, k.People.Agent); len(got) != 2 || got[0] != notify.QueueNew || got[1] != notify.QueueNew {
			t.Fatalf("the agent heard %v", got)
		}
		agentMails := func(kind notify.Kind) int {
			n, err := d.NewSelect().Table("outbox").Join("JOIN notification_events e ON e.id = outbox.event_id").
				Where("outbox.recipient_id = ? AND e.kind = ?", k.People.Agent, kind).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		if n := agentMails(notify.QueueNew); n != 0 {
			t.Fatalf("%d queue e-mails to an agent who chose the digest", n)
		}
		sweep := func(now time.Time) {
			if err := d.InTx(ctx, func(tx bun.Tx) error {
				_, err := notify.SendDigests(ctx, tx, loc, now)
				return err
			}); err != nil && !db.IsRetryable(err) {
				t.Errorf("sweep: %v", err)
			}
		}
		sweep(monday.Add(10 * time.Hour)) // still Monday: nothing yet
		if n := agentMails(notify.QueueDigest); n != 0 {
			t.Fatalf("a digest before the day ended")
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() { defer wg.Done(); sweep(monday.Add(24 * time.Hour)) }()
		}
		wg.Wait()
		sweep(monday.Add(30 * time.Hour))
		sweep(monday.Add(48 * time.Hour)) // Tuesday was quiet
		if n := agentMails(notify.QueueDigest); n != 1 {
			t.Fatalf("%d digests, want 1", n)
		}
		list, err := notify.List(ctx, d, k.People.Agent, 0, 1, false)
		if err != nil || len(list) != 1 || list[0].Event.Kind != notify.QueueDigest {
			t.Fatalf("newest notice %+v, %v", list, err)
		}
		args := list[0].Event.Args()
		if args["ref"] != "2026-11-23" || args["title"] != "2" || !strings.Contains(args["note"], a.Number()) || !strings.Contains(args["note"], b.Number()) {
			t.Fatalf("digest words %v", args)
		}
		if list[0].Link() != "/queue" {
			t.Fatalf("digest link %s", list[0].Link())
		}
	})
}
