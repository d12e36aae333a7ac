package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web/webtest"
)

// admUnit reads a unit by code straight from the database.
func admUnit(t *testing.T, f *webtest.Fixture, code string) *units.Unit {
	t.Helper()
	u, err := units.GetUnitByCode(context.Background(), f.DB, code)
	if err != nil {
		t.Fatalf("unit %s: %v", code, err)
	}
	return u
}

// admConfirmProposals confirms every pending money-role proposal as the
// named finance user.
func admConfirmProposals(t *testing.T, f *webtest.Fixture, name string) {
	t.Helper()
	ctx := context.Background()
	pending, err := units.PendingGrantProposals(ctx, f.DB)
	if err != nil || len(pending) == 0 {
		t.Fatalf("pending proposals %v, %v", pending, err)
	}
	for _, p := range pending {
		if err := audit.InTx(ctx, f.DB, func(tx bun.Tx) error {
			_, err := units.ConfirmGrant(ctx, tx, f.Users[name], p.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// admFinnish switches the browser's user to Finnish through the portal.
func admFinnish(t *testing.T, b *webtest.Browser) {
	t.Helper()
	if p := b.Post("/language", url.Values{"back": {"/"}, "locale": {"fi"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("language switch = %d", p.Status)
	}
	b.Get("/")
}

func TestPortalAdminUnits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.SignIn("admin")
		p := admin.Get("/admin/units")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "IT-SD") || !strings.Contains(p.Body, `class="depth-2"`) ||
			!strings.Contains(p.Body, `href="/admin/users"`) || !strings.Contains(p.Body, `href="/admin/services"`) {
			t.Fatalf("units page = %d", p.Status)
		}
		// Create a unit under HQ through the form.
		p = admin.Post("/admin/units", url.Values{"code": {"ops"}, "name": {"Operations"}, "parent_id": {webtest.ID(f.Units["HQ"])},
			"approval_threshold": {"1500.50"}, "budget_mode": {"hard"}, "chargeback_mode": {"showback"}})
		if p.Status != http.StatusSeeOther || p.Location != "/admin/units" {
			t.Fatalf("create unit = %d → %s: %s", p.Status, p.Location, p.Body)
		}
		ops := admUnit(t, f, "OPS")
		if ops.ParentID == nil || *ops.ParentID != f.Units["HQ"] || ops.Name != "Operations" || ops.ApprovalThresholdMinor != 150050 ||
			ops.BudgetMode != "hard" || ops.ChargebackMode != "showback" {
			t.Fatalf("created unit = %+v", ops)
		}
		if p := admin.Get("/admin/units"); !strings.Contains(p.Body, `role="status"`) || !strings.Contains(p.Body, "OPS") ||
			!strings.Contains(p.Body, "€1,500.50") {
			t.Fatal("the units page lacks the flash message or the new unit")
		}
		before := f.Count("units")
		// A duplicate code is refused beside the field, keeping what was typed.
		p = admin.Post("/admin/units", url.Values{"code": {"IT"}, "name": {"Second <IT>"}, "parent_id": {webtest.ID(f.Units["HQ"])},
			"approval_threshold": {"0"}, "budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="code-error"`) || !strings.Contains(p.Body, `value="Second &lt;IT&gt;"`) {
			t.Fatalf("duplicate code = %d", p.Status)
		}
		// Money typed ambiguously is refused, not guessed.
		for _, bad := range []string{"12,345", "1e3", "-5", "1.234"} {
			p = admin.Post("/admin/units", url.Values{"code": {"NEW"}, "name": {"New"}, "approval_threshold": {bad},
				"budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="approval_threshold-error"`) ||
				!strings.Contains(p.Body, `value="`+bad+`"`) {
				t.Fatalf("threshold %q = %d", bad, p.Status)
			}
		}
		if f.Count("units") != before {
			t.Fatal("a refused unit was written")
		}
		// Moving HQ below IT would make a cycle.
		group := "/admin/units/" + webtest.ID(f.Units["HQ"])
		p = admin.Post(group, url.Values{"code": {"HQ"}, "name": {"Group renamed"}, "parent_id": {webtest.ID(f.Units["IT-SD"])},
			"approval_threshold": {"0"}, "budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="parent_id-error"`) || !strings.Contains(p.Body, `value="Group renamed"`) {
			t.Fatalf("cycle = %d", p.Status)
		}
		if g := admUnit(t, f, "HQ"); g.ParentID != nil || g.Name != "Headquarters" {
			t.Fatalf("HQ changed by a refused edit: %+v", g)
		}
		// A proper edit saves.
		p = admin.Post("/admin/units/"+webtest.ID(f.Units["IT-SD"]), url.Values{"code": {"IT-SD"}, "name": {"Service desk"}, "parent_id": {webtest.ID(f.Units["HQ"])},
			"approval_threshold": {"99.90"}, "budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("edit = %d: %s", p.Status, p.Body)
		}
		if sd := admUnit(t, f, "IT-SD"); sd.Name != "Service desk" || *sd.ParentID != f.Units["HQ"] || sd.ApprovalThresholdMinor != 9990 {
			t.Fatalf("edited unit = %+v", sd)
		}
		// Archiving asks first without the script; a unit with children is refused.
		p = admin.Post(group+"/archive", url.Values{})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="confirm" value="yes"`) || admUnit(t, f, "HQ").Archived {
			t.Fatalf("archive without confirmation = %d", p.Status)
		}
		if p := admin.Post(group+"/archive", url.Values{"confirm": {"yes"}}); p.Status != http.StatusConflict || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("archive a parent = %d", p.Status)
		}
		if p := admin.Post("/admin/units/"+webtest.ID(ops.ID)+"/archive", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("archive = %d", p.Status)
		}
		if !admUnit(t, f, "OPS").Archived {
			t.Fatal("OPS is not archived")
		}
		if p := admin.Get("/admin/units/" + webtest.ID(ops.ID)); !strings.Contains(p.Body, "/restore") {
			t.Fatal("an archived unit offers no restore")
		}
	})
}

func TestPortalAdminHiddenFromOthers(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	for _, name := range []string{"mktmember", "itagent", "nobody"} {
		b := f.SignIn(name)
		if p := b.Get("/"); strings.Contains(p.Body, `href="/admin/units"`) {
			t.Errorf("%s sees the Admin link", name)
		}
		for _, path := range []string{"/admin/units", "/admin/users", "/admin/services", "/admin/units/" + webtest.ID(f.Units["IT"]), "/reports"} {
			p := b.Get(path)
			if p.Status != http.StatusNotFound || strings.Contains(p.Body, "admin@example.org") || strings.Contains(p.Body, "IT service desk") {
				t.Errorf("%s GET %s = %d", name, path, p.Status)
			}
		}
		before := f.Count("units")
		if p := b.Post("/admin/units", url.Values{"code": {"X"}, "name": {"X"}}); p.Status != http.StatusNotFound {
			t.Errorf("%s POST /admin/units = %d", name, p.Status)
		}
		if p := b.Post("/admin/users/"+webtest.ID(f.Users["admin"])+"/roles", url.Values{"role": {"finance"}}); p.Status != http.StatusNotFound {
			t.Errorf("%s grants = %d", name, p.Status)
		}
		if f.Count("units") != before || len(f.OrgRoles("admin")) != 1 {
			t.Errorf("%s changed something", name)
		}
	}
	// An IT manager manages IT's and IT-SD's members, not MKT's; no users page.
	mgr := f.SignIn("itmgr")
	p := mgr.Get("/admin/units")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "IT-SD") || strings.Contains(p.Body, ">MKT<") ||
		strings.Contains(p.Body, `action="/admin/units"`) || strings.Contains(p.Body, `href="/admin/users"`) {
		t.Fatalf("IT manager's units page = %d", p.Status)
	}
	if p := mgr.Get("/admin/units/" + webtest.ID(f.Units["MKT"])); p.Status != http.StatusNotFound {
		t.Fatalf("IT manager opens MKT = %d", p.Status)
	}
	if p := mgr.Get("/admin/users"); p.Status != http.StatusNotFound {
		t.Fatalf("IT manager opens users = %d", p.Status)
	}
	if p := mgr.Post("/admin/units/"+webtest.ID(f.Units["IT"]), url.Values{"code": {"IT"}, "name": {"Mine now"}}); p.Status != http.StatusNotFound ||
		admUnit(t, f, "IT").Name != "IT" {
		t.Fatalf("IT manager edits IT's settings = %d", p.Status)
	}
}

func TestPortalAdminGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		mgr := f.SignIn("itmgr")
		it := "/admin/units/" + webtest.ID(f.Units["IT"])
		sd := "/admin/units/" + webtest.ID(f.Units["IT-SD"])
		nobody := f.SignIn("nobody")
		if p := nobody.Get("/queue"); strings.Contains(p.Body, `href="/queue"`) {
			t.Fatal("nobody already has a queue")
		}
		// IT's manager makes nobody an agent of IT-SD (below IT) through the form.
		p := mgr.Post(sd+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"agent"}})
		if p.Status != http.StatusSeeOther || p.Location != sd {
			t.Fatalf("grant agent = %d → %s: %s", p.Status, p.Location, p.Body)
		}
		if p := mgr.Get(sd); !strings.Contains(p.Body, "nobody@example.org") || !strings.Contains(p.Body, `role="status"`) {
			t.Fatal("the member list lacks the new agent or the flash")
		}
		if p := nobody.Get("/"); !strings.Contains(p.Body, `href="/queue"`) {
			t.Fatal("the granted agent role did not take effect")
		}
		// A manager cannot make managers; an unknown e-mail is a field error.
		if p := mgr.Post(it+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"manager"}}); p.Status != http.StatusForbidden ||
			!strings.Contains(p.Body, `role="alert"`) || !strings.Contains(p.Body, "Only an admin grants or revokes the manager role") {
			t.Fatalf("manager grants manager = %d", p.Status)
		}
		if p := mgr.Post(it+"/members", url.Values{"email": {"ghost@example.org"}, "role": {"member"}}); p.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, `value="ghost@example.org"`) || !strings.Contains(p.Body, `class="field-error"`) {
			t.Fatalf("unknown e-mail = %d", p.Status)
		}
		// Another unit's members are not IT's manager's to change.
		if p := mgr.Post("/admin/units/"+webtest.ID(f.Units["MKT"])+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"member"}}); p.Status != http.StatusNotFound {
			t.Fatalf("IT manager grants in MKT = %d", p.Status)
		}
		var grants int
		if err := d.NewSelect().Table("unit_roles").ColumnExpr("COUNT(*)").Where("user_id = ?", f.Users["nobody"]).Scan(context.Background(), &grants); err != nil || grants != 1 {
			t.Fatalf("nobody's grants = %d (%v)", grants, err)
		}
		// The admin makes nobody MKT's manager: then nobody opens MKT's page.
		admin := f.SignIn("admin")
		mkt := "/admin/units/" + webtest.ID(f.Units["MKT"])
		if p := nobody.Get(mkt); p.Status != http.StatusNotFound {
			t.Fatalf("before the grant = %d", p.Status)
		}
		if p := admin.Post(mkt+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"manager"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("admin grants manager = %d: %s", p.Status, p.Body)
		}
		if p := nobody.Get(mkt); p.Status != http.StatusOK || !strings.Contains(p.Body, "member@example.org") {
			t.Fatalf("after the grant = %d", p.Status)
		}
		// Revoking through the form takes it away again.
		if p := admin.Post(mkt+"/members/remove", url.Values{"user_id": {webtest.ID(f.Users["nobody"])}, "role": {"manager"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("revoke = %d", p.Status)
		}
		if p := nobody.Get(mkt); p.Status != http.StatusNotFound {
			t.Fatalf("after the revoke = %d", p.Status)
		}
	})
}

func TestPortalAdminUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		admin := f.SignIn("admin")
		p := admin.Get("/admin/users")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "member@example.org") || !strings.Contains(p.Body, `name="password"`) {
			t.Fatalf("users page = %d", p.Status)
		}
		// A bad e-mail comes back beside the field; nothing is written.
		before := f.Count("users")
		p = admin.Post("/admin/users", url.Values{"email": {"not an address"}, "name": {"Nella <N>"}, "locale": {"fi"}, "password": {webtest.TestPassword}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || !strings.Contains(p.Body, `value="Nella &lt;N&gt;"`) ||
			strings.Contains(p.Body, webtest.TestPassword) {
			t.Fatalf("bad e-mail = %d", p.Status)
		}
		if p := admin.Post("/admin/users", url.Values{"email": {"nella@example.org"}, "name": {"Nella"}, "password": {"short"}}); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("short password = %d", p.Status)
		}
		if f.Count("users") != before {
			t.Fatal("a refused user was written")
		}
		p = admin.Post("/admin/users", url.Values{"email": {"nella@example.org"}, "name": {"Nella"}, "locale": {"fi"}, "password": {webtest.TestPassword}})
		if p.Status != http.StatusSeeOther || p.Location != "/admin/users" {
			t.Fatalf("create user = %d: %s", p.Status, p.Body)
		}
		created, err := units.GetUserByEmail(context.Background(), d, "nella@example.org")
		if err != nil || created.Name != "Nella" || created.Locale != "fi" || created.Disabled {
			t.Fatalf("created user = %+v, %v", created, err)
		}
		f.Users["nella"] = created.ID
		nella := f.SignIn("nella")
		if p := nella.Get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, `lang="fi"`) {
			t.Fatalf("the new user's home = %d", p.Status)
		}
		userPath := "/admin/users/" + webtest.ID(created.ID)
		// Disabling asks first without the script, then ends the user's session.
		if p := admin.Post(userPath+"/disable", url.Values{}); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="confirm" value="yes"`) {
			t.Fatalf("disable without confirmation = %d", p.Status)
		}
		if p := nella.Get("/"); p.Status != http.StatusOK {
			t.Fatal("an unconfirmed disable ended the session")
		}
		if p := admin.Post(userPath+"/disable", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("disable = %d", p.Status)
		}
		if p := nella.Get("/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("a disabled user's session still works: %d", p.Status)
		}
		if p := admin.Post(userPath+"/enable", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("enable = %d", p.Status)
		}
		f.SignIn("nella")
		// Nobody disables themselves.
		if p := admin.Post("/admin/users/"+webtest.ID(f.Users["admin"])+"/disable", url.Values{"confirm": {"yes"}}); p.Status != http.StatusConflict ||
			!strings.Contains(p.Body, "You cannot disable your own account") {
			t.Fatalf("self-disable = %d", p.Status)
		}
		// Org roles: finance granted takes effect; admin + finance is refused
		// with the domain's reason; the last admin keeps the role.
		nobody := f.SignIn("nobody")
		if res := f.Login("nobody").Call("GET", "/api/v1/periods", nil); res.Status != http.StatusNotFound {
			t.Fatalf("periods before the grant = %d", res.Status)
		}
		if p := admin.Post("/admin/users/"+webtest.ID(f.Users["nobody"])+"/roles", url.Values{"role": {"finance"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("grant finance = %d: %s", p.Status, p.Body)
		}
		admConfirmProposals(t, f, "finance")
		if res := f.Login("nobody").Call("GET", "/api/v1/periods", nil); res.Status != http.StatusOK {
			t.Fatalf("periods after the grant = %d", res.Status)
		}
		// The session nobody signed in with a password alone now owes a
		// second factor (finance moves money): it reaches only the
		// two-factor page until a code is given.
		if p := nobody.Get("/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/settings/two-factor") {
			t.Fatalf("home of a new finance user's old session = %d → %s", p.Status, p.Location)
		}
		nobody.Get("/settings/two-factor")
		if p := nobody.Post("/settings/two-factor/verify", url.Values{"code": {f.RecoveryCode(f.Users["nobody"])}, "next": {"/"}}); p.Status != http.StatusSeeOther || p.Location != "/" {
			t.Fatalf("give a code = %d → %s: %s", p.Status, p.Location, p.Body)
		}
		if p := nobody.Get("/"); !strings.Contains(p.Body, `href="/finance/periods"`) {
			t.Fatal("the finance grant does not show in the portal")
		}
		p = admin.Post("/admin/users/"+webtest.ID(f.Users["finance"])+"/roles", url.Values{"role": {"admin"}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, "segregation of duties") {
			t.Fatalf("admin for finance = %d", p.Status)
		}
		if roles := f.OrgRoles("finance"); !slices.Equal(roles, []string{"finance"}) {
			t.Fatalf("finance holds %v", roles)
		}
		if p := admin.Post("/admin/users/"+webtest.ID(f.Users["admin"])+"/roles/revoke", url.Values{"role": {"admin"}}); p.Status != http.StatusConflict ||
			!slices.Equal(f.OrgRoles("admin"), []string{"admin"}) {
			t.Fatalf("revoke the last admin = %d", p.Status)
		}
		if p := admin.Post("/admin/users/"+webtest.ID(f.Users["nobody"])+"/roles/revoke", url.Values{"role": {"finance"}}); p.Status != http.StatusSeeOther ||
			len(f.OrgRoles("nobody")) != 0 {
			t.Fatalf("revoke finance = %d", p.Status)
		}
	})
}

func TestPortalAdminFinnish(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := webtest.NewFixture(t, d)
	admin := f.SignIn("admin")
	admFinnish(t, admin)
	// Finnish money is typed with a decimal comma; a point is refused.
	p := admin.Post("/admin/units", url.Values{"code": {"FI"}, "name": {"Suomi"}, "approval_threshold": {"1.234"},
		"budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Kirjoita summa muodossa 1234,56") {
		t.Fatalf("Finnish bad amount = %d", p.Status)
	}
	p = admin.Post("/admin/units", url.Values{"code": {"FI"}, "name": {"Suomi"}, "approval_threshold": {"1234,56"},
		"budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("Finnish create = %d: %s", p.Status, p.Body)
	}
	if u := admUnit(t, f, "FI"); u.ApprovalThresholdMinor != 123456 {
		t.Fatalf("threshold = %d", u.ApprovalThresholdMinor)
	}
	p = admin.Get("/admin/units")
	for _, want := range []string{"Yksiköt ja kustannuspaikat", "Hyväksyntäraja", "1\u00a0234,56\u00a0€", "Yksikkö FI luotu.", "Käyttäjät"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("Finnish units page lacks %q", want)
		}
	}
	if p := admin.Get("/admin/units/" + webtest.ID(admUnit(t, f, "FI").ID)); !strings.Contains(p.Body, `value="1234,56"`) {
		t.Error("the edit form does not show the threshold the Finnish way")
	}
	p = admin.Post("/admin/users/"+webtest.ID(f.Users["finance"])+"/roles", url.Values{"role": {"admin"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, "tehtävien eriyttäminen") {
		t.Fatalf("Finnish segregation message = %d", p.Status)
	}
	if p := admin.Get("/admin/users"); !strings.Contains(p.Body, "Organisaatioroolit") || !strings.Contains(p.Body, "Ensimmäinen salasana") {
		t.Error("Finnish users page lacks its texts")
	}
}

func admRates(t *testing.T, f *webtest.Fixture, serviceID int64) []catalog.Rate {
	t.Helper()
	rates, err := catalog.Rates(context.Background(), f.DB, serviceID)
	if err != nil {
		t.Fatal(err)
	}
	return rates
}

func TestPortalAdminServicesAndRates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		mgr := f.SignIn("itmgr")
		p := mgr.Get("/admin/services")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/admin/services"`) || !strings.Contains(p.Body, ">IT IT<") ||
			strings.Contains(p.Body, ">MKT Marketing<") {
			t.Fatalf("services page = %d", p.Status)
		}
		form := func(price string) url.Values {
			return url.Values{"provider_unit_id": {webtest.ID(f.Units["IT"])}, "code": {"MON"}, "name": {"Monitor <27>"}, "category": {"Hardware"},
				"pricing_model": {"per_unit"}, "unit_label": {"monitor"}, "price": {price}, "approval_policy": {"never"},
				"sla_first_response_minutes": {"60"}, "sla_resolution_minutes": {"480"}}
		}
		services, rates := f.Count("services"), f.Count("service_rates") // the kit's
		var (
			svcPath string // the new service's page
			svc     catalog.Service
		)
		testkit.Step(t, "bad prices and SLAs are refused and write nothing", func(t *testing.T) {
			// Ambiguous money is refused beside the price, keeping the rest.
			for _, bad := range []string{"12,345", "1e3", "", "-1"} {
				p = mgr.Post("/admin/services", form(bad))
				if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="price-error"`) ||
					!strings.Contains(p.Body, `value="Monitor &lt;27&gt;"`) || !strings.Contains(p.Body, `value="`+bad+`"`) {
					t.Fatalf("price %q = %d", bad, p.Status)
				}
			}
			bad := form("289.00")
			bad.Set("sla_resolution_minutes", "30")
			if p := mgr.Post("/admin/services", bad); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "resolution_minutes cannot be shorter") {
				t.Fatalf("SLA shorter than first response = %d", p.Status)
			}
			if f.Count("services") != services || f.Count("service_rates") != rates {
				t.Fatal("a refused service was written")
			}
		})
		testkit.Step(t, "IT's manager creates a service with its first rate", func(t *testing.T) {
			p = mgr.Post("/admin/services", form("289.00"))
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/services/") {
				t.Fatalf("create service = %d: %s", p.Status, p.Body)
			}
			svcPath = p.Location
			all, err := catalog.ListServices(context.Background(), d, catalog.ServiceFilter{IncludeInactive: true, Limit: 10})
			var list []catalog.Service // the services the kit did not make
			for _, s := range all {
				if s.ID > f.Kit.Services.Phone.ID {
					list = append(list, s)
				}
			}
			if err != nil || len(all) != services+1 || len(list) != 1 || list[0].Code != "MON" || list[0].ProviderUnitID != f.Units["IT"] || list[0].PricingModel != "per_unit" ||
				list[0].SLAResolutionMinutes != 480 {
				t.Fatalf("created services = %+v (%v)", list, err)
			}
			svc = list[0]
			if rates := admRates(t, f, svc.ID); len(rates) != 1 || rates[0].PriceMinor != 28900 || rates[0].EffectiveFrom != webtest.TodayPlus(0) {
				t.Fatalf("first rate = %+v", rates)
			}
		})
		testkit.Step(t, "a later rate is kept beside it, bad ones are refused", func(t *testing.T) {
			// A later price with effective_from; the history shows both.
			from := webtest.TodayPlus(3)
			p = mgr.Post(svcPath+"/rates", url.Values{"price": {"310.50"}, "effective_from": {from}})
			if p.Status != http.StatusSeeOther || p.Location != svcPath {
				t.Fatalf("add rate = %d: %s", p.Status, p.Body)
			}
			p = mgr.Get(svcPath)
			if !strings.Contains(p.Body, `datetime="`+from+`"`) || !strings.Contains(p.Body, "€310.50") || !strings.Contains(p.Body, "€289.00") ||
				!strings.Contains(p.Body, `role="status"`) {
				t.Fatal("the history lacks the new rate")
			}
			for _, bad := range []string{"12,345", "1e3"} {
				p = mgr.Post(svcPath+"/rates", url.Values{"price": {bad}, "effective_from": {webtest.TodayPlus(5)}})
				if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="price-error"`) || !strings.Contains(p.Body, `value="`+bad+`"`) ||
					!strings.Contains(p.Body, `value="`+webtest.TodayPlus(5)+`"`) {
					t.Fatalf("rate %q = %d", bad, p.Status)
				}
			}
			if p := mgr.Post(svcPath+"/rates", url.Values{"price": {"1.00"}, "effective_from": {webtest.TodayPlus(-1)}}); p.Status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.Body, `id="effective_from-error"`) {
				t.Fatalf("rate in the past = %d", p.Status)
			}
			if p := mgr.Post(svcPath+"/rates", url.Values{"price": {"1.00"}, "effective_from": {from}}); p.Status != http.StatusConflict ||
				!strings.Contains(p.Body, `id="effective_from-error"`) {
				t.Fatalf("second rate on a date = %d", p.Status)
			}
			if n := len(admRates(t, f, svc.ID)); n != 2 {
				t.Fatalf("rates after refusals = %d", n)
			}
		})
		testkit.Step(t, "the manager edits and deactivates it", func(t *testing.T) {
			// Edit: rename and deactivate (the box unticked).
			p = mgr.Post(svcPath, url.Values{"name": {"Monitor 27\""}, "category": {"Hardware"}, "approval_policy": {"always"},
				"sla_first_response_minutes": {"abc"}, "sla_resolution_minutes": {"480"}})
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `value="abc"`) || !strings.Contains(p.Body, `value="Monitor 27&#34;"`) {
				t.Fatalf("bad SLA edit = %d", p.Status)
			}
			p = mgr.Post(svcPath, url.Values{"name": {"Monitor 27\""}, "category": {"Hardware"}, "approval_policy": {"always"},
				"sla_first_response_minutes": {"30"}, "sla_resolution_minutes": {"480"}, "unit_label": {"screen"}})
			if p.Status != http.StatusSeeOther {
				t.Fatalf("edit = %d: %s", p.Status, p.Body)
			}
			edited, err := catalog.GetService(context.Background(), d, svc.ID)
			if err != nil || edited.Name != "Monitor 27\"" || edited.Active || edited.ApprovalPolicy != "always" || edited.SLAFirstResponseMinutes != 30 ||
				edited.UnitLabel != "screen" || edited.Code != "MON" {
				t.Fatalf("edited = %+v (%v)", edited, err)
			}
		})
		testkit.Step(t, "the admin and the others only read it, or not at all", func(t *testing.T) {
			// The admin sees the service read-only and cannot change its price.
			admin := f.SignIn("admin")
			p = admin.Get(svcPath)
			if p.Status != http.StatusOK || strings.Contains(p.Body, `action="`+svcPath+`/rates"`) || !strings.Contains(p.Body, "€310.50") {
				t.Fatalf("admin's view = %d", p.Status)
			}
			if p := admin.Post(svcPath+"/rates", url.Values{"price": {"1.00"}, "effective_from": {webtest.TodayPlus(9)}}); p.Status != http.StatusNotFound {
				t.Fatalf("admin adds a rate = %d", p.Status)
			}
			if p := admin.Post("/admin/services", form("1.00")); p.Status != http.StatusNotFound {
				t.Fatalf("admin creates a service = %d", p.Status)
			}
			for _, name := range []string{"mktmember", "itagent"} {
				if p := f.SignIn(name).Get(svcPath); p.Status != http.StatusNotFound || strings.Contains(p.Body, "310") {
					t.Fatalf("%s sees the admin service page: %d", name, p.Status)
				}
			}
			if n := len(admRates(t, f, svc.ID)); n != 2 {
				t.Fatalf("rates at the end = %d", n)
			}
		})
		testkit.Step(t, "in Finnish the price is typed and shown the Finnish way", func(t *testing.T) {
			// In Finnish the price is typed and shown the Finnish way.
			admFinnish(t, mgr)
			if p := mgr.Post(svcPath+"/rates", url.Values{"price": {"1234.56"}, "effective_from": {webtest.TodayPlus(10)}}); p.Status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.Body, "Kirjoita summa muodossa 1234,56") {
				t.Fatalf("Finnish rate with a point = %d", p.Status)
			}
			if p := mgr.Post(svcPath+"/rates", url.Values{"price": {"1234,56"}, "effective_from": {webtest.TodayPlus(10)}}); p.Status != http.StatusSeeOther {
				t.Fatalf("Finnish rate = %d: %s", p.Status, p.Body)
			}
			p = mgr.Get(svcPath)
			for _, want := range []string{"1\u00a0234,56\u00a0€", "Hintahistoria", "Voimassa alkaen", "289,00\u00a0€"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("Finnish service page lacks %q", want)
				}
			}
		})
	})
}
