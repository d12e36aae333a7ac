package web_test

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
	"github.com/tiski/tiski/units"
)

// admUnit reads a unit by code straight from the database.
func admUnit(t *testing.T, f *fixture, code string) *units.Unit {
	t.Helper()
	u, err := units.GetUnitByCode(context.Background(), f.d, code)
	if err != nil {
		t.Fatalf("unit %s: %v", code, err)
	}
	return u
}

func admOrgRoles(t *testing.T, f *fixture, name string) []string {
	t.Helper()
	roles, err := units.OrgRolesOf(context.Background(), f.d, f.users[name])
	if err != nil {
		t.Fatal(err)
	}
	return roles
}

// admConfirmProposals confirms every pending money-role proposal as the
// named finance user.
func admConfirmProposals(t *testing.T, f *fixture, name string) {
	t.Helper()
	ctx := context.Background()
	pending, err := units.PendingGrantProposals(ctx, f.d)
	if err != nil || len(pending) == 0 {
		t.Fatalf("pending proposals %v, %v", pending, err)
	}
	for _, p := range pending {
		if err := audit.InTx(ctx, f.d, func(tx bun.Tx) error {
			_, err := units.ConfirmGrant(ctx, tx, f.users[name], p.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// admFinnish switches the browser's user to Finnish through the portal.
func admFinnish(t *testing.T, b *browser) {
	t.Helper()
	if p := b.post("/language", url.Values{"back": {"/"}}); p.status != http.StatusSeeOther {
		t.Fatalf("language switch = %d", p.status)
	}
	b.get("/")
}

func TestPortalAdminUnits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin := f.signIn("admin")
		p := admin.get("/admin/units")
		if p.status != http.StatusOK || !strings.Contains(p.body, "IT-SD") || !strings.Contains(p.body, `class="depth-2"`) ||
			!strings.Contains(p.body, `href="/admin/users"`) || !strings.Contains(p.body, `href="/admin/services"`) {
			t.Fatalf("units page = %d", p.status)
		}
		// Create a unit under GROUP through the form.
		p = admin.post("/admin/units", url.Values{"code": {"ops"}, "name": {"Operations"}, "parent_id": {id(f.units["GROUP"])},
			"approval_threshold": {"1500.50"}, "budget_mode": {"hard"}, "chargeback_mode": {"showback"}})
		if p.status != http.StatusSeeOther || p.location != "/admin/units" {
			t.Fatalf("create unit = %d → %s: %s", p.status, p.location, p.body)
		}
		ops := admUnit(t, f, "OPS")
		if ops.ParentID == nil || *ops.ParentID != f.units["GROUP"] || ops.Name != "Operations" || ops.ApprovalThresholdMinor != 150050 ||
			ops.BudgetMode != "hard" || ops.ChargebackMode != "showback" {
			t.Fatalf("created unit = %+v", ops)
		}
		if p := admin.get("/admin/units"); !strings.Contains(p.body, `role="status"`) || !strings.Contains(p.body, "OPS") ||
			!strings.Contains(p.body, "€1,500.50") {
			t.Fatal("the units page lacks the flash message or the new unit")
		}
		before := f.count("units")
		// A duplicate code is refused beside the field, keeping what was typed.
		p = admin.post("/admin/units", url.Values{"code": {"IT"}, "name": {"Second <IT>"}, "parent_id": {id(f.units["GROUP"])},
			"approval_threshold": {"0"}, "budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, `id="code-error"`) || !strings.Contains(p.body, `value="Second &lt;IT&gt;"`) {
			t.Fatalf("duplicate code = %d", p.status)
		}
		// Money typed ambiguously is refused, not guessed.
		for _, bad := range []string{"12,345", "1e3", "-5", "1.234"} {
			p = admin.post("/admin/units", url.Values{"code": {"NEW"}, "name": {"New"}, "approval_threshold": {bad},
				"budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="approval_threshold-error"`) ||
				!strings.Contains(p.body, `value="`+bad+`"`) {
				t.Fatalf("threshold %q = %d", bad, p.status)
			}
		}
		if f.count("units") != before {
			t.Fatal("a refused unit was written")
		}
		// Moving GROUP below IT would make a cycle.
		group := "/admin/units/" + id(f.units["GROUP"])
		p = admin.post(group, url.Values{"code": {"GROUP"}, "name": {"Group renamed"}, "parent_id": {id(f.units["IT-SD"])},
			"approval_threshold": {"0"}, "budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="parent_id-error"`) || !strings.Contains(p.body, `value="Group renamed"`) {
			t.Fatalf("cycle = %d", p.status)
		}
		if g := admUnit(t, f, "GROUP"); g.ParentID != nil || g.Name != "GROUP unit" {
			t.Fatalf("GROUP changed by a refused edit: %+v", g)
		}
		// A proper edit saves.
		p = admin.post("/admin/units/"+id(f.units["IT-SD"]), url.Values{"code": {"IT-SD"}, "name": {"Service desk"}, "parent_id": {id(f.units["GROUP"])},
			"approval_threshold": {"99.90"}, "budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("edit = %d: %s", p.status, p.body)
		}
		if sd := admUnit(t, f, "IT-SD"); sd.Name != "Service desk" || *sd.ParentID != f.units["GROUP"] || sd.ApprovalThresholdMinor != 9990 {
			t.Fatalf("edited unit = %+v", sd)
		}
		// Archiving asks first without the script; a unit with children is refused.
		p = admin.post(group+"/archive", url.Values{})
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="confirm" value="yes"`) || admUnit(t, f, "GROUP").Archived {
			t.Fatalf("archive without confirmation = %d", p.status)
		}
		if p := admin.post(group+"/archive", url.Values{"confirm": {"yes"}}); p.status != http.StatusConflict || !strings.Contains(p.body, `role="alert"`) {
			t.Fatalf("archive a parent = %d", p.status)
		}
		if p := admin.post("/admin/units/"+id(ops.ID)+"/archive", url.Values{"confirm": {"yes"}}); p.status != http.StatusSeeOther {
			t.Fatalf("archive = %d", p.status)
		}
		if !admUnit(t, f, "OPS").Archived {
			t.Fatal("OPS is not archived")
		}
		if p := admin.get("/admin/units/" + id(ops.ID)); !strings.Contains(p.body, "/restore") {
			t.Fatal("an archived unit offers no restore")
		}
	})
}

func TestPortalAdminHiddenFromOthers(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	for _, name := range []string{"mktmember", "itagent", "nobody"} {
		b := f.signIn(name)
		if p := b.get("/"); strings.Contains(p.body, `href="/admin/units"`) {
			t.Errorf("%s sees the Admin link", name)
		}
		for _, path := range []string{"/admin/units", "/admin/users", "/admin/services", "/admin/units/" + id(f.units["IT"]), "/reports"} {
			p := b.get(path)
			if p.status != http.StatusNotFound || strings.Contains(p.body, "admin@example.org") || strings.Contains(p.body, "IT unit") {
				t.Errorf("%s GET %s = %d", name, path, p.status)
			}
		}
		before := f.count("units")
		if p := b.post("/admin/units", url.Values{"code": {"X"}, "name": {"X"}}); p.status != http.StatusNotFound {
			t.Errorf("%s POST /admin/units = %d", name, p.status)
		}
		if p := b.post("/admin/users/"+id(f.users["admin"])+"/roles", url.Values{"role": {"finance"}}); p.status != http.StatusNotFound {
			t.Errorf("%s grants = %d", name, p.status)
		}
		if f.count("units") != before || len(admOrgRoles(t, f, "admin")) != 1 {
			t.Errorf("%s changed something", name)
		}
	}
	// An IT manager manages IT's and IT-SD's members, not MKT's; no users page.
	mgr := f.signIn("itmgr")
	p := mgr.get("/admin/units")
	if p.status != http.StatusOK || !strings.Contains(p.body, "IT-SD") || strings.Contains(p.body, ">MKT<") ||
		strings.Contains(p.body, `action="/admin/units"`) || strings.Contains(p.body, `href="/admin/users"`) {
		t.Fatalf("IT manager's units page = %d", p.status)
	}
	if p := mgr.get("/admin/units/" + id(f.units["MKT"])); p.status != http.StatusNotFound {
		t.Fatalf("IT manager opens MKT = %d", p.status)
	}
	if p := mgr.get("/admin/users"); p.status != http.StatusNotFound {
		t.Fatalf("IT manager opens users = %d", p.status)
	}
	if p := mgr.post("/admin/units/"+id(f.units["IT"]), url.Values{"code": {"IT"}, "name": {"Mine now"}}); p.status != http.StatusNotFound ||
		admUnit(t, f, "IT").Name != "IT unit" {
		t.Fatalf("IT manager edits IT's settings = %d", p.status)
	}
}

func TestPortalAdminGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mgr := f.signIn("itmgr")
		it := "/admin/units/" + id(f.units["IT"])
		sd := "/admin/units/" + id(f.units["IT-SD"])
		nobody := f.signIn("nobody")
		if p := nobody.get("/queue"); strings.Contains(p.body, `href="/queue"`) {
			t.Fatal("nobody already has a queue")
		}
		// IT's manager makes nobody an agent of IT-SD (below IT) through the form.
		p := mgr.post(sd+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"agent"}})
		if p.status != http.StatusSeeOther || p.location != sd {
			t.Fatalf("grant agent = %d → %s: %s", p.status, p.location, p.body)
		}
		if p := mgr.get(sd); !strings.Contains(p.body, "nobody@example.org") || !strings.Contains(p.body, `role="status"`) {
			t.Fatal("the member list lacks the new agent or the flash")
		}
		if p := nobody.get("/"); !strings.Contains(p.body, `href="/queue"`) {
			t.Fatal("the granted agent role did not take effect")
		}
		// A manager cannot make managers; an unknown e-mail is a field error.
		if p := mgr.post(it+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"manager"}}); p.status != http.StatusForbidden ||
			!strings.Contains(p.body, `role="alert"`) || !strings.Contains(p.body, "Only an admin grants or revokes the manager role") {
			t.Fatalf("manager grants manager = %d", p.status)
		}
		if p := mgr.post(it+"/members", url.Values{"email": {"ghost@example.org"}, "role": {"member"}}); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.body, `value="ghost@example.org"`) || !strings.Contains(p.body, `class="field-error"`) {
			t.Fatalf("unknown e-mail = %d", p.status)
		}
		// Another unit's members are not IT's manager's to change.
		if p := mgr.post("/admin/units/"+id(f.units["MKT"])+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"member"}}); p.status != http.StatusNotFound {
			t.Fatalf("IT manager grants in MKT = %d", p.status)
		}
		var grants int
		if err := d.NewSelect().Table("unit_roles").ColumnExpr("COUNT(*)").Where("user_id = ?", f.users["nobody"]).Scan(context.Background(), &grants); err != nil || grants != 1 {
			t.Fatalf("nobody's grants = %d (%v)", grants, err)
		}
		// The admin makes nobody MKT's manager: then nobody opens MKT's page.
		admin := f.signIn("admin")
		mkt := "/admin/units/" + id(f.units["MKT"])
		if p := nobody.get(mkt); p.status != http.StatusNotFound {
			t.Fatalf("before the grant = %d", p.status)
		}
		if p := admin.post(mkt+"/members", url.Values{"email": {"nobody@example.org"}, "role": {"manager"}}); p.status != http.StatusSeeOther {
			t.Fatalf("admin grants manager = %d: %s", p.status, p.body)
		}
		if p := nobody.get(mkt); p.status != http.StatusOK || !strings.Contains(p.body, "mktmember@example.org") {
			t.Fatalf("after the grant = %d", p.status)
		}
		// Revoking through the form takes it away again.
		if p := admin.post(mkt+"/members/remove", url.Values{"user_id": {id(f.users["nobody"])}, "role": {"manager"}}); p.status != http.StatusSeeOther {
			t.Fatalf("revoke = %d", p.status)
		}
		if p := nobody.get(mkt); p.status != http.StatusNotFound {
			t.Fatalf("after the revoke = %d", p.status)
		}
	})
}

func TestPortalAdminUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		admin := f.signIn("admin")
		p := admin.get("/admin/users")
		if p.status != http.StatusOK || !strings.Contains(p.body, "mktmember@example.org") || !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("users page = %d", p.status)
		}
		// A bad e-mail comes back beside the field; nothing is written.
		before := f.count("users")
		p = admin.post("/admin/users", url.Values{"email": {"not an address"}, "name": {"Nella <N>"}, "locale": {"fi"}, "password": {testPassword}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) || !strings.Contains(p.body, `value="Nella &lt;N&gt;"`) ||
			strings.Contains(p.body, testPassword) {
			t.Fatalf("bad e-mail = %d", p.status)
		}
		if p := admin.post("/admin/users", url.Values{"email": {"nella@example.org"}, "name": {"Nella"}, "password": {"short"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("short password = %d", p.status)
		}
		if f.count("users") != before {
			t.Fatal("a refused user was written")
		}
		p = admin.post("/admin/users", url.Values{"email": {"nella@example.org"}, "name": {"Nella"}, "locale": {"fi"}, "password": {testPassword}})
		if p.status != http.StatusSeeOther || p.location != "/admin/users" {
			t.Fatalf("create user = %d: %s", p.status, p.body)
		}
		created, err := units.GetUserByEmail(context.Background(), d, "nella@example.org")
		if err != nil || created.Name != "Nella" || created.Locale != "fi" || created.Disabled {
			t.Fatalf("created user = %+v, %v", created, err)
		}
		f.users["nella"] = created.ID
		nella := f.signIn("nella")
		if p := nella.get("/"); p.status != http.StatusOK || !strings.Contains(p.body, `lang="fi"`) {
			t.Fatalf("the new user's home = %d", p.status)
		}
		userPath := "/admin/users/" + id(created.ID)
		// Disabling asks first without the script, then ends the user's session.
		if p := admin.post(userPath+"/disable", url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, `name="confirm" value="yes"`) {
			t.Fatalf("disable without confirmation = %d", p.status)
		}
		if p := nella.get("/"); p.status != http.StatusOK {
			t.Fatal("an unconfirmed disable ended the session")
		}
		if p := admin.post(userPath+"/disable", url.Values{"confirm": {"yes"}}); p.status != http.StatusSeeOther {
			t.Fatalf("disable = %d", p.status)
		}
		if p := nella.get("/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
			t.Fatalf("a disabled user's session still works: %d", p.status)
		}
		if p := admin.post(userPath+"/enable", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("enable = %d", p.status)
		}
		f.signIn("nella")
		// Nobody disables themselves.
		if p := admin.post("/admin/users/"+id(f.users["admin"])+"/disable", url.Values{"confirm": {"yes"}}); p.status != http.StatusConflict ||
			!strings.Contains(p.body, "You cannot disable your own account") {
			t.Fatalf("self-disable = %d", p.status)
		}
		// Org roles: finance granted takes effect; admin + finance is refused
		// with the domain's reason; the last admin keeps the role.
		nobody := f.signIn("nobody")
		if res := f.login("nobody").call("GET", "/api/v1/periods", nil); res.status != http.StatusForbidden {
			t.Fatalf("periods before the grant = %d", res.status)
		}
		if p := admin.post("/admin/users/"+id(f.users["nobody"])+"/roles", url.Values{"role": {"finance"}}); p.status != http.StatusSeeOther {
			t.Fatalf("grant finance = %d: %s", p.status, p.body)
		}
		admConfirmProposals(t, f, "finance")
		if res := f.login("nobody").call("GET", "/api/v1/periods", nil); res.status != http.StatusOK {
			t.Fatalf("periods after the grant = %d", res.status)
		}
		if p := nobody.get("/"); !strings.Contains(p.body, `href="/finance/periods"`) {
			t.Fatal("the finance grant does not show in the portal")
		}
		p = admin.post("/admin/users/"+id(f.users["finance"])+"/roles", url.Values{"role": {"admin"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, "segregation of duties") {
			t.Fatalf("admin for finance = %d", p.status)
		}
		if roles := admOrgRoles(t, f, "finance"); !slices.Equal(roles, []string{"finance"}) {
			t.Fatalf("finance holds %v", roles)
		}
		if p := admin.post("/admin/users/"+id(f.users["admin"])+"/roles/revoke", url.Values{"role": {"admin"}}); p.status != http.StatusConflict ||
			!slices.Equal(admOrgRoles(t, f, "admin"), []string{"admin"}) {
			t.Fatalf("revoke the last admin = %d", p.status)
		}
		if p := admin.post("/admin/users/"+id(f.users["nobody"])+"/roles/revoke", url.Values{"role": {"finance"}}); p.status != http.StatusSeeOther ||
			len(admOrgRoles(t, f, "nobody")) != 0 {
			t.Fatalf("revoke finance = %d", p.status)
		}
	})
}

func TestPortalAdminFinnish(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixture(t, d)
	admin := f.signIn("admin")
	admFinnish(t, admin)
	// Finnish money is typed with a decimal comma; a point is refused.
	p := admin.post("/admin/units", url.Values{"code": {"FI"}, "name": {"Suomi"}, "approval_threshold": {"1.234"},
		"budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Kirjoita summa muodossa 1234,56") {
		t.Fatalf("Finnish bad amount = %d", p.status)
	}
	p = admin.post("/admin/units", url.Values{"code": {"FI"}, "name": {"Suomi"}, "approval_threshold": {"1234,56"},
		"budget_mode": {"soft"}, "chargeback_mode": {"chargeback"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("Finnish create = %d: %s", p.status, p.body)
	}
	if u := admUnit(t, f, "FI"); u.ApprovalThresholdMinor != 123456 {
		t.Fatalf("threshold = %d", u.ApprovalThresholdMinor)
	}
	p = admin.get("/admin/units")
	for _, want := range []string{"Yksiköt ja kustannuspaikat", "Hyväksyntäraja", "1\u00a0234,56\u00a0€", "Yksikkö FI luotu.", "Käyttäjät"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("Finnish units page lacks %q", want)
		}
	}
	if p := admin.get("/admin/units/" + id(admUnit(t, f, "FI").ID)); !strings.Contains(p.body, `value="1234,56"`) {
		t.Error("the edit form does not show the threshold the Finnish way")
	}
	p = admin.post("/admin/users/"+id(f.users["finance"])+"/roles", url.Values{"role": {"admin"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "tehtävien eriyttäminen") {
		t.Fatalf("Finnish segregation message = %d", p.status)
	}
	if p := admin.get("/admin/users"); !strings.Contains(p.body, "Organisaatioroolit") || !strings.Contains(p.body, "Ensimmäinen salasana") {
		t.Error("Finnish users page lacks its texts")
	}
}

func admRates(t *testing.T, f *fixture, serviceID int64) []catalog.Rate {
	t.Helper()
	rates, err := catalog.Rates(context.Background(), f.d, serviceID)
	if err != nil {
		t.Fatal(err)
	}
	return rates
}

func TestPortalAdminServicesAndRates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mgr := f.signIn("itmgr")
		p := mgr.get("/admin/services")
		if p.status != http.StatusOK || !strings.Contains(p.body, `action="/admin/services"`) || !strings.Contains(p.body, ">IT IT unit<") ||
			strings.Contains(p.body, ">MKT MKT unit<") {
			t.Fatalf("services page = %d", p.status)
		}
		form := func(price string) url.Values {
			return url.Values{"provider_unit_id": {id(f.units["IT"])}, "code": {"MON"}, "name": {"Monitor <27>"}, "category": {"Hardware"},
				"pricing_model": {"per_unit"}, "unit_label": {"monitor"}, "price": {price}, "approval_policy": {"never"},
				"sla_first_response_minutes": {"60"}, "sla_resolution_minutes": {"480"}}
		}
		// Ambiguous money is refused beside the price, keeping the rest.
		for _, bad := range []string{"12,345", "1e3", "", "-1"} {
			p = mgr.post("/admin/services", form(bad))
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="price-error"`) ||
				!strings.Contains(p.body, `value="Monitor &lt;27&gt;"`) || !strings.Contains(p.body, `value="`+bad+`"`) {
				t.Fatalf("price %q = %d", bad, p.status)
			}
		}
		bad := form("289.00")
		bad.Set("sla_resolution_minutes", "30")
		if p := mgr.post("/admin/services", bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "resolution_minutes cannot be shorter") {
			t.Fatalf("SLA shorter than first response = %d", p.status)
		}
		if f.count("services") != 0 || f.count("service_rates") != 0 {
			t.Fatal("a refused service was written")
		}
		p = mgr.post("/admin/services", form("289.00"))
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/admin/services/") {
			t.Fatalf("create service = %d: %s", p.status, p.body)
		}
		svcPath := p.location
		list, err := catalog.ListServices(context.Background(), d, catalog.ServiceFilter{IncludeInactive: true, Limit: 10})
		if err != nil || len(list) != 1 || list[0].Code != "MON" || list[0].ProviderUnitID != f.units["IT"] || list[0].PricingModel != "per_unit" ||
			list[0].SLAResolutionMinutes != 480 {
			t.Fatalf("created services = %+v (%v)", list, err)
		}
		svc := list[0]
		if rates := admRates(t, f, svc.ID); len(rates) != 1 || rates[0].PriceMinor != 28900 || rates[0].EffectiveFrom != todayPlus(0) {
			t.Fatalf("first rate = %+v", rates)
		}
		// A later price with effective_from; the history shows both.
		from := todayPlus(3)
		p = mgr.post(svcPath+"/rates", url.Values{"price": {"310.50"}, "effective_from": {from}})
		if p.status != http.StatusSeeOther || p.location != svcPath {
			t.Fatalf("add rate = %d: %s", p.status, p.body)
		}
		p = mgr.get(svcPath)
		if !strings.Contains(p.body, `datetime="`+from+`"`) || !strings.Contains(p.body, "€310.50") || !strings.Contains(p.body, "€289.00") ||
			!strings.Contains(p.body, `role="status"`) {
			t.Fatal("the history lacks the new rate")
		}
		for _, bad := range []string{"12,345", "1e3"} {
			p = mgr.post(svcPath+"/rates", url.Values{"price": {bad}, "effective_from": {todayPlus(5)}})
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="price-error"`) || !strings.Contains(p.body, `value="`+bad+`"`) ||
				!strings.Contains(p.body, `value="`+todayPlus(5)+`"`) {
				t.Fatalf("rate %q = %d", bad, p.status)
			}
		}
		if p := mgr.post(svcPath+"/rates", url.Values{"price": {"1.00"}, "effective_from": {todayPlus(-1)}}); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.body, `id="effective_from-error"`) {
			t.Fatalf("rate in the past = %d", p.status)
		}
		if p := mgr.post(svcPath+"/rates", url.Values{"price": {"1.00"}, "effective_from": {from}}); p.status != http.StatusConflict ||
			!strings.Contains(p.body, `id="effective_from-error"`) {
			t.Fatalf("second rate on a date = %d", p.status)
		}
		if n := len(admRates(t, f, svc.ID)); n != 2 {
			t.Fatalf("rates after refusals = %d", n)
		}
		// Edit: rename and deactivate (the box unticked).
		p = mgr.post(svcPath, url.Values{"name": {"Monitor 27\""}, "category": {"Hardware"}, "approval_policy": {"always"},
			"sla_first_response_minutes": {"abc"}, "sla_resolution_minutes": {"480"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `value="abc"`) || !strings.Contains(p.body, `value="Monitor 27&#34;"`) {
			t.Fatalf("bad SLA edit = %d", p.status)
		}
		p = mgr.post(svcPath, url.Values{"name": {"Monitor 27\""}, "category": {"Hardware"}, "approval_policy": {"always"},
			"sla_first_response_minutes": {"30"}, "sla_resolution_minutes": {"480"}, "unit_label": {"screen"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("edit = %d: %s", p.status, p.body)
		}
		edited, err := catalog.GetService(context.Background(), d, svc.ID)
		if err != nil || edited.Name != "Monitor 27\"" || edited.Active || edited.ApprovalPolicy != "always" || edited.SLAFirstResponseMinutes != 30 ||
			edited.UnitLabel != "screen" || edited.Code != "MON" {
			t.Fatalf("edited = %+v (%v)", edited, err)
		}
		// The admin sees the service read-only and cannot change its price.
		admin := f.signIn("admin")
		p = admin.get(svcPath)
		if p.status != http.StatusOK || strings.Contains(p.body, `action="`+svcPath+`/rates"`) || !strings.Contains(p.body, "€310.50") {
			t.Fatalf("admin's view = %d", p.status)
		}
		if p := admin.post(svcPath+"/rates", url.Values{"price": {"1.00"}, "effective_from": {todayPlus(9)}}); p.status != http.StatusNotFound {
			t.Fatalf("admin adds a rate = %d", p.status)
		}
		if p := admin.post("/admin/services", form("1.00")); p.status != http.StatusNotFound {
			t.Fatalf("admin creates a service = %d", p.status)
		}
		for _, name := range []string{"mktmember", "itagent"} {
			if p := f.signIn(name).get(svcPath); p.status != http.StatusNotFound || strings.Contains(p.body, "310") {
				t.Fatalf("%s sees the admin service page: %d", name, p.status)
			}
		}
		if n := len(admRates(t, f, svc.ID)); n != 2 {
			t.Fatalf("rates at the end = %d", n)
		}
		// In Finnish the price is typed and shown the Finnish way.
		admFinnish(t, mgr)
		if p := mgr.post(svcPath+"/rates", url.Values{"price": {"1234.56"}, "effective_from": {todayPlus(10)}}); p.status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.body, "Kirjoita summa muodossa 1234,56") {
			t.Fatalf("Finnish rate with a point = %d", p.status)
		}
		if p := mgr.post(svcPath+"/rates", url.Values{"price": {"1234,56"}, "effective_from": {todayPlus(10)}}); p.status != http.StatusSeeOther {
			t.Fatalf("Finnish rate = %d: %s", p.status, p.body)
		}
		p = mgr.get(svcPath)
		for _, want := range []string{"1\u00a0234,56\u00a0€", "Hintahistoria", "Voimassa alkaen", "289,00\u00a0€"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("Finnish service page lacks %q", want)
			}
		}
	})
}
