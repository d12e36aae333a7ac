package reports_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/reports"
	"github.com/tiski/tiski/web/webtest"
)

// TestKnowledgeFiguresCountViewsVotesAndNeedsAnswered checks the knowledge
// part of the quality report: an opening from the order form followed by
// an order within a day is no need answered, one without an order is, and
// one younger than a day is not counted yet.
func TestKnowledgeFiguresCountViewsVotesAndNeedsAnswered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		ctx := context.Background()
		res := k.As["itagent"].Call("POST", "/api/v1/articles", map[string]any{"provider_unit_id": webtest.ID(k.Units["IT"]),
			"service_ids": []string{k.Svc["NEVER"]}, "texts": map[string]any{"en": map[string]any{"title": "VPN", "body": "Set it up."}}})
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		id := res.Str("id")
		if pub := k.As["itagent"].Call("POST", "/api/v1/articles/"+id+"/actions", map[string]any{"action": "publish", "version": 1}); pub.Status != http.StatusOK {
			t.Fatalf("publish: %d %s", pub.Status, pub.Body)
		}
		open := func(who string) {
			if r := k.As[who].Call("GET", "/api/v1/articles/"+id+"?from=order_form&service_id="+k.Svc["NEVER"], nil); r.Status != http.StatusOK {
				t.Fatalf("open as %s: %d", who, r.Status)
			}
		}
		open("mktmember")  // then orders: not answered
		open("mktmember2") // does not order: answered
		open("itsdmember") // does not order either, but only just now
		if r := k.As["mktmember"].Call("POST", "/api/v1/requests", map[string]any{"service_id": k.Svc["NEVER"],
			"consumer_unit_id": webtest.ID(k.Units["MKT"]), "title": "VPN after all", "quantity": "1"}); r.Status != http.StatusCreated {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		k.As["mktmember"].Call("GET", "/api/v1/articles/"+id, nil) // an opening from elsewhere
		for who, helpful := range map[string]bool{"mktmember": false, "mktmember2": true, "itsdmember": true} {
			if r := k.As[who].Call("POST", "/api/v1/articles/"+id+"/votes", map[string]any{"helpful": helpful}); r.Status != http.StatusOK {
				t.Fatalf("vote: %d", r.Status)
			}
		}
		// Two of the openings were two days ago: their day has passed.
		twoDaysAgo := time.Now().Add(-48 * time.Hour).UTC()
		for _, who := range []string{"mktmember", "mktmember2"} {
			if _, err := d.NewUpdate().Table("article_views").Set("at = ?", twoDaysAgo).
				Where("user_id = ? AND source = 'order_form'", k.Users[who]).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.NewUpdate().Table("requests").Set("created_at = ?", twoDaysAgo.Add(time.Hour)).
			Where("requester_id = ?", k.Users["mktmember"]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		rng, err := reports.NewRange(twoDaysAgo.AddDate(0, -1, 0).Format("2006-01"), time.Now().UTC().AddDate(0, 1, 0).Format("2006-01"), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := reports.KnowledgeFigures(ctx, d, reports.Scope{OrgWide: true}, rng, time.Now())
		if err != nil || len(rows) != 1 {
			t.Fatalf("figures: %v %+v", err, rows)
		}
		got := rows[0]
		want := reports.ServiceKnowledge{Service: got.Service, Provider: got.Provider, Articles: 1, Views: 4, Helpful: 2, NotHelpful: 1, NeedsAnswered: 1}
		if got != want || got.Service.Code != "NEVER" || got.Provider.Code != "IT" {
			t.Errorf("figures = %+v, want %+v", got, want)
		}
		from, to := twoDaysAgo.AddDate(0, -1, 0).Format("2006-01"), time.Now().UTC().Format("2006-01")
		api := k.As["itmgr"].Call("GET", "/api/v1/reports/quality?from="+from+"&to="+to, nil)
		kn, _ := api.JSON["knowledge"].([]any)
		if api.Status != http.StatusOK || len(kn) != 1 || kn[0].(map[string]any)["needs_answered"] != float64(1) || kn[0].(map[string]any)["views"] != float64(4) {
			t.Errorf("API quality report: %d %s", api.Status, api.Body)
		}
		page := k.SignIn("itmgr").Get("/reports?from=" + from + "&to=" + to)
		if page.Status != http.StatusOK || !strings.Contains(page.Body, "Needs answered without a request") {
			t.Errorf("reports page: %d", page.Status)
		}
		other, err := reports.KnowledgeFigures(ctx, d, reports.Scope{UnitIDs: []int64{k.Units["MKT"]}}, rng, time.Now())
		if err != nil || len(other) != 0 {
			t.Errorf("another unit's manager sees IT's knowledge: %v %+v", err, other)
		}
	})
}
