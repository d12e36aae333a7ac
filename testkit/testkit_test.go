package testkit_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

// TestStandardOrganisation pins the organisation every domain test builds
// on: a change here changes the world of every test that uses the kit.
func TestStandardOrganisation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := testkit.New(t, d)
		t.Run("organisation", func(t *testing.T) {
			if k.Org.Currency != "EUR" || k.Org.TimeZone != "Europe/Helsinki" || k.Org.Location.String() != "Europe/Helsinki" {
				t.Fatalf("org = %+v", k.Org)
			}
		})
		t.Run("unit tree", func(t *testing.T) {
			for _, u := range []struct {
				id             int64
				code, parent   string
				chargebackMode string
			}{
				{k.Units.HQ, "HQ", "", ""}, {k.Units.IT, "IT", "HQ", ""}, {k.Units.ITDesk, "IT-SD", "IT", ""},
				{k.Units.ITNet, "IT-NET", "IT", ""}, {k.Units.MKT, "MKT", "HQ", ""}, {k.Units.MKTDigital, "MKT-DIG", "MKT", ""},
				{k.Units.FIN, "FIN", "HQ", ""}, {k.Units.LEGAL, "LEGAL", "HQ", units.ModeShowback},
			} {
				got, err := units.GetUnit(ctx, d, u.id)
				if err != nil {
					t.Fatalf("%s: %v", u.code, err)
				}
				parent := ""
				if got.ParentID != nil {
					p, err := units.GetUnit(ctx, d, *got.ParentID)
					if err != nil {
						t.Fatal(err)
					}
					parent = p.Code
				}
				if got.Code != u.code || parent != u.parent || (u.chargebackMode != "" && got.ChargebackMode != u.chargebackMode) {
					t.Errorf("unit %d = %s under %q (%s), want %s under %q", u.id, got.Code, parent, got.ChargebackMode, u.code, u.parent)
				}
			}
		})
		t.Run("personas", func(t *testing.T) {
			for _, p := range []struct {
				name string
				id   int64
				want []policies.Grant
			}{
				{"member", k.People.Member, []policies.Grant{{Role: "member", UnitID: k.Units.MKT}}},
				{"manager", k.People.Manager, []policies.Grant{{Role: "manager", UnitID: k.Units.MKT}}},
				{"agent", k.People.Agent, []policies.Grant{{Role: "agent", UnitID: k.Units.IT}}},
				{"itmanager", k.People.ITManager, []policies.Grant{{Role: "manager", UnitID: k.Units.IT}}},
				{"finance", k.People.Finance, []policies.Grant{{Role: "finance"}}},
				{"finance2", k.People.Finance2, []policies.Grant{{Role: "finance"}}},
				{"auditor", k.People.Auditor, []policies.Grant{{Role: "auditor"}}},
				{"admin", k.People.Admin, []policies.Grant{{Role: "admin"}}},
			} {
				got := k.Authz.Grants(p.id)
				for _, g := range p.want {
					if !slices.Contains(got, g) {
						t.Errorf("%s holds %v, want %v among them", p.name, got, g)
					}
				}
			}
			if !k.Authz.Can(k.People.Manager, k.Units.MKTDigital, "request", "approve") {
				t.Error("MKT's manager cannot approve MKT-DIG's requests")
			}
		})
		t.Run("services", func(t *testing.T) {
			for _, s := range []struct {
				got                   testkit.Service
				code, model, approval string
				price                 int64
			}{
				{k.Services.Laptop, "LAPTOP", "fixed", "never", 120000},
				{k.Services.Licence, "LICENCE", "per_unit", "never", 33333},
				{k.Services.Help, "HELP", "hourly", "never", 6000},
				{k.Services.Phone, "PHONE", "fixed", "always", 45000},
			} {
				stored, err := catalog.GetService(ctx, d, s.got.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.Code != s.code || stored.PricingModel != s.model || stored.ApprovalPolicy != s.approval ||
					stored.ProviderUnitID != k.Units.IT || s.got.Rate.PriceMinor != s.price || s.got.Rate.ServiceID != s.got.ID {
					t.Errorf("service %s = %+v rate %+v", s.code, stored, s.got.Rate)
				}
			}
		})
	})
}

// TestOptionsAndAddPerson: the variations tests ask for are applied, and a
// person added later is known to the authorizer at once.
func TestOptionsAndAddPerson(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := testkit.New(t, d, testkit.ChargebackMode("MKT", units.ModeShowback), testkit.Price("PHONE", 145000),
			testkit.Approval("LAPTOP", "always"))
		mkt, err := units.GetUnit(ctx, d, k.Units.MKT)
		if err != nil {
			t.Fatal(err)
		}
		laptop, err := catalog.GetService(ctx, d, k.Services.Laptop.ID)
		if err != nil {
			t.Fatal(err)
		}
		if mkt.ChargebackMode != units.ModeShowback || k.Services.Phone.Rate.PriceMinor != 145000 || laptop.ApprovalPolicy != "always" {
			t.Fatalf("options not applied: MKT %s, PHONE %d, LAPTOP %s", mkt.ChargebackMode, k.Services.Phone.Rate.PriceMinor, laptop.ApprovalPolicy)
		}
		legal := k.AddPerson(t, "legalmgr", testkit.Grant{Unit: k.Units.LEGAL, Role: "manager"})
		if !slices.Contains(k.Authz.Grants(legal), policies.Grant{Role: "manager", UnitID: k.Units.LEGAL}) {
			t.Fatalf("legalmgr holds %v", k.Authz.Grants(legal))
		}
		defer func() {
			if r := recover(); r == nil || fmt.Sprint(r) != "testkit: no service NOPE" {
				t.Fatalf("an option naming no service: recover() = %v", r)
			}
		}()
		testkit.New(t, dbtest.Open(t, d.Engine), testkit.Price("NOPE", 1))
	})
}

// TestNamesAndPasswords: the kit's units and people by name are the ones it
// made, and Passwords gives every person it makes, later ones too, the hash.
func TestNamesAndPasswords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := testkit.New(t, d, testkit.Passwords("a-stored-hash"))
		for code, id := range k.Units.ByCode() {
			if u, err := units.GetUnit(ctx, d, id); err != nil || u.Code != code {
				t.Errorf("unit %s = %+v (%v)", code, u, err)
			}
		}
		people := k.People.ByName()
		people["late"] = k.AddPerson(t, "late")
		if len(people) != 9 {
			t.Fatalf("people by name = %v", people)
		}
		for name, id := range people {
			u, err := units.GetUser(ctx, d, id)
			if err != nil || u.Email != testkit.Email(name) || u.Name != name || u.PasswordHash != "a-stored-hash" {
				t.Errorf("person %s = %+v (%v)", name, u, err)
			}
		}
	})
}
