package portal_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// TestAuditTrailPage: issue 12, item 1, in the portal. An auditor reads a
// charge's whole trail from its dispute to the credit in words, filters it,
// and downloads the same events as CSV; a refusal reads as one; a malformed
// filter is a 422 page naming the field; a member has no such page.
func TestAuditTrailPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewChargeDesk(t, d)
		k.Service("DOCK", "fixed", "never", 12000)
		rid := k.Order("mktmember", "MKT", "DOCK", "Docking station").Str("id")
		k.Fulfil(rid)
		cid := k.ChargesOf(rid)[0]["id"].(string)
		res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+cid+"/disputes", map[string]any{"reason": "=HYPERLINK(\"http://evil.example\")"})
		if res.Status != http.StatusCreated {
			t.Fatalf("raise: %d %s", res.Status, res.Body)
		}
		dispute := res.Str("id")
		if res := k.As["finance"].Call("POST", "/api/v1/disputes/"+dispute+"/actions", map[string]any{"action": "accept", "credit_minor": 4500}); res.Status != http.StatusOK {
			t.Fatalf("accept: %d %s", res.Status, res.Body)
		}
		if res := k.As["itmgr"].Call("POST", "/api/v1/charges/"+cid+"/disputes", map[string]any{"reason": "we provide it"}); res.Status != http.StatusForbidden {
			t.Fatalf("the provider disputing: %d %s", res.Status, res.Body)
		}

		auditor := k.SignIn("auditor")
		page := auditor.Get("/audit")
		if page.Status != http.StatusOK || !strings.Contains(page.Body, `href="/audit"`) {
			t.Fatalf("/audit = %d", page.Status)
		}
		for _, want := range []string{
			"manager disputed charge " + cid + " (dispute " + dispute + ")",
			"finance accepted dispute " + dispute + ": credit €45.00",
			"finance: charge " + cid + " is now Credited",
			"Refused: itmanager tried to dispute charge " + cid,
		} {
			if !strings.Contains(html.UnescapeString(page.Body), want) {
				t.Errorf("the auditor's trail does not say %q", want)
			}
		}
		charge := auditor.Get("/audit?object_type=charge&object_id=" + cid)
		if rows := regexp.MustCompile(`<tr id="audit-\d+" class="audit-(\w+)`).FindAllStringSubmatch(charge.Body, -1); len(rows) != 3 {
			t.Errorf("charge %s's trail has %d rows, want disputed, credited and the refusal: %v", cid, len(rows), rows)
		} else {
			for _, r := range rows {
				if r[1] != "charge" {
					t.Errorf("a %s row in the charge's trail", r[1])
				}
			}
		}
		link := regexp.MustCompile(`id="audit-csv" href="([^"]+)"`).FindStringSubmatch(charge.Body)
		if link == nil {
			t.Fatal("no CSV link")
		}
		csv := auditor.Get(html.UnescapeString(link[1]))
		if csv.Status != http.StatusOK || strings.Count(csv.Body, "\r\n") != 1+3 || !strings.Contains(csv.Body, "is now Credited") {
			t.Errorf("CSV %s = %d %q", link[1], csv.Status, csv.Body)
		}

		if bad := auditor.Get("/audit?from=last+week"); bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "From must be a time") {
			t.Errorf("a malformed from: %d", bad.Status)
		}
		if mgr := k.SignIn("mktmgr").Get("/audit"); mgr.Status != http.StatusOK || !strings.Contains(html.UnescapeString(mgr.Body), "finance accepted dispute "+dispute) ||
			strings.Contains(mgr.Body, "audit-user") {
			t.Errorf("MKT's manager's trail: %d", mgr.Status)
		}
		if hr := k.SignIn("hrmgr").Get("/audit"); hr.Status != http.StatusOK || !strings.Contains(hr.Body, `id="audit-empty"`) {
			t.Errorf("HR's manager's trail: %d", hr.Status)
		}
		if member := k.SignIn("mktmember").Get("/audit"); member.Status != http.StatusNotFound || strings.Contains(member.Body, `href="/audit"`) {
			t.Errorf("a member's /audit = %d", member.Status)
		}

		if _, err := d.NewUpdate().Table("users").Set("locale = 'fi'").Where("id = ?", k.Users["auditor"]).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi := auditor.Get("/audit?object_type=dispute&action=accept")
		if !strings.Contains(html.UnescapeString(fi.Body), "finance hyväksyi riidan "+dispute+": hyvitys 45,00\u00a0€") {
			t.Errorf("the Finnish trail: %s", fi.Body)
		}
	})
}
