package portal_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/web/webtest"
	"github.com/uptrace/bun"
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

// TestAuditorReadsAChargeFromOrderToClose: issue 12, "Shows it works". A
// laptop ordered, resolved, disputed and partly credited in November, whose
// month finance then reviews and closes: an auditor asks the trail for the
// charge and reads all of it in words, from the order to the close, and
// nothing of another charge.
func TestAuditorReadsAChargeFromOrderToClose(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := webtest.NewFixture(t, d)
		kit := f.Kit
		ctx := context.Background()
		loc := kit.Org.Location
		at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, loc) }
		member := requests.Viewer{UserID: kit.People.Member, Authz: kit.Authz}
		agent := requests.Viewer{UserID: kit.People.Agent, Authz: kit.Authz}
		order := func(title string, day int) (requestID, chargeID int64) {
			var r *requests.Request
			kit.Do(t, func(ctx context.Context, tx bun.Tx) (err error) {
				r, err = requests.Submit(ctx, tx, member, kit.Org, requests.Order{ServiceID: kit.Services.Laptop.ID,
					ConsumerUnitID: kit.Units.MKT, Title: title, Channel: "portal"}, at(day, 9))
				return err
			})
			for i, action := range []string{"start", "resolve"} {
				var err error
				if r, err = requests.Perform(ctx, d, agent, kit.Org, r.ID, requests.Action{Name: action, Version: r.Version}, at(day, 10+i)); err != nil {
					t.Fatalf("%s %q: %v", action, title, err)
				}
			}
			if err := d.NewSelect().Table("charges").Column("id").Where("request_id = ?", r.ID).Scan(ctx, &chargeID); err != nil {
				t.Fatal(err)
			}
			return r.ID, chargeID
		}
		rid, cid := order("Laptop for the new starter", 10)
		other, otherCharge := order("Another laptop", 11)
		kit.Do(t, func(ctx context.Context, tx bun.Tx) error {
			dispute, err := billing.RaiseDispute(ctx, tx, billing.Operator(kit.People.Manager), cid, "the dock was missing", at(12, 9))
			if err != nil {
				return err
			}
			_, err = billing.SettleDispute(ctx, tx, billing.Operator(kit.People.Finance),
				billing.Settlement{DisputeID: dispute.ID, Action: "accept", CreditMinor: 4500, Note: "a dock is 45.00"}, loc, at(13, 9))
			return err
		})
		for _, action := range []string{"review", "close"} {
			kit.Do(t, func(ctx context.Context, tx bun.Tx) error {
				_, err := billing.MovePeriod(ctx, tx, billing.Operator(kit.People.Finance), "2026-11", action, loc, time.Date(2026, 12, 2, 9, 0, 0, 0, loc))
				return err
			})
		}

		page := f.SignIn("auditor").Get("/audit?charge_id=" + webtest.ID(cid))
		if page.Status != http.StatusOK {
			t.Fatalf("/audit?charge_id = %d", page.Status)
		}
		body := html.UnescapeString(page.Body)
		r, c := webtest.ID(rid), webtest.ID(cid)
		for _, want := range []string{
			"member: request " + r + " is now Submitted",
			"agent: request " + r + " is now Resolved",
			"manager disputed charge " + c,
			"finance accepted dispute",
			"charge " + c + " is now Credited",
			"finance moved period 2026-11 to review",
			"finance closed period 2026-11",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the charge's trail does not say %q", want)
			}
		}
		if strings.Contains(body, "request "+webtest.ID(other)+" is") || strings.Contains(body, "charge "+webtest.ID(otherCharge)+" ") {
			t.Errorf("the charge's trail holds another charge's events")
		}
		if bad := f.SignIn("auditor").Get("/audit?charge_id=dock"); bad.Status != http.StatusUnprocessableEntity {
			t.Errorf("a malformed charge id: %d", bad.Status)
		}
	})
}
