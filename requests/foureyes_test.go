package requests_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
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
		// The filer is an agent of IT who also manages MKT; the kit's MKT
		// manager is the other manager.
		filer := k.AddPerson(t, "agentmanager", testkit.Grant{Unit: k.Units.IT, Role: "agent"}, testkit.Grant{Unit: k.Units.MKT, Role: "manager"})
		manager, service := k.People.Manager, k.Services.Phone.ID

		var r *requests.Request
		err := d.InTx(ctx, func(tx bun.Tx) (err error) {
			r, err = requests.Submit(ctx, tx, k.viewer(filer), k.Org, requests.Order{ServiceID: service, ConsumerUnitID: k.Units.MKT,
				RequesterID: k.People.Member, Channel: "phone", Title: "Build server"}, now)
			return err
		})
		if err != nil {
			t.Fatalf("file for the member: %v", err)
		}
		if r.Status != requests.PendingApproval || r.RequesterID != k.People.Member || r.CreatedBy != filer {
			t.Fatalf("filed: %s requester %d filed by %d, want pending_approval, %d, %d", r.Status, r.RequesterID, r.CreatedBy, k.People.Member, filer)
		}
		if allowed := k.viewer(filer).AllowedActions(r, now); slices.Contains(allowed, "approve") || slices.Contains(allowed, "reject") {
			t.Fatalf("the filer is offered %v", allowed)
		}
		for _, action := range []string{"approve", "reject"} {
			_, err := requests.Perform(ctx, d, k.viewer(filer), k.Org, r.ID, requests.Action{Name: action, Version: r.Version}, now.Add(time.Minute))
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.KindForbidden || fe.Details["reason"] != "filer" {
				t.Fatalf("%s by the filer: %v, want forbidden with reason filer", action, err)
			}
		}
		// The refusals roll back with their transactions and stay on record.
		trail, err := audit.ListFor(ctx, d, "request", strconv.FormatInt(r.ID, 10))
		if err != nil {
			t.Fatal(err)
		}
		var refused []string
		for _, e := range trail {
			var attempt struct{ Attempt, Reason string }
			if e.Action == "refuse" && e.AfterJSON != nil && json.Unmarshal([]byte(*e.AfterJSON), &attempt) == nil &&
				e.ActorID != nil && *e.ActorID == filer && attempt.Reason == "filer" {
				refused = append(refused, attempt.Attempt)
			}
		}
		if !slices.Equal(refused, []string{"approve", "reject"}) {
			t.Fatalf("refusals on record: %v, want approve and reject by the filer with reason filer", refused)
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
