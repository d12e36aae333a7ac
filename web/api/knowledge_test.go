package api_test

import (
	"net/http"
	"testing"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

func articleBody(k *webtest.OrderDesk, audience, title string, services ...string) map[string]any {
	if services == nil {
		services = []string{}
	}
	return map[string]any{"provider_unit_id": webtest.ID(k.Units["IT"]), "audience": audience, "service_ids": services,
		"texts": map[string]any{
			"en": map[string]any{"title": title, "body": "Open **Settings** and follow the steps."},
			"fi": map[string]any{"title": title + " suomeksi", "body": "Avaa **Asetukset** ja seuraa ohjeita."},
		}}
}

// publishArticle writes and publishes an article as the IT agent.
func publishArticle(t *testing.T, k *webtest.OrderDesk, audience, title string, services ...string) webtest.Response {
	t.Helper()
	res := k.As["itagent"].Call("POST", "/api/v1/articles", articleBody(k, audience, title, services...))
	if res.Status != http.StatusCreated || res.Str("status") != "draft" || res.JSON["version"] != float64(1) {
		t.Fatalf("create article: %d %s", res.Status, res.Body)
	}
	pub := k.As["itagent"].Call("POST", "/api/v1/articles/"+res.Str("id")+"/actions", map[string]any{"action": "publish", "version": 1})
	if pub.Status != http.StatusOK || pub.Str("status") != "published" || pub.JSON["version"] != float64(2) {
		t.Fatalf("publish article: %d %s", pub.Status, pub.Body)
	}
	return pub
}

// TestAnAgentPublishesAndAMemberFindsItFromTheOrderForm is the issue's
// journey over the API: two languages, found by a half-typed title for
// the service being ordered, opened from the order form, marked helpful.
func TestAnAgentPublishesAndAMemberFindsItFromTheOrderForm(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		art := publishArticle(t, k, "everyone", "VPN set-up", k.Svc["NEVER"])
		texts, _ := art.JSON["texts"].(map[string]any)
		fi, _ := texts["fi"].(map[string]any)
		if fi["title"] != "VPN set-up suomeksi" || fi["body_html"] != "<p>Avaa <strong>Asetukset</strong> ja seuraa ohjeita.</p>\n" {
			t.Fatalf("texts: %v", texts)
		}
		found := k.As["mktmember"].Call("GET", "/api/v1/articles/search?q=vpn+se&service_id="+k.Svc["NEVER"], nil)
		if found.Status != http.StatusOK || len(found.Items()) != 1 || found.Items()[0]["id"] != art.Str("id") {
			t.Fatalf("search: %d %s", found.Status, found.Body)
		}
		opened := k.As["mktmember"].Call("GET", "/api/v1/articles/"+art.Str("id")+"?from=order_form&service_id="+k.Svc["NEVER"], nil)
		if opened.Status != http.StatusOK || k.Count("article_views") != 1 {
			t.Fatalf("open: %d %s, views %d", opened.Status, opened.Body, k.Count("article_views"))
		}
		vote := k.As["mktmember"].Call("POST", "/api/v1/articles/"+art.Str("id")+"/votes", map[string]any{"helpful": true})
		if vote.Status != http.StatusOK || vote.JSON["helpful"] != float64(1) || vote.JSON["not_helpful"] != float64(0) {
			t.Fatalf("vote: %d %s", vote.Status, vote.Body)
		}
		revs := k.As["itmgr"].Call("GET", "/api/v1/articles/"+art.Str("id")+"/revisions?limit=1", nil)
		if revs.Status != http.StatusOK || len(revs.Items()) != 1 || revs.Str("next_cursor") == "" {
			t.Fatalf("revisions: %d %s", revs.Status, revs.Body)
		}
		more := k.As["itmgr"].Call("GET", "/api/v1/articles/"+art.Str("id")+"/revisions?cursor="+revs.Str("next_cursor"), nil)
		if more.Status != http.StatusOK || len(more.Items()) != 1 || more.Items()[0]["version"] != float64(2) {
			t.Fatalf("revisions page 2: %d %s", more.Status, more.Body)
		}
		if res := k.As["mktmember"].Call("GET", "/api/v1/articles/"+art.Str("id")+"/revisions", nil); res.Status != http.StatusForbidden {
			t.Errorf("member reads the history: %d", res.Status)
		}
	})
}

// TestInternalArticlesNeverReachAMemberOverTheAPI checks get, list and search.
func TestInternalArticlesNeverReachAMemberOverTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		public := publishArticle(t, k, "everyone", "Printer toner", k.Svc["NEVER"])
		internal := publishArticle(t, k, "provider", "Printer firmware reset", k.Svc["NEVER"])
		if res := k.As["mktmember"].Call("GET", "/api/v1/articles/"+internal.Str("id"), nil); res.Status != http.StatusNotFound {
			t.Errorf("member gets the internal article: %d %s", res.Status, res.Body)
		}
		if res := k.As["mktmember"].Call("POST", "/api/v1/articles/"+internal.Str("id")+"/votes", map[string]any{"helpful": true}); res.Status != http.StatusNotFound {
			t.Errorf("member votes on the internal article: %d %s", res.Status, res.Body)
		}
		for _, path := range []string{"/api/v1/articles", "/api/v1/articles/search?q=printer", "/api/v1/articles?q=printer&service_id=" + k.Svc["NEVER"]} {
			res := k.As["mktmember"].Call("GET", path, nil)
			if res.Status != http.StatusOK || len(res.Items()) != 1 || res.Items()[0]["id"] != public.Str("id") {
				t.Errorf("member's %s: %d %s", path, res.Status, res.Body)
			}
			res = k.As["itagent"].Call("GET", path, nil)
			if res.Status != http.StatusOK || len(res.Items()) != 2 {
				t.Errorf("agent's %s: %d %s", path, res.Status, res.Body)
			}
		}
		if res := k.As["itagent"].Call("GET", "/api/v1/articles/"+internal.Str("id"), nil); res.Status != http.StatusOK {
			t.Errorf("agent gets the internal article: %d", res.Status)
		}
	})
}

// TestBadArticlesAreRefusedAndWriteNothing covers the bad input.
func TestBadArticlesAreRefusedAndWriteNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		art := publishArticle(t, k, "everyone", "Laptops", k.Svc["ALWAYS"])
		path := "/api/v1/articles/" + art.Str("id")
		withBody := func(body string) map[string]any {
			b := articleBody(k, "everyone", "Bad")
			b["texts"] = map[string]any{"en": map[string]any{"title": "Bad", "body": body}}
			return b
		}
		cases := []struct {
			name, as, method, path string
			body                   any
			status                 int
			code                   string
		}{
			{"a script", "itagent", "POST", "/api/v1/articles", withBody("<script>alert(1)</script>"), 422, "invalid"},
			{"an event handler", "itagent", "POST", "/api/v1/articles", withBody(`<a href="#" onclick="steal()">x</a>`), 422, "invalid"},
			{"another unit's service", "itagent", "POST", "/api/v1/articles", articleBody(k, "everyone", "X", k.Svc["DESIGN"]), 422, "invalid"},
			{"a bad service id", "itagent", "POST", "/api/v1/articles", articleBody(k, "everyone", "X", "x"), 422, "invalid"},
			{"a member writes", "mktmember", "POST", "/api/v1/articles", articleBody(k, "everyone", "X"), 403, "forbidden"},
			{"no unit", "itagent", "POST", "/api/v1/articles", map[string]any{"texts": map[string]any{}}, 422, "invalid"},
			{"a stale revision", "itmgr", "PATCH", path, map[string]any{"version": 1, "audience": "provider"}, 409, "stale_version"},
			{"a revision without version", "itmgr", "PATCH", path, map[string]any{"audience": "provider"}, 422, "invalid"},
			{"a member revises", "mktmember", "PATCH", path, map[string]any{"version": 2, "audience": "provider"}, 403, "forbidden"},
			{"publish twice", "itagent", "POST", path + "/actions", map[string]any{"action": "publish", "version": 2}, 409, "invalid_transition"},
			{"an unknown action", "itagent", "POST", path + "/actions", map[string]any{"action": "burn", "version": 2}, 422, "invalid"},
			{"a bad search limit", "mktmember", "GET", "/api/v1/articles/search?q=x&limit=500", nil, 422, "invalid"},
			{"a bad status filter", "itagent", "GET", "/api/v1/articles?status=gone", nil, 422, "invalid"},
			{"a vote without helpful", "mktmember", "POST", path + "/votes", map[string]any{}, 422, "invalid"},
			{"a missing article", "mktmember", "GET", "/api/v1/articles/999999", nil, 404, "not_found"},
		}
		tables := []string{"articles", "article_texts", "article_revisions", "article_services", "article_votes", "audit_events"}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := map[string]int{}
				for _, tb := range tables {
					before[tb] = k.Count(tb)
				}
				res := k.As[c.as].Call(c.method, c.path, c.body)
				if res.Status != c.status || res.ErrorCode() != c.code {
					t.Fatalf("%d %s, want %d %s", res.Status, res.Body, c.status, c.code)
				}
				for _, tb := range tables {
					if n := k.Count(tb); n != before[tb] {
						t.Errorf("%s: %d → %d", tb, before[tb], n)
					}
				}
			})
		}
		ok := k.As["itmgr"].Call("PATCH", path, map[string]any{"version": 2, "audience": "provider", "note": "internal now"})
		if ok.Status != http.StatusOK || ok.Str("audience") != "provider" || ok.JSON["version"] != float64(3) {
			t.Fatalf("revise: %d %s", ok.Status, ok.Body)
		}
		if res := k.As["mktmember"].Call("GET", path, nil); res.Status != http.StatusNotFound {
			t.Errorf("member reads it once internal: %d", res.Status)
		}
		if res := k.As["itagent"].Call("DELETE", path+"?version=3", nil); res.Status != http.StatusNoContent {
			t.Errorf("archive: %d %s", res.Status, res.Body)
		}
		if res := k.As["itagent"].Call("GET", "/api/v1/articles", nil); res.Status != http.StatusOK || len(res.Items()) != 0 {
			t.Errorf("an archived article is listed: %s", res.Body)
		}
	})
}
