package notify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/units"
)

func users(t *testing.T, d *db.DB, names ...string) []int64 {
	t.Helper()
	var ids []int64
	err := d.InTx(context.Background(), func(tx bun.Tx) error {
		for _, n := range names {
			u, err := units.CreateUser(context.Background(), tx, 0, units.User{Email: n + "@example.org", Name: n})
			if err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func record(t *testing.T, d *db.DB, ev notify.Event) []int64 {
	t.Helper()
	var got []int64
	err := d.InTx(context.Background(), func(tx bun.Tx) (err error) {
		got, err = notify.Record(context.Background(), tx, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func outboxKeys(t *testing.T, d *db.DB) []string {
	t.Helper()
	var keys []string
	if err := d.NewSelect().Table("outbox").Column("delivery_key").OrderExpr("id").Scan(context.Background(), &keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestAnInternalEventNeverReachesTheConsumerSide: the same comment event,
// marked internal, reaches the assignee and not the requester.
func TestAnInternalEventNeverReachesTheConsumerSide(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ids := users(t, d, "requester", "agent", "other")
		requester, agent, other := ids[0], ids[1], ids[2]
		p := notify.Parties{RequesterID: requester, AssigneeID: agent}
		got := record(t, d, notify.Event{Kind: notify.ProviderCommented, ObjectID: 1, ActorID: other, Parties: p, Internal: true})
		if len(got) != 0 {
			t.Fatalf("an internal provider comment reached %v", got)
		}
		got = record(t, d, notify.Event{Kind: notify.CustomerAnswered, ObjectID: 1, ActorID: requester, Parties: p, Internal: true})
		if !slices.Equal(got, []int64{agent}) {
			t.Fatalf("an internal answer reached %v, want only the assignee", got)
		}
	})
}

// TestEmailOffKeepsTheInAppNotification: a user who turned e-mail off for
// a kind still gets the notification, but no e-mail; other kinds still
// mail; a disabled user hears nothing; the actor is not told of their own
// act; an unknown kind is refused and changes nothing.
func TestEmailOffKeepsTheInAppNotification(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ids := users(t, d, "requester", "agent", "gone")
		requester, agent, gone := ids[0], ids[1], ids[2]
		err := d.InTx(ctx, func(tx bun.Tx) error {
			return notify.SetPreferences(ctx, tx, requester, []notify.Preference{{Kind: notify.RequestResolved, Email: false}})
		})
		if err != nil {
			t.Fatal(err)
		}
		err = d.InTx(ctx, func(tx bun.Tx) error {
			return notify.SetPreferences(ctx, tx, requester, []notify.Preference{{Kind: notify.RequestFiled, Email: false}, {Kind: "nonsense", Email: false}})
		})
		if !fault.Is(err, fault.KindInvalid) {
			t.Fatalf("an unknown kind: %v", err)
		}
		prefs, err := notify.Preferences(ctx, d, requester)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefs {
			if p.Email != (p.Kind != notify.RequestResolved) {
				t.Fatalf("preference %s = %v", p.Kind, p.Email)
			}
		}
		if _, err := d.NewUpdate().Table("users").Set("disabled = ?", true).Where("id = ?", gone).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		p := notify.Parties{RequesterID: requester, AssigneeID: gone}
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		record(t, d, notify.Event{Kind: notify.RequestResolved, ObjectID: 7, ActorID: agent, Parties: p, At: at})
		record(t, d, notify.Event{Kind: notify.WaitingOnCustomer, ObjectID: 7, ActorID: agent, Parties: p, At: at})
		record(t, d, notify.Event{Kind: notify.RequestAssigned, ObjectID: 7, ActorID: agent, Parties: p, At: at})
		record(t, d, notify.Event{Kind: notify.RequestApproved, ObjectID: 7, ActorID: requester, Parties: p, At: at})
		if n, err := notify.UnreadCount(ctx, d, requester); err != nil || n != 2 {
			t.Fatalf("requester has %d unread (%v), want 2", n, err)
		}
		if keys := outboxKeys(t, d); len(keys) != 1 {
			t.Fatalf("outbox = %v, want only the waiting mail", keys)
		}
		if n, _ := notify.UnreadCount(ctx, d, gone); n != 0 {
			t.Fatalf("a disabled user got %d notifications", n)
		}
		if err := d.InTx(ctx, func(tx bun.Tx) error {
			_, err := notify.Record(ctx, tx, notify.Event{Kind: "nonsense", ObjectID: 1})
			return err
		}); err == nil {
			t.Fatal("an unknown kind was recorded")
		}
	})
}

// TestMarkReadOneAndAll: a user marks one notification read, then all;
// someone else's notification is not found and stays unread.
func TestMarkReadOneAndAll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ids := users(t, d, "requester", "agent")
		requester, agent := ids[0], ids[1]
		p := notify.Parties{RequesterID: requester, AssigneeID: agent}
		for range 3 {
			record(t, d, notify.Event{Kind: notify.RequestResolved, ObjectID: 7, Parties: p})
		}
		record(t, d, notify.Event{Kind: notify.RequestAssigned, ObjectID: 7, Parties: p})
		list, err := notify.List(ctx, d, requester, 0, 2, false)
		if err != nil || len(list) != 2 || list[0].ID < list[1].ID {
			t.Fatalf("first page = %+v, %v; want two, newest first", list, err)
		}
		rest, err := notify.List(ctx, d, requester, list[1].ID, 2, false)
		if err != nil || len(rest) != 1 {
			t.Fatalf("second page = %+v, %v", rest, err)
		}
		if err := notify.MarkRead(ctx, d, requester, list[0].ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		mine, _ := notify.List(ctx, d, agent, 0, 10, false)
		if err := notify.MarkRead(ctx, d, requester, mine[0].ID, time.Now()); !fault.Is(err, fault.KindNotFound) {
			t.Fatalf("marking another's notification: %v", err)
		}
		if n, _ := notify.UnreadCount(ctx, d, requester); n != 2 {
			t.Fatalf("unread = %d, want 2", n)
		}
		if n, err := notify.MarkAllRead(ctx, d, requester, time.Now()); err != nil || n != 2 {
			t.Fatalf("mark all = %d, %v", n, err)
		}
		if n, _ := notify.UnreadCount(ctx, d, agent); n != 1 {
			t.Fatalf("the agent's unread = %d, want 1", n)
		}
	})
}
