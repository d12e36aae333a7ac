package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/units"
)

// moneyDesk is the charge desk with one fulfilled MKT order of €1,234.56
// (charge mktCharge) and one IT-SD order (charge sdCharge), both in month.
type moneyDesk struct {
	*chargeDesk
	month               string
	mktCharge, sdCharge string
	mktReq              string
}

func newMoneyDesk(t *testing.T, d *db.DB) *moneyDesk {
	t.Helper()
	k := &moneyDesk{chargeDesk: newChargeDesk(t, d), month: billing.MonthOf(time.Now(), chargeLocation(t))}
	k.service("DOCK", "fixed", "never", 123456)
	k.mktReq = k.order("mktmember", "MKT", "DOCK", "Docking station").str("id")
	k.fulfil(k.mktReq)
	k.mktCharge = k.chargesOf(k.mktReq)[0]["id"].(string)
	sd := k.order("itsdmember", "IT-SD", "DOCK", "Service desk dock").str("id")
	k.fulfil(sd)
	k.sdCharge = k.chargesOf(sd)[0]["id"].(string)
	return k
}

func (k *moneyDesk) raiseByAPI(reason string) string {
	k.t.Helper()
	res := k.as["mktmgr"].call("POST", "/api/v1/charges/"+k.mktCharge+"/disputes", map[string]any{"reason": reason})
	if res.status != http.StatusCreated {
		k.t.Fatalf("raise: %d %s", res.status, res.body)
	}
	return res.str("id")
}

func (k *moneyDesk) periodStatus(month string) string {
	k.t.Helper()
	p, err := billing.GetPeriod(context.Background(), k.d, month)
	if err != nil {
		k.t.Fatal(err)
	}
	return p.Status
}

func mustStatus(t *testing.T, what string, p page, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("%s = %d, want %d\n%s", what, p.status, want, p.body)
	}
}

func TestPortalMoneyChargesAndDisputes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		mgr := k.signIn("mktmgr")
		p := mgr.get("/charges")
		mustStatus(t, "charges as MKT's manager", p, http.StatusOK)
		mktNumber := "REQ-" + strings.Repeat("0", 6-len(k.mktReq)) + k.mktReq
		if !strings.Contains(p.body, `href="/requests/`+k.mktReq+`"`) || !strings.Contains(p.body, mktNumber) ||
			!strings.Contains(p.body, "€1,234.56") || !strings.Contains(p.body, `id="dispute-form-`+k.mktCharge+`"`) {
			t.Fatal("MKT's manager does not see MKT's charge with its dispute form")
		}
		if strings.Contains(p.body, `id="charge-`+k.sdCharge+`"`) {
			t.Fatal("MKT's manager sees IT-SD's charge")
		}
		for _, href := range []string{"/api/v1/units/" + id(k.units["MKT"]) + "/statements/" + k.month + ".csv",
			"/api/v1/units/" + id(k.units["MKT"]) + "/statements/" + k.month + ".xlsx"} {
			if !strings.Contains(p.body, `href="`+href+`"`) {
				t.Fatalf("no statement link %s", href)
			}
			if res := mgr.get(href); res.status != http.StatusOK || (strings.HasSuffix(href, ".csv") && !strings.Contains(res.body, mktNumber)) {
				t.Fatalf("statement download %s = %d", href, res.status)
			}
		}
		if p := mgr.get("/charges?period=" + k.month + "&status=posted"); p.status != http.StatusOK || !strings.Contains(p.body, `id="charge-`+k.mktCharge+`"`) {
			t.Fatalf("filtered charges = %d", p.status)
		}
		if p := mgr.get("/charges?status=credited"); strings.Contains(p.body, `id="charge-`+k.mktCharge+`"`) {
			t.Fatal("the status filter lets a posted charge through")
		}
		other := k.service("CABLE", "per_unit", "never", 2500)
		if p := mgr.get("/charges?service_id=" + k.svc["DOCK"]); !strings.Contains(p.body, `id="charge-`+k.mktCharge+`"`) {
			t.Fatal("the service filter hides the dock's charge")
		}
		if p := mgr.get("/charges?service_id=" + other); p.status != http.StatusOK || strings.Contains(p.body, `id="charge-`+k.mktCharge+`"`) {
			t.Fatal("the service filter lets another service's charge through")
		}
		if p := mgr.get("/charges?period=11-2026"); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) ||
			!strings.Contains(p.body, `value="11-2026"`) {
			t.Fatalf("bad period filter = %d", p.status)
		}
		// Another unit's charge is a 404 page, to look at or to dispute.
		mustStatus(t, "IT-SD's charge for MKT's manager", mgr.get("/charges/"+k.sdCharge), http.StatusNotFound)
		mustStatus(t, "disputing IT-SD's charge", mgr.post("/charges/"+k.sdCharge+"/dispute", url.Values{"reason": {"x"}, "confirm": {"yes"}}), http.StatusNotFound)
		mustStatus(t, "MKT's charge for HR's manager", k.signIn("hrmgr").get("/charges/"+k.mktCharge), http.StatusNotFound)
		// The provider's manager sees it but may not dispute it.
		it := k.signIn("itmgr")
		if p := it.get("/charges"); !strings.Contains(p.body, `id="charge-`+k.mktCharge+`"`) || strings.Contains(p.body, `id="dispute-form-`+k.mktCharge+`"`) {
			t.Fatal("IT's manager: charge missing or offered a dispute form")
		}
		if res := it.get("/api/v1/units/" + id(k.units["IT"]) + "/recovery/" + k.month + ".csv"); res.status != http.StatusOK || !strings.Contains(res.body, mktNumber) {
			t.Fatalf("IT's recovery download = %d", res.status)
		}
		// The script's in-place filter gets the content block only.
		req, _ := http.NewRequest("GET", k.srv.URL+"/charges?status=posted", nil)
		req.Header.Set("X-Tiski-Partial", "1")
		if p := it.do(req); p.status != http.StatusOK || strings.Contains(p.body, "<html") || !strings.Contains(p.body, `id="charges"`) {
			t.Fatalf("partial charges = %d", p.status)
		}
		mustStatus(t, "IT disputing MKT's charge", it.post("/charges/"+k.mktCharge+"/dispute", url.Values{"reason": {"x"}, "confirm": {"yes"}}), http.StatusForbidden)
		// Admin is no finance: no money pages.
		admin := k.signIn("admin")
		for _, path := range []string{"/charges", "/charges/" + k.mktCharge, "/budgets", "/finance/periods", "/finance/disputes", "/finance/adjustments"} {
			if p := admin.get(path); p.status != http.StatusNotFound || strings.Contains(p.body, "1,234.56") {
				t.Fatalf("admin %s = %d", path, p.status)
			}
		}

		path := "/charges/" + k.mktCharge + "/dispute"
		// Without the script's confirmation the server asks first.
		p = mgr.post(path, url.Values{"reason": {"second-hand <b>dock</b>"}})
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="confirm" value="yes"`) || !strings.Contains(p.body, "second-hand &lt;b&gt;dock&lt;/b&gt;") || k.count("disputes") != 0 {
			t.Fatalf("unconfirmed dispute = %d, disputes %d", p.status, k.count("disputes"))
		}
		p = mgr.post(path, url.Values{"reason": {"   "}, "confirm": {"yes"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) || k.count("disputes") != 0 {
			t.Fatalf("empty reason = %d, disputes %d", p.status, k.count("disputes"))
		}
		p = mgr.post(path, url.Values{"reason": {"the dock was second-hand"}, "confirm": {"yes"}, "back": {"/charges"}})
		if p.status != http.StatusSeeOther || p.location != "/charges" {
			t.Fatalf("dispute = %d → %s", p.status, p.location)
		}
		if n := k.count("disputes"); n != 1 {
			t.Fatalf("disputes after the form = %d", n)
		}
		if p := mgr.get("/charges"); !strings.Contains(p.body, `role="status"`) || strings.Contains(p.body, `id="dispute-form-`+k.mktCharge+`"`) ||
			!strings.Contains(p.body, "Dispute open") {
			t.Fatal("after disputing: no flash, or the form is still offered")
		}
		p = mgr.post(path, url.Values{"reason": {"again"}, "confirm": {"yes"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, "already been disputed") || k.count("disputes") != 1 {
			t.Fatalf("second dispute = %d, disputes %d", p.status, k.count("disputes"))
		}

		// Finance settles. A credit that does not parse stays beside its field.
		fin := k.signIn("finance")
		p = fin.get("/finance/disputes")
		mustStatus(t, "dispute queue", p, http.StatusOK)
		m := regexp.MustCompile(`id="accept-form-(\d+)"`).FindStringSubmatch(p.body)
		if m == nil || !strings.Contains(p.body, "the dock was second-hand") || !strings.Contains(p.body, `name="credit"`) {
			t.Fatal("the open dispute is not in the queue with its accept form")
		}
		did := m[1]
		settle := "/finance/disputes/" + did
		entries := k.count("journal_entries")
		for _, bad := range []string{"abc", "1.234,56", "12,5", "1e3", "-5.00", "0", "1,23.45", "5.001"} {
			p = fin.post(settle, url.Values{"action": {"accept"}, "credit": {bad}, "note": {"kept note"}, "confirm": {"yes"}})
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) ||
				!strings.Contains(p.body, `value="`+bad+`"`) || !strings.Contains(p.body, "kept note") {
				t.Fatalf("credit %q = %d", bad, p.status)
			}
		}
		p = fin.post(settle, url.Values{"action": {"accept"}, "credit": {"2,000.00"}, "confirm": {"yes"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "at most the charge") {
			t.Fatalf("credit above the charge = %d", p.status)
		}
		if k.count("journal_entries") != entries || k.countWhere("disputes", "status = 'open'") != 1 {
			t.Fatal("a refused credit posted something")
		}
		// The auditor reads the queue but has no forms and may not settle.
		aud := k.signIn("auditor")
		if p := aud.get("/finance/disputes"); p.status != http.StatusOK || strings.Contains(p.body, "accept-form-") || !strings.Contains(p.body, "second-hand") {
			t.Fatalf("auditor's queue = %d", p.status)
		}
		mustStatus(t, "auditor accepting", aud.post(settle, url.Values{"action": {"accept"}, "credit": {"1.00"}, "confirm": {"yes"}}), http.StatusForbidden)
		// The consumer's manager sees the dispute, so is forbidden, as over the API.
		mustStatus(t, "manager accepting", mgr.post(settle, url.Values{"action": {"accept"}, "credit": {"1.00"}, "confirm": {"yes"}}), http.StatusForbidden)

		before := k.balance("MKT")
		p = fin.post(settle, url.Values{"action": {"accept"}, "credit": {"1,000.50"}, "note": {"partly fair"}, "confirm": {"yes"}})
		if p.status != http.StatusSeeOther || p.location != "/finance/disputes" {
			t.Fatalf("accept = %d → %s\n%s", p.status, p.location, p.body)
		}
		if k.count("journal_entries") != entries+1 || k.countWhere("disputes", "status = 'accepted' AND credit_minor = 100050") != 1 ||
			k.countWhere("charges", "id = ? AND status = 'credited'", k.mktCharge) != 1 {
			t.Fatal("the partial credit was not posted as one entry on the charge")
		}
		if got := before - k.balance("MKT"); got != 100050 {
			t.Fatalf("MKT's balance moved by %d, want the credit 100050", got)
		}
		k.mustVerify()
		if p := fin.get("/finance/disputes"); !strings.Contains(p.body, "€1,000.50") || !strings.Contains(p.body, `role="status"`) {
			t.Fatal("the settled dispute or the flash message is missing")
		}
		p = fin.post(settle, url.Values{"action": {"accept"}, "credit": {"1.00"}, "confirm": {"yes"}})
		if p.status != http.StatusConflict || !strings.Contains(p.body, `class="problem"`) {
			t.Fatalf("accepting twice = %d", p.status)
		}
		if k.count("journal_entries") != entries+1 {
			t.Fatal("a second accept posted")
		}
	})
}

func TestPortalMoneyFinnishAmounts(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	k := newMoneyDesk(t, d)
	mgr := k.signIn("mktmgr")
	mustStatus(t, "switch to Finnish", mgr.post("/language", url.Values{"back": {"/charges"}}), http.StatusSeeOther)
	p := mgr.get("/charges")
	if !strings.Contains(p.body, "1\u00a0234,56\u00a0€") || !strings.Contains(p.body, "Veloitukset") || !strings.Contains(p.body, "Kiistä") {
		t.Fatalf("Finnish charges page lacks 1 234,56 € or Finnish texts")
	}
	did := k.raiseByAPI("liian kallis")
	fin := k.signIn("finance")
	mustStatus(t, "switch to Finnish", fin.post("/language", url.Values{"back": {"/finance/disputes"}}), http.StatusSeeOther)
	// In Finnish a point is no decimal separator.
	p = fin.post("/finance/disputes/"+did, url.Values{"action": {"accept"}, "credit": {"1.50"}, "confirm": {"yes"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "1\u00a0234,56\u00a0€") {
		t.Fatalf("Finnish credit 1.50 = %d", p.status)
	}
	p = fin.post("/finance/disputes/"+did, url.Values{"action": {"accept"}, "credit": {"1 000,5 €"}, "confirm": {"yes"}})
	mustStatus(t, "Finnish credit", p, http.StatusSeeOther)
	if k.countWhere("disputes", "status = 'accepted' AND credit_minor = 100050") != 1 {
		t.Fatal("the Finnish credit 1 000,5 € was not 1000.50")
	}
	if p := fin.get("/finance/disputes"); !strings.Contains(p.body, "Kiista hyväksytty; hyvitetty 1\u00a0000,50\u00a0€.") {
		t.Fatal("no Finnish flash with the credit")
	}
}

func TestPortalMoneyPeriodClose(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		did := k.raiseByAPI("not what we ordered")
		fin := k.signIn("finance")
		p := fin.get("/finance/periods")
		mustStatus(t, "periods", p, http.StatusOK)
		for _, want := range []string{`id="review-` + k.month + `"`, `id="close-` + k.month + `"`, `href="/api/v1/exports/journal/` + k.month + `.csv"`,
			`href="/charges?period=` + k.month + `#statements"`} {
			if !strings.Contains(p.body, want) {
				t.Fatalf("periods page lacks %s", want)
			}
		}
		if res := fin.get("/api/v1/exports/journal/" + k.month + ".csv"); res.status != http.StatusOK {
			t.Fatalf("journal download = %d", res.status)
		}
		path := "/finance/periods/" + k.month
		p = fin.post(path, url.Values{"action": {"close"}})
		if p.status != http.StatusOK || !strings.Contains(p.body, `name="confirm" value="yes"`) || k.periodStatus(k.month) != "open" {
			t.Fatalf("unconfirmed close = %d", p.status)
		}
		// The month has not ended: closing it is refused and says so.
		p = fin.post(path, url.Values{"action": {"close"}, "confirm": {"yes"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, k.month+" has not ended") {
			t.Fatalf("close of the current month = %d\n%s", p.status, p.body)
		}
		if k.periodStatus(k.month) != "open" {
			t.Fatal("the current month closed")
		}
		aud := k.signIn("auditor")
		if p := aud.get("/finance/periods"); p.status != http.StatusOK || strings.Contains(p.body, `id="close-`) || !strings.Contains(p.body, "journal-"+k.month) {
			t.Fatalf("auditor's periods = %d", p.status)
		}
		mustStatus(t, "auditor closing", aud.post(path, url.Values{"action": {"close"}, "confirm": {"yes"}}), http.StatusForbidden)
		mustStatus(t, "manager closing", k.signIn("mktmgr").post(path, url.Values{"action": {"close"}, "confirm": {"yes"}}), http.StatusNotFound)

		// Rejecting settles it; then the month closes.
		p = fin.post("/finance/disputes/"+did, url.Values{"action": {"reject"}, "note": {"as ordered"}, "confirm": {"yes"}})
		mustStatus(t, "reject", p, http.StatusSeeOther)
		if k.countWhere("disputes", "status = 'rejected' AND note = 'as ordered'") != 1 || k.countWhere("charges", "id = ? AND status = 'posted'", k.mktCharge) != 1 {
			t.Fatal("the rejection did not settle the dispute")
		}
		closeOnceEnded(t, d, k.month)
		if p := fin.get("/finance/periods"); strings.Contains(p.body, `id="close-`+k.month+`"`) {
			t.Fatal("close still offered for a closed month")
		}
		// A closed month's charges are no longer disputable.
		if p := k.signIn("mktmgr").get("/charges"); strings.Contains(p.body, "dispute-form-") {
			t.Fatal("a closed month's charge offers a dispute form")
		}
		k.mustVerify()
	})
}

func TestPortalMoneyBudgets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		fin := k.signIn("finance")
		path := "/budgets/" + id(k.units["MKT"]) + "/" + k.month
		p := fin.post(path, url.Values{"amount": {"2 000"}, "warn_pct": {"80"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) || !strings.Contains(p.body, `value="2 000"`) || k.count("budgets") != 0 {
			t.Fatalf("bad budget amount = %d, budgets %d", p.status, k.count("budgets"))
		}
		mustStatus(t, "bad warn line", fin.post(path, url.Values{"amount": {"2000"}, "warn_pct": {"150"}}), http.StatusUnprocessableEntity)
		p = fin.post(path, url.Values{"amount": {"2,000.00"}, "warn_pct": {"50"}, "hard": {"on"}})
		mustStatus(t, "set budget", p, http.StatusSeeOther)
		if k.countWhere("budgets", "unit_id = ? AND month = ? AND amount_minor = 200000 AND warn_pct = 50 AND hard = ?", k.units["MKT"], k.month, true) != 1 {
			t.Fatal("the budget was not stored as typed")
		}
		mgr := k.signIn("mktmgr")
		p = mgr.get("/budgets")
		mustStatus(t, "budgets as MKT's manager", p, http.StatusOK)
		// Budget €2,000.00 is the longest bar (360); spend €1,234.56 is 222.
		if !strings.Contains(p.body, `<svg class="chart" role="img"`) || !strings.Contains(p.body, "<title id=\"budget-chart-"+id(k.units["MKT"])+"-title\">") ||
			!strings.Contains(p.body, `class="bar bar-budget" x="170" y="10" width="360"`) || !strings.Contains(p.body, `class="bar bar-posted" x="170" y="42" width="222"`) {
			t.Fatalf("budget chart bars wrong:\n%s", p.body)
		}
		if !strings.Contains(p.body, "€2,000.00") || !strings.Contains(p.body, "€1,234.56") || !strings.Contains(p.body, "past the 50% warning line") {
			t.Fatal("the figures table or warning is missing")
		}
		if strings.Contains(p.body, "budget-form-") {
			t.Fatal("a manager is offered the budget form")
		}
		mustStatus(t, "manager setting a budget", mgr.post(path, url.Values{"amount": {"9000"}, "warn_pct": {"80"}}), http.StatusForbidden)
		if p := k.signIn("hrmgr").get("/budgets"); p.status != http.StatusOK || strings.Contains(p.body, "MKT unit") {
			t.Fatalf("HR's manager sees MKT's budget (%d)", p.status)
		}
		mustStatus(t, "HR setting MKT's budget", k.signIn("hrmgr").post(path, url.Values{"amount": {"1"}, "warn_pct": {"80"}}), http.StatusNotFound)
		if p := fin.get("/budgets?month=" + k.month); !strings.Contains(p.body, `id="budget-form-`+id(k.units["MKT"])+`"`) || !strings.Contains(p.body, `value="2000.00"`) {
			t.Fatal("finance's form does not show the stored budget")
		}
	})
}

func TestPortalMoneyAdjustmentsMakerChecker(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newChargeDesk(t, d)
		ctx := context.Background()
		hash, err := auth.HashPassword(testPassword, cheapHash)
		if err != nil {
			t.Fatal(err)
		}
		err = d.InTx(ctx, func(tx bun.Tx) error {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: "finance2@example.org", Name: "finance2", PasswordHash: hash})
			if err != nil {
				return err
			}
			_, err = units.GrantOrgRole(ctx, tx, 0, u.ID, "finance")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		month := billing.MonthOf(time.Now(), chargeLocation(t))
		maker := k.signIn("finance")
		form := url.Values{"debit_unit_id": {id(k.units["MKT"])}, "credit_unit_id": {id(k.units["IT"])}, "amount": {"oops"},
			"month": {month}, "reason": {"shared licence"}, "confirm": {"yes"}}
		p := maker.post("/finance/adjustments", form)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `value="oops"`) || k.count("adjustments") != 0 {
			t.Fatalf("bad adjustment = %d", p.status)
		}
		form.Set("amount", "250.00")
		mustStatus(t, "make adjustment", maker.post("/finance/adjustments", form), http.StatusSeeOther)
		if k.countWhere("adjustments", "status = 'pending' AND amount_minor = 25000") != 1 {
			t.Fatal("the adjustment does not wait for approval")
		}
		var adj string
		if err := d.NewRaw("SELECT CAST(id AS TEXT) FROM adjustments").Scan(ctx, &adj); err != nil {
			t.Fatal(err)
		}
		p = maker.get("/finance/adjustments")
		if strings.Contains(p.body, `id="approve-`+adj+`"`) || !strings.Contains(p.body, "shared licence") {
			t.Fatal("the maker is offered to approve their own adjustment")
		}
		p = maker.post("/finance/adjustments/"+adj, url.Values{"action": {"approve"}, "confirm": {"yes"}})
		if p.status != http.StatusForbidden || k.countWhere("adjustments", "status = 'pending'") != 1 {
			t.Fatalf("self approval = %d", p.status)
		}
		aud := k.signIn("auditor")
		if p := aud.get("/finance/adjustments"); p.status != http.StatusOK || strings.Contains(p.body, "adjustment-form") || strings.Contains(p.body, "approve-") {
			t.Fatalf("auditor's adjustments = %d", p.status)
		}
		before := k.balance("MKT")
		checker := k.signIn("finance2")
		if p := checker.get("/finance/adjustments"); !strings.Contains(p.body, `id="approve-`+adj+`"`) {
			t.Fatal("the second finance user is not offered the approval")
		}
		mustStatus(t, "approve", checker.post("/finance/adjustments/"+adj, url.Values{"action": {"approve"}, "confirm": {"yes"}}), http.StatusSeeOther)
		if k.countWhere("adjustments", "status = 'posted'") != 1 || k.balance("MKT")-before != 25000 {
			t.Fatalf("approval did not post: MKT moved %d", k.balance("MKT")-before)
		}
		k.mustVerify()
	})
}
