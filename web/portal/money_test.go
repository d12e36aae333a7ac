package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web/webtest"
)

// moneyDesk is the charge desk with one fulfilled MKT order of €1,234.56
// (charge mktCharge) and one IT-SD order (charge sdCharge), both in month.
type moneyDesk struct {
	*webtest.ChargeDesk
	month               string
	mktCharge, sdCharge string
	mktReq              string
}

func newMoneyDesk(t *testing.T, d *db.DB) *moneyDesk {
	t.Helper()
	k := &moneyDesk{ChargeDesk: webtest.NewChargeDesk(t, d), month: billing.MonthOf(time.Now(), webtest.ChargeLocation(t))}
	k.Service("DOCK", "fixed", "never", 123456)
	k.mktReq = k.Order("mktmember", "MKT", "DOCK", "Docking station").Str("id")
	k.Fulfil(k.mktReq)
	k.mktCharge = k.ChargesOf(k.mktReq)[0]["id"].(string)
	sd := k.Order("itsdmember", "IT-SD", "DOCK", "Service desk dock").Str("id")
	k.Fulfil(sd)
	k.sdCharge = k.ChargesOf(sd)[0]["id"].(string)
	return k
}

func (k *moneyDesk) raiseByAPI(reason string) string {
	k.T.Helper()
	res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+k.mktCharge+"/disputes", map[string]any{"reason": reason})
	if res.Status != http.StatusCreated {
		k.T.Fatalf("raise: %d %s", res.Status, res.Body)
	}
	return res.Str("id")
}

func (k *moneyDesk) periodStatus(month string) string {
	k.T.Helper()
	p, err := billing.GetPeriod(context.Background(), k.DB, month)
	if err != nil {
		k.T.Fatal(err)
	}
	return p.Status
}

func mustStatus(t *testing.T, what string, p webtest.Page, want int) {
	t.Helper()
	if p.Status != want {
		t.Fatalf("%s = %d, want %d\n%s", what, p.Status, want, p.Body)
	}
}

func TestPortalMoneyChargesAndDisputes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		mgr := k.SignIn("mktmgr")
		var (
			fin     *webtest.Browser
			settle  string
			entries int
		)
		mktNumber := "REQ-" + strings.Repeat("0", 6-len(k.mktReq)) + k.mktReq
		testkit.Step(t, "MKT's manager reads and filters MKT's charges", func(t *testing.T) {
			p := mgr.Get("/charges")
			mustStatus(t, "charges as MKT's manager", p, http.StatusOK)
			if !strings.Contains(p.Body, `href="/requests/`+k.mktReq+`"`) || !strings.Contains(p.Body, mktNumber) ||
				!strings.Contains(p.Body, "€1,234.56") || !strings.Contains(p.Body, `id="dispute-form-`+k.mktCharge+`"`) {
				t.Fatal("MKT's manager does not see MKT's charge with its dispute form")
			}
			if strings.Contains(p.Body, `id="charge-`+k.sdCharge+`"`) {
				t.Fatal("MKT's manager sees IT-SD's charge")
			}
			for _, href := range []string{"/api/v1/units/" + webtest.ID(k.Units["MKT"]) + "/statements/" + k.month + ".csv",
				"/api/v1/units/" + webtest.ID(k.Units["MKT"]) + "/statements/" + k.month + ".xlsx"} {
				if !strings.Contains(p.Body, `href="`+href+`"`) {
					t.Fatalf("no statement link %s", href)
				}
				if res := mgr.Get(href); res.Status != http.StatusOK || (strings.HasSuffix(href, ".csv") && !strings.Contains(res.Body, mktNumber)) {
					t.Fatalf("statement download %s = %d", href, res.Status)
				}
			}
			if p := mgr.Get("/charges?period=" + k.month + "&status=posted"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="charge-`+k.mktCharge+`"`) {
				t.Fatalf("filtered charges = %d", p.Status)
			}
			if p := mgr.Get("/charges?status=credited"); strings.Contains(p.Body, `id="charge-`+k.mktCharge+`"`) {
				t.Fatal("the status filter lets a posted charge through")
			}
			other := k.Service("CABLE", "per_unit", "never", 2500)
			if p := mgr.Get("/charges?service_id=" + k.Svc["DOCK"]); !strings.Contains(p.Body, `id="charge-`+k.mktCharge+`"`) {
				t.Fatal("the service filter hides the dock's charge")
			}
			if p := mgr.Get("/charges?service_id=" + other); p.Status != http.StatusOK || strings.Contains(p.Body, `id="charge-`+k.mktCharge+`"`) {
				t.Fatal("the service filter lets another service's charge through")
			}
			if p := mgr.Get("/charges?period=11-2026"); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) ||
				!strings.Contains(p.Body, `value="11-2026"`) {
				t.Fatalf("bad period filter = %d", p.Status)
			}
		})
		testkit.Step(t, "nobody else reads or disputes them", func(t *testing.T) {
			// Another unit's charge is a 404 page, to look at or to dispute.
			mustStatus(t, "IT-SD's charge for MKT's manager", mgr.Get("/charges/"+k.sdCharge), http.StatusNotFound)
			mustStatus(t, "disputing IT-SD's charge", mgr.Post("/charges/"+k.sdCharge+"/dispute", url.Values{"reason": {"x"}, "confirm": {"yes"}}), http.StatusNotFound)
			mustStatus(t, "MKT's charge for HR's manager", k.SignIn("hrmgr").Get("/charges/"+k.mktCharge), http.StatusNotFound)
			// The provider's manager sees it but may not dispute it.
			it := k.SignIn("itmgr")
			if p := it.Get("/charges"); !strings.Contains(p.Body, `id="charge-`+k.mktCharge+`"`) || strings.Contains(p.Body, `id="dispute-form-`+k.mktCharge+`"`) {
				t.Fatal("IT's manager: charge missing or offered a dispute form")
			}
			if res := it.Get("/api/v1/units/" + webtest.ID(k.Units["IT"]) + "/recovery/" + k.month + ".csv"); res.Status != http.StatusOK || !strings.Contains(res.Body, mktNumber) {
				t.Fatalf("IT's recovery download = %d", res.Status)
			}
			// The script's in-place filter gets the content block only.
			req, _ := http.NewRequest("GET", k.Srv.URL+"/charges?status=posted", nil)
			req.Header.Set("X-Tiski-Partial", "1")
			if p := it.Do(req); p.Status != http.StatusOK || strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, `id="charges"`) {
				t.Fatalf("partial charges = %d", p.Status)
			}
			mustStatus(t, "IT disputing MKT's charge", it.Post("/charges/"+k.mktCharge+"/dispute", url.Values{"reason": {"x"}, "confirm": {"yes"}}), http.StatusForbidden)
			// Admin is no finance: no money pages.
			admin := k.SignIn("admin")
			for _, path := range []string{"/charges", "/charges/" + k.mktCharge, "/budgets", "/finance/periods", "/finance/disputes", "/finance/adjustments"} {
				if p := admin.Get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "1,234.56") {
					t.Fatalf("admin %s = %d", path, p.Status)
				}
			}
		})

		testkit.Step(t, "MKT's manager disputes the charge once", func(t *testing.T) {
			path := "/charges/" + k.mktCharge + "/dispute"
			// Without the script's confirmation the server asks first.
			p := mgr.Post(path, url.Values{"reason": {"second-hand <b>dock</b>"}})
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="confirm" value="yes"`) || !strings.Contains(p.Body, "second-hand &lt;b&gt;dock&lt;/b&gt;") || k.Count("disputes") != 0 {
				t.Fatalf("unconfirmed dispute = %d, disputes %d", p.Status, k.Count("disputes"))
			}
			p = mgr.Post(path, url.Values{"reason": {"   "}, "confirm": {"yes"}})
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || k.Count("disputes") != 0 {
				t.Fatalf("empty reason = %d, disputes %d", p.Status, k.Count("disputes"))
			}
			p = mgr.Post(path, url.Values{"reason": {"the dock was second-hand"}, "confirm": {"yes"}, "back": {"/charges"}})
			if p.Status != http.StatusSeeOther || p.Location != "/charges" {
				t.Fatalf("dispute = %d → %s", p.Status, p.Location)
			}
			if n := k.Count("disputes"); n != 1 {
				t.Fatalf("disputes after the form = %d", n)
			}
			if p := mgr.Get("/charges"); !strings.Contains(p.Body, `role="status"`) || strings.Contains(p.Body, `id="dispute-form-`+k.mktCharge+`"`) ||
				!strings.Contains(p.Body, "Dispute open") {
				t.Fatal("after disputing: no flash, or the form is still offered")
			}
			p = mgr.Post(path, url.Values{"reason": {"again"}, "confirm": {"yes"}})
			if p.Status != http.StatusConflict || !strings.Contains(p.Body, "already been disputed") || k.Count("disputes") != 1 {
				t.Fatalf("second dispute = %d, disputes %d", p.Status, k.Count("disputes"))
			}
		})

		testkit.Step(t, "finance refuses bad credits, others may not settle", func(t *testing.T) {
			// Finance settles. A credit that does not parse stays beside its field.
			fin = k.SignIn("finance")
			p := fin.Get("/finance/disputes")
			mustStatus(t, "dispute queue", p, http.StatusOK)
			m := regexp.MustCompile(`id="accept-form-(\d+)"`).FindStringSubmatch(p.Body)
			if m == nil || !strings.Contains(p.Body, "the dock was second-hand") || !strings.Contains(p.Body, `name="credit"`) {
				t.Fatal("the open dispute is not in the queue with its accept form")
			}
			did := m[1]
			settle = "/finance/disputes/" + did
			entries = k.Count("journal_entries")
			for _, bad := range []string{"abc", "1.234,56", "12,5", "1e3", "-5.00", "0", "1,23.45", "5.001"} {
				p = fin.Post(settle, url.Values{"action": {"accept"}, "credit": {bad}, "note": {"kept note"}, "confirm": {"yes"}})
				if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) ||
					!strings.Contains(p.Body, `value="`+bad+`"`) || !strings.Contains(p.Body, "kept note") {
					t.Fatalf("credit %q = %d", bad, p.Status)
				}
			}
			p = fin.Post(settle, url.Values{"action": {"accept"}, "credit": {"2,000.00"}, "confirm": {"yes"}})
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "at most the charge") {
				t.Fatalf("credit above the charge = %d", p.Status)
			}
			if k.Count("journal_entries") != entries || k.CountWhere("disputes", "status = 'open'") != 1 {
				t.Fatal("a refused credit posted something")
			}
			// The auditor reads the queue but has no forms and may not settle.
			aud := k.SignIn("auditor")
			if p := aud.Get("/finance/disputes"); p.Status != http.StatusOK || strings.Contains(p.Body, "accept-form-") || !strings.Contains(p.Body, "second-hand") {
				t.Fatalf("auditor's queue = %d", p.Status)
			}
			mustStatus(t, "auditor accepting", aud.Post(settle, url.Values{"action": {"accept"}, "credit": {"1.00"}, "confirm": {"yes"}}), http.StatusForbidden)
			// The consumer's manager sees the dispute, so is forbidden, as over the API.
			mustStatus(t, "manager accepting", mgr.Post(settle, url.Values{"action": {"accept"}, "credit": {"1.00"}, "confirm": {"yes"}}), http.StatusForbidden)
		})

		testkit.Step(t, "finance accepts a partial credit once", func(t *testing.T) {
			before := k.Balance("MKT")
			p := fin.Post(settle, url.Values{"action": {"accept"}, "credit": {"1,000.50"}, "note": {"partly fair"}, "confirm": {"yes"}})
			if p.Status != http.StatusSeeOther || p.Location != "/finance/disputes" {
				t.Fatalf("accept = %d → %s\n%s", p.Status, p.Location, p.Body)
			}
			if k.Count("journal_entries") != entries+1 || k.CountWhere("disputes", "status = 'accepted' AND credit_minor = 100050") != 1 ||
				k.CountWhere("charges", "id = ? AND status = 'credited'", k.mktCharge) != 1 {
				t.Fatal("the partial credit was not posted as one entry on the charge")
			}
			if got := before - k.Balance("MKT"); got != 100050 {
				t.Fatalf("MKT's balance moved by %d, want the credit 100050", got)
			}
			k.MustVerify()
			if p := fin.Get("/finance/disputes"); !strings.Contains(p.Body, "€1,000.50") || !strings.Contains(p.Body, `role="status"`) {
				t.Fatal("the settled dispute or the flash message is missing")
			}
			p = fin.Post(settle, url.Values{"action": {"accept"}, "credit": {"1.00"}, "confirm": {"yes"}})
			if p.Status != http.StatusConflict || !strings.Contains(p.Body, `class="problem"`) {
				t.Fatalf("accepting twice = %d", p.Status)
			}
			if k.Count("journal_entries") != entries+1 {
				t.Fatal("a second accept posted")
			}
		})
	})
}

func TestPortalMoneyFinnishAmounts(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	k := newMoneyDesk(t, d)
	mgr := k.SignIn("mktmgr")
	mustStatus(t, "switch to Finnish", mgr.Post("/language", url.Values{"back": {"/charges"}, "locale": {"fi"}}), http.StatusSeeOther)
	p := mgr.Get("/charges")
	if !strings.Contains(p.Body, "1\u00a0234,56\u00a0€") || !strings.Contains(p.Body, "Veloitukset") || !strings.Contains(p.Body, "Kiistä") {
		t.Fatalf("Finnish charges page lacks 1 234,56 € or Finnish texts")
	}
	did := k.raiseByAPI("liian kallis")
	fin := k.SignIn("finance")
	mustStatus(t, "switch to Finnish", fin.Post("/language", url.Values{"back": {"/finance/disputes"}, "locale": {"fi"}}), http.StatusSeeOther)
	// In Finnish a point is no decimal separator.
	p = fin.Post("/finance/disputes/"+did, url.Values{"action": {"accept"}, "credit": {"1.50"}, "confirm": {"yes"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "1\u00a0234,56\u00a0€") {
		t.Fatalf("Finnish credit 1.50 = %d", p.Status)
	}
	p = fin.Post("/finance/disputes/"+did, url.Values{"action": {"accept"}, "credit": {"1 000,5 €"}, "confirm": {"yes"}})
	mustStatus(t, "Finnish credit", p, http.StatusSeeOther)
	if k.CountWhere("disputes", "status = 'accepted' AND credit_minor = 100050") != 1 {
		t.Fatal("the Finnish credit 1 000,5 € was not 1000.50")
	}
	if p := fin.Get("/finance/disputes"); !strings.Contains(p.Body, "Kiista hyväksytty; hyvitetty 1\u00a0000,50\u00a0€.") {
		t.Fatal("no Finnish flash with the credit")
	}
}

func TestPortalMoneyPeriodClose(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		did := k.raiseByAPI("not what we ordered")
		fin := k.SignIn("finance")
		p := fin.Get("/finance/periods")
		mustStatus(t, "periods", p, http.StatusOK)
		for _, want := range []string{`id="review-` + k.month + `"`, `id="close-` + k.month + `"`, `href="/api/v1/exports/journal/` + k.month + `.csv"`,
			`href="/charges?period=` + k.month + `#statements"`} {
			if !strings.Contains(p.Body, want) {
				t.Fatalf("periods page lacks %s", want)
			}
		}
		if res := fin.Get("/api/v1/exports/journal/" + k.month + ".csv"); res.Status != http.StatusOK {
			t.Fatalf("journal download = %d", res.Status)
		}
		path := "/finance/periods/" + k.month
		p = fin.Post(path, url.Values{"action": {"close"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="confirm" value="yes"`) || k.periodStatus(k.month) != "open" {
			t.Fatalf("unconfirmed close = %d", p.Status)
		}
		// The month has not ended: closing it is refused and says so.
		p = fin.Post(path, url.Values{"action": {"close"}, "confirm": {"yes"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, k.month+" has not ended") {
			t.Fatalf("close of the current month = %d\n%s", p.Status, p.Body)
		}
		if k.periodStatus(k.month) != "open" {
			t.Fatal("the current month closed")
		}
		aud := k.SignIn("auditor")
		if p := aud.Get("/finance/periods"); p.Status != http.StatusOK || strings.Contains(p.Body, `id="close-`) || !strings.Contains(p.Body, "journal-"+k.month) {
			t.Fatalf("auditor's periods = %d", p.Status)
		}
		mustStatus(t, "auditor closing", aud.Post(path, url.Values{"action": {"close"}, "confirm": {"yes"}}), http.StatusForbidden)
		mustStatus(t, "manager closing", k.SignIn("mktmgr").Post(path, url.Values{"action": {"close"}, "confirm": {"yes"}}), http.StatusNotFound)

		// Rejecting settles it; then the month closes.
		p = fin.Post("/finance/disputes/"+did, url.Values{"action": {"reject"}, "note": {"as ordered"}, "confirm": {"yes"}})
		mustStatus(t, "reject", p, http.StatusSeeOther)
		if k.CountWhere("disputes", "status = 'rejected' AND note = 'as ordered'") != 1 || k.CountWhere("charges", "id = ? AND status = 'posted'", k.mktCharge) != 1 {
			t.Fatal("the rejection did not settle the dispute")
		}
		webtest.CloseOnceEnded(t, d, k.month)
		if p := fin.Get("/finance/periods"); strings.Contains(p.Body, `id="close-`+k.month+`"`) {
			t.Fatal("close still offered for a closed month")
		}
		// A closed month's charges are no longer disputable.
		if p := k.SignIn("mktmgr").Get("/charges"); strings.Contains(p.Body, "dispute-form-") {
			t.Fatal("a closed month's charge offers a dispute form")
		}
		k.MustVerify()
	})
}

func TestPortalMoneyBudgets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		fin := k.SignIn("finance")
		path := "/budgets/" + webtest.ID(k.Units["MKT"]) + "/" + k.month
		p := fin.Post(path, url.Values{"amount": {"2 000"}, "warn_pct": {"80"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || !strings.Contains(p.Body, `value="2 000"`) || k.Count("budgets") != 0 {
			t.Fatalf("bad budget amount = %d, budgets %d", p.Status, k.Count("budgets"))
		}
		mustStatus(t, "bad warn line", fin.Post(path, url.Values{"amount": {"2000"}, "warn_pct": {"150"}}), http.StatusUnprocessableEntity)
		p = fin.Post(path, url.Values{"amount": {"2,000.00"}, "warn_pct": {"50"}, "hard": {"on"}})
		mustStatus(t, "set budget", p, http.StatusSeeOther)
		if k.CountWhere("budgets", "unit_id = ? AND month = ? AND amount_minor = 200000 AND warn_pct = 50 AND hard = ?", k.Units["MKT"], k.month, true) != 1 {
			t.Fatal("the budget was not stored as typed")
		}
		mgr := k.SignIn("mktmgr")
		p = mgr.Get("/budgets")
		mustStatus(t, "budgets as MKT's manager", p, http.StatusOK)
		// Budget €2,000.00 is the longest bar (360); spend €1,234.56 is 222.
		if !strings.Contains(p.Body, `<svg class="chart" role="img"`) || !strings.Contains(p.Body, "<title id=\"budget-chart-"+webtest.ID(k.Units["MKT"])+"-title\">") ||
			!strings.Contains(p.Body, `class="bar bar-budget" x="170" y="10" width="360"`) || !strings.Contains(p.Body, `class="bar bar-posted" x="170" y="42" width="222"`) {
			t.Fatalf("budget chart bars wrong:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, "€2,000.00") || !strings.Contains(p.Body, "€1,234.56") || !strings.Contains(p.Body, "past the 50% warning line") {
			t.Fatal("the figures table or warning is missing")
		}
		if strings.Contains(p.Body, "budget-form-") {
			t.Fatal("a manager is offered the budget form")
		}
		mustStatus(t, "manager setting a budget", mgr.Post(path, url.Values{"amount": {"9000"}, "warn_pct": {"80"}}), http.StatusForbidden)
		if p := k.SignIn("hrmgr").Get("/budgets"); p.Status != http.StatusOK || strings.Contains(p.Body, "Marketing") {
			t.Fatalf("HR's manager sees MKT's budget (%d)", p.Status)
		}
		mustStatus(t, "HR setting MKT's budget", k.SignIn("hrmgr").Post(path, url.Values{"amount": {"1"}, "warn_pct": {"80"}}), http.StatusNotFound)
		if p := fin.Get("/budgets?month=" + k.month); !strings.Contains(p.Body, `id="budget-form-`+webtest.ID(k.Units["MKT"])+`"`) || !strings.Contains(p.Body, `value="2000.00"`) {
			t.Fatal("finance's form does not show the stored budget")
		}
	})
}

func TestPortalMoneyAdjustmentsMakerChecker(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d) // finance2 is the kit's second finance user
		month := billing.MonthOf(time.Now(), webtest.ChargeLocation(t))
		maker := k.SignIn("finance")
		form := url.Values{"debit_unit_id": {webtest.ID(k.Units["MKT"])}, "credit_unit_id": {webtest.ID(k.Units["IT"])}, "amount": {"oops"},
			"month": {month}, "reason": {"shared licence"}, "confirm": {"yes"}}
		p := maker.Post("/finance/adjustments", form)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `value="oops"`) || k.Count("adjustments") != 0 {
			t.Fatalf("bad adjustment = %d", p.Status)
		}
		form.Set("amount", "250.00")
		mustStatus(t, "make adjustment", maker.Post("/finance/adjustments", form), http.StatusSeeOther)
		if k.CountWhere("adjustments", "status = 'pending' AND amount_minor = 25000") != 1 {
			t.Fatal("the adjustment does not wait for approval")
		}
		var adj string
		if err := d.NewRaw("SELECT CAST(id AS TEXT) FROM adjustments").Scan(context.Background(), &adj); err != nil {
			t.Fatal(err)
		}
		p = maker.Get("/finance/adjustments")
		if strings.Contains(p.Body, `id="approve-`+adj+`"`) || !strings.Contains(p.Body, "shared licence") {
			t.Fatal("the maker is offered to approve their own adjustment")
		}
		p = maker.Post("/finance/adjustments/"+adj, url.Values{"action": {"approve"}, "confirm": {"yes"}})
		if p.Status != http.StatusForbidden || k.CountWhere("adjustments", "status = 'pending'") != 1 {
			t.Fatalf("self approval = %d", p.Status)
		}
		aud := k.SignIn("auditor")
		if p := aud.Get("/finance/adjustments"); p.Status != http.StatusOK || strings.Contains(p.Body, "adjustment-form") || strings.Contains(p.Body, "approve-") {
			t.Fatalf("auditor's adjustments = %d", p.Status)
		}
		before := k.Balance("MKT")
		checker := k.SignIn("finance2")
		if p := checker.Get("/finance/adjustments"); !strings.Contains(p.Body, `id="approve-`+adj+`"`) {
			t.Fatal("the second finance user is not offered the approval")
		}
		mustStatus(t, "approve", checker.Post("/finance/adjustments/"+adj, url.Values{"action": {"approve"}, "confirm": {"yes"}}), http.StatusSeeOther)
		if k.CountWhere("adjustments", "status = 'posted'") != 1 || k.Balance("MKT")-before != 25000 {
			t.Fatalf("approval did not post: MKT moved %d", k.Balance("MKT")-before)
		}
		k.MustVerify()
	})
}
