package requests_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/calendar"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

var helsinki = testkit.Helsinki

func hki(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, helsinki)
}

// submitAt files the desk's laptop request (first response 60 min,
// resolution 480 min) at the given time.
func (k *desk) submitAt(t *testing.T, at time.Time) *requests.Request {
	t.Helper()
	ctx := context.Background()
	var r *requests.Request
	err := k.DB.InTx(ctx, func(tx bun.Tx) (err error) {
		r, err = requests.Submit(ctx, tx, k.viewer(k.People.Member), k.Org,
			requests.Order{ServiceID: k.Services.Laptop.ID, ConsumerUnitID: k.Units.MKT, Title: "Laptop"}, at)
		return err
	})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return r
}

func sameInstant(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want.In(helsinki))
	}
}

func TestDueTimesCountBusinessHours(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		// Friday 15:30 with the default calendar (weekdays 08–16 Helsinki):
		// 30 minutes on Friday, the rest on Monday.
		r := k.submitAt(t, hki(2026, 11, 20, 15, 30))
		sameInstant(t, "first response due", r.FirstResponseDueAt, hki(2026, 11, 23, 8, 30))
		sameInstant(t, "first response at risk from", r.FirstResponseRiskFrom, hki(2026, 11, 23, 8, 15))
		sameInstant(t, "resolution due", r.ResolutionDueAt, hki(2026, 11, 23, 15, 30))
		sameInstant(t, "resolution at risk from", r.ResolutionRiskFrom, hki(2026, 11, 23, 13, 30))

		// The provider adopts the Finnish holidays: Christmas Eve and Day
		// and the weekend do not count.
		ctx := context.Background()
		err := d.InTx(ctx, func(tx bun.Tx) error {
			cal := units.DefaultCalendar("Europe/Helsinki")
			cal.Preset = "fi"
			return units.SetCalendar(ctx, tx, 0, k.Units.IT, cal, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		x := k.submitAt(t, hki(2026, 12, 23, 15, 0))
		sameInstant(t, "first response due before Christmas", x.FirstResponseDueAt, hki(2026, 12, 23, 16, 0))
		sameInstant(t, "resolution due after Christmas", x.ResolutionDueAt, hki(2026, 12, 28, 15, 0))
		// The earlier request keeps the due times it was given.
		sameInstant(t, "earlier request's due", k.reload(t, r.ID).ResolutionDueAt, hki(2026, 11, 23, 15, 30))
	})
}

func TestWaitingPausesTheClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		r := k.submitAt(t, hki(2026, 11, 23, 8, 0)) // Monday: resolution due 16:00
		sameInstant(t, "resolution due", r.ResolutionDueAt, hki(2026, 11, 23, 16, 0))
		steps := []struct {
			who    int64
			action string
			at     time.Time
		}{
			{k.People.Agent, "start", hki(2026, 11, 23, 9, 0)},
			{k.People.Agent, "wait", hki(2026, 11, 23, 10, 0)},
			{k.People.Member, "resume", hki(2026, 11, 23, 14, 0)}, // 4 business hours paused
		}
		for _, s := range steps {
			var err error
			if r, err = k.act(ctx, s.who, r.ID, requests.Action{Name: s.action, Version: r.Version}, s.at); err != nil {
				t.Fatalf("%s: %v", s.action, err)
			}
		}
		// 8 business hours from Monday 08:00 with 10:00–14:00 paused:
		// 2 h before, 2 h after (until 16:00), 4 h on Tuesday → 12:00.
		sameInstant(t, "resolution due after the pause", r.ResolutionDueAt, hki(2026, 11, 24, 12, 0))
		sameInstant(t, "at risk from after the pause", r.ResolutionRiskFrom, hki(2026, 11, 24, 10, 0))
	})
}

func TestAtRiskAndBreachAreMarkedOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		r := k.submitAt(t, hki(2026, 11, 23, 8, 0)) // first response due 09:00, at risk 08:45
		mark := func(now time.Time) int {
			var n int
			if err := d.InTx(ctx, func(tx bun.Tx) (err error) {
				n, err = requests.MarkSLA(ctx, tx, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := mark(hki(2026, 11, 23, 8, 40)); n != 0 {
			t.Fatalf("marked %d before anything was at risk", n)
		}
		if n := mark(hki(2026, 11, 23, 8, 50)); n != 1 {
			t.Fatalf("first response at risk: marked %d", n)
		}
		if n := mark(hki(2026, 11, 23, 8, 55)); n != 0 {
			t.Fatalf("marked again: %d", n)
		}
		if n := mark(hki(2026, 11, 23, 9, 5)); n != 1 {
			t.Fatalf("first response breached: marked %d", n)
		}
		got := k.reload(t, r.ID)
		if !got.AtRisk() || !got.Breached() {
			t.Fatalf("at risk %v, breached %v", got.AtRisk(), got.Breached())
		}
		// A waiting request's clock is paused: not marked while it waits.
		for _, a := range []string{"start", "wait"} {
			var err error
			if got, err = k.act(ctx, k.People.Agent, r.ID, requests.Action{Name: a, Version: got.Version}, hki(2026, 11, 23, 9, 10)); err != nil {
				t.Fatal(err)
			}
		}
		if n := mark(hki(2026, 11, 30, 12, 0)); n != 0 {
			t.Fatalf("marked a waiting request: %d", n)
		}
		if k.events(t, r.ID, "sla_at_risk") != 1 || k.events(t, r.ID, "sla_breached") != 1 {
			t.Fatalf("events: at risk %d, breached %d", k.events(t, r.ID, "sla_at_risk"), k.events(t, r.ID, "sla_breached"))
		}
		// The request shows in the queue's breached filter.
		list, err := requests.List(ctx, d, k.viewer(k.People.Agent), requests.Filter{SLA: "breached", Sort: requests.DefaultSort, Limit: 10})
		if err != nil || len(list) != 1 || list[0].ID != r.ID {
			t.Fatalf("breached filter = %v, %v", len(list), err)
		}
	})
}

func TestChangingTargetsKeepsFiledDueTimes(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	k := newDesk(t, d)
	ctx := context.Background()
	r := k.submitAt(t, hki(2026, 11, 23, 8, 0))
	longer := 960
	err := d.InTx(ctx, func(tx bun.Tx) error {
		_, err := catalog.UpdateService(ctx, tx, 0, k.Services.Laptop.ID, catalog.ServiceChange{SLAResolutionMinutes: &longer})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameInstant(t, "resolution due", k.reload(t, r.ID).ResolutionDueAt, hki(2026, 11, 23, 16, 0))
	if _, err := (calendar.Calendar{TimeZone: "Europe/Helsinki"}).Compile(); err == nil {
		t.Fatal("a calendar without hours compiled")
	}
}

func TestBusinessMinutesAreRecorded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newDesk(t, d)
		ctx := context.Background()
		r := k.submitAt(t, hki(2026, 11, 20, 15, 0)) // Friday 15:00
		var err error
		// Started Monday 09:00: first response after 60 + 60 business minutes.
		if r, err = k.act(ctx, k.People.Agent, r.ID, requests.Action{Name: "start", Version: r.Version}, hki(2026, 11, 23, 9, 0)); err != nil {
			t.Fatal(err)
		}
		if r, err = k.act(ctx, k.People.Agent, r.ID, requests.Action{Name: "resolve", Version: r.Version}, hki(2026, 11, 23, 11, 30)); err != nil {
			t.Fatal(err)
		}
		if r.FirstResponseMinutes == nil || *r.FirstResponseMinutes != 120 || r.ResolutionMinutes == nil || *r.ResolutionMinutes != 270 {
			t.Fatalf("first response %v, resolution %v business minutes; want 120, 270", r.FirstResponseMinutes, r.ResolutionMinutes)
		}
	})
}
