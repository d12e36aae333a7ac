package requests_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/units"
)

// TestFilerCannotApproveOrderFiledForSomeoneElse: an agent of the providing
// unit who also manages the ordering unit logs a phone order in a member's
// name. The member is the requester, but he filed it: he may neither approve
// nor reject it (403, reason "filer"), is not offered either action, and
// the order still waits; another manager of the unit approves it.
func TestFilerCannotApproveOrderFiledForSomeoneElse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := newDesk(t, d)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var filer, manager, service int64
		err := d.InTx(ctx, func(tx bun.Tx) error {
			laptop, err := catalog.GetService(ctx, tx, k.service)
			if err != nil {
				return err
			}
			svc, _, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: laptop.ProviderUnitID, Code: "SERVER",
				Name: "Server", PricingModel: "fixed", ApprovalPolicy: "always", SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
				nil, catalog.Rate{PriceMinor: 500000, Currency: "EUR", EffectiveFrom: "2020-01-01"})
			if err != nil {
				return err
			}
			service = svc.ID
			f, err := units.CreateUser(ctx, tx, 0, units.User{Email: "agent-manager@example.org", Name: "Agent and manager"})
			if err != nil {
				return err
			}
			m, err := units.CreateUser(ctx, tx, 0, units.User{Email: "manager@example.org", Name: "Manager"})
			if err != nil {
				return err
			}
			filer, manager = f.ID, m.ID
			for _, g := range []struct {
				unit, user int64
				role       string
			}{{laptop.ProviderUnitID, filer, "agent"}, {k.mkt, filer, "manager"}, {k.mkt, manager, "manager"}} {
				if _, err := units.GrantUnitRole(ctx, tx, 0, g.unit, g.user, g.role); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.authz.Refresh(ctx); err != nil {
			t.Fatal(err)
		}

		var r *requests.Request
		err = d.InTx(ctx, func(tx bun.Tx) (err error) {
			r, err = requests.Submit(ctx, tx, k.viewer(filer), k.org, requests.Order{ServiceID: service, ConsumerUnitID: k.mkt,
				RequesterID: k.member, Channel: "phone", Title: "Build server"}, now)
			return err
		})
		if err != nil {
			t.Fatalf("file for the member: %v", err)
		}
		if r.Status != requests.PendingApproval || r.RequesterID != k.member || r.CreatedBy != filer {
			t.Fatalf("filed: %s requester %d filed by %d, want pending_approval, %d, %d", r.Status, r.RequesterID, r.CreatedBy, k.member, filer)
		}
		if allowed := k.viewer(filer).AllowedActions(r, now); slices.Contains(allowed, "approve") || slices.Contains(allowed, "reject") {
			t.Fatalf("the filer is offered %v", allowed)
		}
		for _, action := range []string{"approve", "reject"} {
			_, err := k.act(ctx, filer, r.ID, requests.Action{Name: action, Version: r.Version}, now.Add(time.Minute))
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.KindForbidden || fe.Details["reason"] != "filer" {
				t.Fatalf("%s by the filer: %v, want forbidden with reason filer", action, err)
			}
		}
		if after := k.reload(t, r.ID); after.Status != requests.PendingApproval || after.Version != r.Version || k.events(t, r.ID, "approve") != 0 {
			t.Fatalf("after the refusals: %s v%d", after.Status, after.Version)
		}

		approved, err := k.act(ctx, manager, r.ID, requests.Action{Name: "approve", Version: r.Version}, now.Add(time.Hour))
		if err != nil || approved.Status != requests.Open {
			t.Fatalf("approve by another manager: %v", err)
		}
	})
}
