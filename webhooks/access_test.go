package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/webhooks"
)

// TestWhoKeepsWhichWebhooks is the rule: a unit's managers keep its
// subscriptions and those of the units below, admins the organisation's
// and every unit's; nobody else keeps any, and a subscription one does not
// keep is not found.
func TestWhoKeepsWhichWebhooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := testkit.New(t, d)
		store := &webhooks.Store{Guard: &webhooks.Guard{}, Known: kinds()}
		keeper := func(id int64) webhooks.Keeper { return webhooks.Keeper{UserID: id, Authz: k.Authz} }
		create := func(who, unit int64) (*webhooks.Subscription, error) {
			var sub *webhooks.Subscription
			err := d.InTx(context.Background(), func(tx bun.Tx) (err error) {
				sub, err = store.CreateAs(context.Background(), tx, keeper(who), webhooks.Input{UnitID: unit, Name: "chat",
					URL: "https://93.184.216.34/hook", Kinds: []string{"request_filed"}}, time.Now())
				return err
			})
			return sub, err
		}
		cases := []struct {
			name      string
			who, unit int64
			kind      fault.Kind // 0: allowed
		}{
			{"IT's manager for IT", k.People.ITManager, k.Units.IT, 0},
			{"IT's manager for a unit below", k.People.ITManager, k.Units.ITDesk, 0},
			{"IT's manager not for Marketing", k.People.ITManager, k.Units.MKT, fault.KindForbidden},
			{"IT's manager not for the organisation", k.People.ITManager, 0, fault.KindForbidden},
			{"an agent not for their unit", k.People.Agent, k.Units.IT, fault.KindForbidden},
			{"a member not for their unit", k.People.Member, k.Units.MKT, fault.KindForbidden},
			{"finance not for the organisation", k.People.Finance, 0, fault.KindForbidden},
			{"an admin for the organisation", k.People.Admin, 0, 0},
			{"an admin for any unit", k.People.Admin, k.Units.MKT, 0},
		}
		subs := map[string]*webhooks.Subscription{}
		for _, tc := range cases {
			sub, err := create(tc.who, tc.unit)
			if tc.kind == 0 && err != nil {
				t.Errorf("%s: refused: %v", tc.name, err)
			}
			if tc.kind != 0 && !fault.Is(err, tc.kind) {
				t.Errorf("%s: got %v, want kind %d", tc.name, err, tc.kind)
			}
			subs[tc.name] = sub
		}
		if n, _ := d.NewSelect().Table("webhook_subscriptions").Count(context.Background()); n != 4 {
			t.Fatalf("stored %d subscriptions, want the 4 allowed", n)
		}
		itSub, orgSub := subs["IT's manager for IT"], subs["an admin for the organisation"]
		if _, err := webhooks.GetAs(context.Background(), d, keeper(k.People.Manager), itSub.ID); !fault.Is(err, fault.KindNotFound) {
			t.Errorf("Marketing's manager reads IT's subscription: %v, want not found", err)
		}
		if _, err := webhooks.GetAs(context.Background(), d, keeper(k.People.ITManager), orgSub.ID); !fault.Is(err, fault.KindNotFound) {
			t.Errorf("IT's manager reads the organisation's subscription: %v, want not found", err)
		}
		if _, err := webhooks.ListAs(context.Background(), d, keeper(k.People.Agent), k.Units.IT); !fault.Is(err, fault.KindForbidden) {
			t.Errorf("an agent lists IT's subscriptions: %v, want forbidden", err)
		}
		err := d.InTx(context.Background(), func(tx bun.Tx) error {
			_, err := webhooks.DeleteAs(context.Background(), tx, keeper(k.People.Agent), itSub.ID, time.Now())
			return err
		})
		if !fault.Is(err, fault.KindNotFound) {
			t.Errorf("an agent deletes IT's subscription: %v, want not found", err)
		}
		list, err := webhooks.ListAs(context.Background(), d, keeper(k.People.ITManager), k.Units.IT)
		if err != nil || len(list) != 1 || list[0].ID != itSub.ID {
			t.Errorf("IT's manager lists IT's subscriptions: %v %v", list, err)
		}
	})
}
