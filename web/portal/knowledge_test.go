package portal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// knowledgePublish writes and publishes an IT article over the API.
func knowledgePublish(t *testing.T, k *webtest.OrderDesk, audience, title string, services ...string) string {
	t.Helper()
	res := k.As["itagent"].Call("POST", "/api/v1/articles", map[string]any{"provider_unit_id": webtest.ID(k.Units["IT"]),
		"audience": audience, "service_ids": services, "texts": map[string]any{
			"en": map[string]any{"title": title, "body": "Step **one**."},
			"fi": map[string]any{"title": title + " ohje", "body": "Vaihe **yksi**."}}})
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	if pub := k.As["itagent"].Call("POST", "/api/v1/articles/"+res.Str("id")+"/actions", map[string]any{"action": "publish", "version": 1}); pub.Status != http.StatusOK {
		t.Fatalf("publish: %d %s", pub.Status, pub.Body)
	}
	return res.Str("id")
}

// TestAMemberFindsAnArticleFromTheOrderFormAndMarksItHelpful is the issue's
// journey in the portal: the service page shows the article before the
// order form, the form's suggestions find it by the title typed, the
// member opens it and marks it helpful.
func TestAMemberFindsAnArticleFromTheOrderFormAndMarksItHelpful(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		id := knowledgePublish(t, k, "everyone", "VPN set-up", k.Svc["NEVER"])
		b := k.SignIn("mktmember")
		svc := b.Get("/catalog/" + k.Svc["NEVER"])
		if svc.Status != http.StatusOK || !strings.Contains(svc.Body, "VPN set-up") || !strings.Contains(svc.Body, "/knowledge?service_id="+k.Svc["NEVER"]) {
			t.Fatalf("service page: %d %s", svc.Status, svc.Body)
		}
		sug := b.Get("/knowledge/suggest?service_id=" + k.Svc["NEVER"] + "&q=vpn+se")
		var items []struct{ Title, Href string }
		if sug.Status != http.StatusOK || json.Unmarshal([]byte(sug.Body), &items) != nil || len(items) != 1 ||
			items[0].Href != "/knowledge/"+id+"?from=order_form&service_id="+k.Svc["NEVER"] {
			t.Fatalf("suggestions: %d %s", sug.Status, sug.Body)
		}
		page := b.Get(items[0].Href)
		if page.Status != http.StatusOK || !strings.Contains(page.Body, "Step <strong>one</strong>.") {
			t.Fatalf("article page: %d %s", page.Status, page.Body)
		}
		if n := k.Count("article_views"); n != 1 {
			t.Errorf("views: %d", n)
		}
		if p := b.Post("/knowledge/"+id+"/vote", url.Values{"helpful": {"yes"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("vote: %d %s", p.Status, p.Body)
		}
		if p := b.Get("/knowledge/" + id); !strings.Contains(p.Body, "1 found it helpful, 0 did not.") {
			t.Errorf("tally after the vote: %s", p.Body)
		}
		if p := b.Get("/knowledge?q=vpn"); !strings.Contains(p.Body, "VPN set-up") {
			t.Errorf("search page: %s", p.Body)
		}
	})
}

// TestInternalArticlesNeverReachAMemberInThePortal checks the search page,
// the service page, the suggestions, the article page and the comment
// links an agent is offered.
func TestInternalArticlesNeverReachAMemberInThePortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		knowledgePublish(t, k, "everyone", "Toner swap", k.Svc["NEVER"])
		internal := knowledgePublish(t, k, "provider", "Toner firmware secret", k.Svc["NEVER"])
		b := k.SignIn("mktmember")
		for _, path := range []string{"/knowledge?q=toner", "/catalog/" + k.Svc["NEVER"], "/knowledge/suggest?q=toner&service_id=" + k.Svc["NEVER"]} {
			p := b.Get(path)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "Toner swap") || strings.Contains(p.Body, "firmware") {
				t.Errorf("member's %s: %d %s", path, p.Status, p.Body)
			}
		}
		if p := b.Get("/knowledge/" + internal); p.Status != http.StatusNotFound || strings.Contains(p.Body, "firmware") {
			t.Errorf("member opens the internal article: %d", p.Status)
		}
		agent := k.SignIn("itagent")
		if p := agent.Get("/knowledge?q=toner"); !strings.Contains(p.Body, "Toner firmware secret") {
			t.Errorf("agent's search misses the internal article: %s", p.Body)
		}
		// The request page offers the agent both as related, but only the
		// public one to link in a reply.
		req := k.As["mktmember"].Call("POST", "/api/v1/requests", map[string]any{"service_id": k.Svc["NEVER"],
			"consumer_unit_id": webtest.ID(k.Units["MKT"]), "title": "Toner is empty", "quantity": "1"})
		if req.Status != http.StatusCreated {
			t.Fatalf("order: %d %s", req.Status, req.Body)
		}
		p := agent.Get("/requests/" + req.Str("id"))
		related, insert, _ := strings.Cut(p.Body, `id="insert-article"`)
		insert, _, _ = strings.Cut(insert, "</select>")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Related articles") || !strings.Contains(related+p.Body, "Toner firmware secret") ||
			!strings.Contains(insert, "Toner swap") || strings.Contains(insert, "firmware") {
			t.Errorf("agent's request page: %d insert=%q", p.Status, insert)
		}
		if p := b.Get("/requests/" + req.Str("id")); strings.Contains(p.Body, "firmware") || strings.Contains(p.Body, "insert-article") {
			t.Errorf("the member's request page shows the provider's knowledge")
		}
		// The agent replies with the link the select offers; the requester
		// opens it from the comment.
		_, opt, _ := strings.Cut(insert, `<option value="/knowledge/`)
		opt = "/knowledge/" + opt
		link, _, _ := strings.Cut(opt, `"`)
		link = strings.ReplaceAll(link, "&amp;", "&")
		if p := agent.Post("/requests/"+req.Str("id")+"/comments", url.Values{"body": {"See [Toner swap](" + link + ")"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("reply: %d %s", p.Status, p.Body)
		}
		if p := b.Get("/requests/" + req.Str("id")); !strings.Contains(p.Body, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
			t.Errorf("the reply's link is missing on the member's page (%s)", link)
		}
		if p := b.Get(link); p.Status != http.StatusOK || !strings.Contains(p.Body, "Toner swap") {
			t.Errorf("member opens the link from the comment: %d", p.Status)
		}
		var fromComment int
		if err := d.NewSelect().Table("article_views").ColumnExpr("COUNT(*)").Where("source = 'comment'").Scan(context.Background(), &fromComment); err != nil || fromComment != 1 {
			t.Errorf("views from a comment: %d %v", fromComment, err)
		}
	})
}

// TestAnAgentWritesAndPublishesAnArticleInThePortal writes an article in
// two languages from the form, refuses one with a script (nothing
// written), and keeps the form from members.
func TestAnAgentWritesAndPublishesAnArticleInThePortal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		agent := k.SignIn("itagent")
		if p := agent.Get("/knowledge"); !strings.Contains(p.Body, `href="/knowledge/new"`) {
			t.Errorf("the knowledge page offers the agent no form")
		}
		form := url.Values{"provider_unit_id": {webtest.ID(k.Units["IT"])}, "audience": {"everyone"}, "service_ids": {k.Svc["NEVER"]},
			"title_en": {"Docking station"}, "body_en": {"Plug in **one** cable."},
			"title_fi": {"Telakka"}, "body_fi": {"Kytke **yksi** kaapeli."}, "publish": {"yes"}}
		bad := url.Values{}
		for key, v := range form {
			bad[key] = v
		}
		bad.Set("body_fi", `<img src=x onerror="alert(1)">`)
		if p := agent.Post("/knowledge/new", bad); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "event handlers") || k.Count("articles") != 0 {
			t.Fatalf("a script: %d, articles %d", p.Status, k.Count("articles"))
		}
		p := agent.Post("/knowledge/new", form)
		if p.Status != http.StatusSeeOther {
			t.Fatalf("write: %d %s", p.Status, p.Body)
		}
		member := k.SignIn("mktmember")
		if got := member.Get(p.Location); got.Status != http.StatusOK || !strings.Contains(got.Body, "Plug in <strong>one</strong> cable.") {
			t.Errorf("member reads it: %d", got.Status)
		}
		if hits := member.Get("/knowledge?q=docking"); !strings.Contains(hits.Body, "Docking station") {
			t.Errorf("member's search misses it")
		}
		if got := member.Get("/knowledge/new"); got.Status != http.StatusForbidden {
			t.Errorf("member gets the form: %d", got.Status)
		}
	})
}
