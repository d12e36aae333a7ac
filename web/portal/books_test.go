package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func TestPortalTrialBalance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		for _, who := range []string{"finance", "auditor"} {
			p := k.SignIn(who).Get("/finance/trial-balance?month=" + k.month)
			mustStatus(t, "trial balance as "+who, p, http.StatusOK)
			if !strings.Contains(p.Body, `id="trial-MKT"`) || !strings.Contains(p.Body, "€1,234.56") ||
				!strings.Contains(p.Body, `id="trial-total"`) || !strings.Contains(p.Body, `href="/api/v1/trial-balance/`+k.month+`.xlsx"`) {
				t.Fatalf("%s's trial balance lacks MKT, its charge, the total or the file:\n%s", who, p.Body)
			}
		}
		fin := k.SignIn("finance")
		if p := fin.Get("/finance/periods"); !strings.Contains(p.Body, `href="/finance/trial-balance?month=`+k.month+`"`) {
			t.Fatal("the periods page does not link the month's trial balance")
		}
		mustStatus(t, "a bad month", fin.Get("/finance/trial-balance?month=2026-13"), http.StatusUnprocessableEntity)
		for _, who := range []string{"mktmgr", "admin"} {
			mustStatus(t, "trial balance as "+who, k.SignIn(who).Get("/finance/trial-balance"), http.StatusNotFound)
		}
	})
}

func TestPortalGLAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		fin := k.SignIn("finance")
		p := fin.Get("/finance/gl-accounts")
		mustStatus(t, "GL accounts as finance", p, http.StatusOK)
		if !strings.Contains(p.Body, `id="gl-default"`) || !strings.Contains(p.Body, "6800") || !strings.Contains(p.Body, `id="gl-form"`) {
			t.Fatalf("finance's GL page lacks the default or the form:\n%s", p.Body)
		}
		dock := k.Svc["DOCK"]
		p = fin.Post("/finance/gl-accounts", url.Values{"service_id": {dock}, "expense_account": {"=SUM(A1)"}, "recovery_account": {"3810"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `class="field-error"`) || !strings.Contains(p.Body, "3 to 10 digits") {
			t.Fatalf("a bad account = %d\n%s", p.Status, p.Body)
		}
		if n := k.Count("gl_mappings"); n != 1 {
			t.Fatalf("a refused mapping wrote: %d mappings", n)
		}
		p = fin.Post("/finance/gl-accounts", url.Values{"service_id": {dock}, "expense_account": {"6810"}, "recovery_account": {"3810"}})
		mustStatus(t, "a good mapping", p, http.StatusSeeOther)
		if p := fin.Get("/finance/gl-accounts"); !strings.Contains(p.Body, `id="gl-`+dock+`"`) || !strings.Contains(p.Body, "6810") {
			t.Fatalf("the saved mapping is not listed:\n%s", p.Body)
		}
		aud := k.SignIn("auditor")
		if p := aud.Get("/finance/gl-accounts"); p.Status != http.StatusOK || strings.Contains(p.Body, `id="gl-form"`) || !strings.Contains(p.Body, "6810") {
			t.Fatalf("auditor's GL page = %d (a form, or the mapping missing)", p.Status)
		}
		mustStatus(t, "an auditor's mapping", aud.Post("/finance/gl-accounts", url.Values{"service_id": {"default"}, "expense_account": {"6000"},
			"recovery_account": {"3000"}}), http.StatusForbidden)
		for _, who := range []string{"mktmgr", "itmgr", "admin"} {
			mustStatus(t, "GL accounts as "+who, k.SignIn(who).Get("/finance/gl-accounts"), http.StatusNotFound)
		}
		if n := k.Count("gl_mappings"); n != 2 {
			t.Fatalf("%d mappings, want the default and the dock's", n)
		}
	})
}

// A unit's statement page shows its lines with links to the request and
// the charge and the entry ids, the month's credits and adjustments with
// their reasons, and the net.
func TestPortalStatementShowsMovementsAndLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newMoneyDesk(t, d)
		dispute := k.raiseByAPI("one dock was scratched")
		if res := k.As["finance"].Call("POST", "/api/v1/disputes/"+dispute+"/actions",
			map[string]any{"action": "accept", "credit_minor": 23456, "note": "scratch credited"}); res.Status != http.StatusOK {
			t.Fatalf("settle: %d %s", res.Status, res.Body)
		}
		if err := d.InTx(context.Background(), func(tx bun.Tx) error {
			_, err := billing.CreateAdjustment(context.Background(), tx, billing.Operator(k.Users["finance"]), billing.Adjustment{
				DebitUnitID: k.Units["MKT"], CreditUnitID: k.Units["IT"], AmountMinor: 2500, Currency: "EUR", Month: k.month,
				Reason: "cable recharge <i>"}, 1<<40, webtest.ChargeLocation(t), time.Now().UTC())
			return err
		}); err != nil {
			t.Fatalf("adjustment: %v", err)
		}
		path := "/units/" + webtest.ID(k.Units["MKT"]) + "/statements/" + k.month
		p := k.SignIn("mktmgr").Get(path)
		mustStatus(t, "MKT's statement as its manager", p, http.StatusOK)
		for _, want := range []string{`href="/requests/` + k.mktReq + `"`, `href="/charges/` + k.mktCharge + `"`, `id="line-entry-` + k.mktCharge + `"`,
			"one dock was scratched — scratch credited", "cable recharge &lt;i&gt;", "−€234.56", "€25.00", "€1,025.00"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("MKT's statement lacks %q", want)
			}
		}
		if strings.Contains(p.Body, `id="statement-journal"`) {
			t.Error("a manager is offered the GL journal")
		}
		if p := k.SignIn("finance").Get(path); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="statement-journal"`) {
			t.Errorf("finance's statement = %d, or no journal link", p.Status)
		}
		if p := k.SignIn("mktmgr").Get("/charges?period=" + k.month); !strings.Contains(p.Body, `href="`+path+`"`) {
			t.Error("the charges page does not link the statement")
		}
		mustStatus(t, "MKT's statement as HR's manager", k.SignIn("hrmgr").Get(path), http.StatusNotFound)
		mustStatus(t, "a bad month", k.SignIn("finance").Get("/units/"+webtest.ID(k.Units["MKT"])+"/statements/2026-13"), http.StatusUnprocessableEntity)
	})
}
