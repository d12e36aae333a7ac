package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/web/webtest"
)

// TestServiceCatalogOverAPI creates services in each pricing model and
// checks every refusal of a bad one writes nothing.
func TestServiceCatalogOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		testkit.Step(t, "IT's manager creates a service of every pricing model, with a form", func(t *testing.T) {
			for _, model := range []string{"fixed", "per_unit", "hourly", "monthly"} {
				code := "NEW-" + strings.ToUpper(model)
				form := []map[string]any{
					{"key": "model", "label": "Model", "type": "choice", "required": true, "options": []string{"a", "b"}},
					{"key": "due", "label": "Due", "type": "date"}, {"key": "count", "label": "Count", "type": "number"},
					{"key": "why", "label": "Why", "type": "text"},
				}
				res := k.As["itmgr"].Call("POST", "/api/v1/services", webtest.ServiceBody(k, code, model, func(b map[string]any) { b["fields"] = form }))
				if res.Status != http.StatusCreated || res.Str("pricing_model") != model || res.Str("code") != code ||
					amountMinor(res, "price") != 12345 || res.Str("provider_unit_id") != webtest.ID(k.Units["IT"]) || res.JSON["active"] != true {
					t.Fatalf("create %s: %d %s", model, res.Status, res.Body)
				}
				got := k.As["mktmember"].Call("GET", "/api/v1/services/"+res.Str("id"), nil)
				sla, _ := got.JSON["sla"].(map[string]any)
				fields, _ := got.JSON["fields"].([]any)
				rates, _ := got.JSON["rates"].([]any)
				if got.Status != http.StatusOK || sla["first_response_minutes"] != float64(30) || sla["resolution_minutes"] != float64(600) ||
					len(fields) != 4 || len(rates) != 1 || rates[0].(map[string]any)["effective_from"] != webtest.TodayPlus(0) {
					t.Errorf("GET %s: %d %s", model, got.Status, got.Body)
				}
			}
		})

		testkit.Step(t, "bad or unauthorised services are refused and write nothing", func(t *testing.T) {
			bad := func(key string, v any) func(map[string]any) { return func(b map[string]any) { b[key] = v } }
			field := func(f ...map[string]any) func(map[string]any) { return bad("fields", f) }
			text := func(key string) map[string]any { return map[string]any{"key": key, "label": "L", "type": "text"} }
			cases := []struct {
				name   string
				as     string
				body   any
				status int
			}{
				{"bad field key", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(text("Bad Key"))), 422},
				{"field key starting with a digit", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(text("1st"))), 422},
				{"duplicate field key", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(text("a"), text("a"))), 422},
				{"choice without options", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "label": "C", "type": "choice"})), 422},
				{"options on a text field", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "label": "C", "type": "text", "options": []string{"x"}})), 422},
				{"bad field type", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "label": "C", "type": "colour"})), 422},
				{"field without label", "itmgr", webtest.ServiceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "type": "text"})), 422},
				{"SLA zero", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("sla", map[string]any{"first_response_minutes": 0, "resolution_minutes": 60})), 422},
				{"SLA negative", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("sla", map[string]any{"first_response_minutes": 10, "resolution_minutes": -60})), 422},
				{"SLA resolution before response", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("sla", map[string]any{"first_response_minutes": 100, "resolution_minutes": 60})), 422},
				{"SLA missing", "itmgr", webtest.ServiceBody(k, "B1", "fixed", func(b map[string]any) { delete(b, "sla") }), 422},
				{"price in USD", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("price", map[string]any{"amount_minor": 100, "currency": "USD"})), 422},
				{"fractional minor units", "itmgr", []byte(`{"provider_unit_id":"` + webtest.ID(k.Units["IT"]) + `","code":"B1","name":"B","pricing_model":"fixed",` +
					`"price":{"amount_minor":12.5,"currency":"EUR"},"sla":{"first_response_minutes":1,"resolution_minutes":2}}`), 422},
				{"negative price", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("price", webtest.EUR(-1))), 422},
				{"price missing", "itmgr", webtest.ServiceBody(k, "B1", "fixed", func(b map[string]any) { delete(b, "price") }), 422},
				{"unknown pricing model", "itmgr", webtest.ServiceBody(k, "B1", "barter", nil), 422},
				{"unknown approval policy", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("approval_policy", "sometimes")), 422},
				{"bad code", "itmgr", webtest.ServiceBody(k, "b 1/x", "fixed", nil), 422},
				{"no name", "itmgr", webtest.ServiceBody(k, "B1", "fixed", bad("name", "")), 422},
				{"duplicate code", "itmgr", webtest.ServiceBody(k, "never", "fixed", nil), 409},
				{"a member of the unit", "itagent", webtest.ServiceBody(k, "B1", "fixed", nil), 403},
				{"a member of another unit", "mktmember", webtest.ServiceBody(k, "B1", "fixed", nil), 403},
				{"another unit's manager", "mktmgr", webtest.ServiceBody(k, "B1", "fixed", nil), 403},
				{"admin is not a provider manager", "admin", webtest.ServiceBody(k, "B1", "fixed", nil), 403},
			}
			tables := []string{"services", "service_rates"}
			before := map[string]int{}
			for _, tb := range tables {
				before[tb] = k.Count(tb)
			}
			for _, c := range cases {
				if res := k.As[c.as].Call("POST", "/api/v1/services", c.body); res.Status != c.status {
					t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.status)
				}
			}
			for _, tb := range tables {
				if got := k.Count(tb); got != before[tb] {
					t.Errorf("refused services wrote %d rows to %s", got-before[tb], tb)
				}
			}
		})
		testkit.Step(t, "the manager of an ancestor unit runs the unit's services too", func(t *testing.T) {
			// The manager of an ancestor unit runs the unit's services too.
			if res := k.As["groupmgr"].Call("POST", "/api/v1/services", webtest.ServiceBody(k, "BY-GROUP", "fixed", nil)); res.Status != http.StatusCreated {
				t.Errorf("ancestor manager creates: %d %s", res.Status, res.Body)
			}
		})

		testkit.Step(t, "only the provider's manager edits a service", func(t *testing.T) {
			svc := "/api/v1/services/" + k.Svc["NEVER"]
			for _, who := range []string{"mktmember", "itagent", "mktmgr", "finance", "admin"} {
				if res := k.As[who].Call("PATCH", svc, map[string]any{"name": "Hijacked"}); res.Status != http.StatusForbidden {
					t.Errorf("PATCH by %s = %d %s", who, res.Status, res.Body)
				}
				if res := k.As[who].Call("POST", svc+"/rates", map[string]any{"price": webtest.EUR(1), "effective_from": webtest.TodayPlus(3)}); res.Status != http.StatusForbidden {
					t.Errorf("rate by %s = %d %s", who, res.Status, res.Body)
				}
			}
			for name, body := range map[string]map[string]any{
				"price by PATCH":  {"price": webtest.EUR(1)},
				"code by PATCH":   {"code": "OTHER"},
				"bad SLA":         {"sla": map[string]any{"first_response_minutes": -5, "resolution_minutes": 60}},
				"bad fields":      {"fields": []map[string]any{{"key": "x", "label": "X", "type": "choice"}}},
				"bad policy":      {"approval_policy": "maybe"},
				"unknown service": nil,
			} {
				path := svc
				if body == nil {
					path, body = "/api/v1/services/999999", map[string]any{"name": "X"}
				}
				want := http.StatusUnprocessableEntity
				if name == "unknown service" {
					want = http.StatusNotFound
				}
				if res := k.As["itmgr"].Call("PATCH", path, body); res.Status != want {
					t.Errorf("%s: %d %s, want %d", name, res.Status, res.Body, want)
				}
			}
			res := k.As["itmgr"].Call("PATCH", svc, map[string]any{"name": "Monitors", "sla": map[string]any{"first_response_minutes": 15, "resolution_minutes": 120}})
			if res.Status != http.StatusOK || res.Str("name") != "Monitors" || res.JSON["sla"].(map[string]any)["resolution_minutes"] != float64(120) {
				t.Errorf("PATCH by the manager: %d %s", res.Status, res.Body)
			}
			if row, err := catalogService(k, k.Svc["NEVER"]); err != nil || row.Name != "Monitors" || row.SLAResolutionMinutes != 120 {
				t.Errorf("stored after PATCH: %+v %v", row, err)
			}
		})
	})
}

func catalogService(k *webtest.OrderDesk, serviceID string) (*catalog.Service, error) {
	s := new(catalog.Service)
	return s, k.DB.NewSelect().Model(s).Where("id = ?", serviceID).Scan(k.T.Context())
}

// TestRatesKeepHistoryAndQuotesStay checks effective-dated rates: future
// ones queue up, the past is closed, one rate per date, and a request keeps
// the price it was quoted.
func TestRatesKeepHistoryAndQuotesStay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		res := k.As["itmgr"].Call("POST", "/api/v1/services", webtest.ServiceBody(k, "CABLE", "per_unit", func(b map[string]any) {
			b["price"], b["effective_from"] = webtest.EUR(1000), "2020-01-01"
		}))
		if res.Status != http.StatusCreated || amountMinor(res, "price") != 1000 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		sid := res.Str("id")
		rates := "/api/v1/services/" + sid + "/rates"
		addRate := func(minor int64, from string) webtest.Response {
			return k.As["itmgr"].Call("POST", rates, map[string]any{"price": webtest.EUR(minor), "effective_from": from})
		}
		if res := addRate(1500, webtest.TodayPlus(0)); res.Status != http.StatusCreated || res.Str("effective_from") != webtest.TodayPlus(0) || amountMinor(res, "price") != 1500 {
			t.Fatalf("rate from today: %d %s", res.Status, res.Body)
		}
		quoted := k.Order("mktmember", "MKT", "", "Cables", "service_id", sid, "quantity", "3")
		rid := quoted.Str("id")
		if amountMinor(quoted, "unit_price") != 1500 || amountMinor(quoted, "estimate") != 4500 {
			t.Fatalf("quote today: %s", quoted.Body)
		}

		rows := k.Count("service_rates")
		for _, c := range []struct {
			name   string
			minor  int64
			from   string
			status int
		}{
			{"yesterday", 900, webtest.TodayPlus(-1), 422},
			{"long ago", 900, "2021-06-01", 422},
			{"today again", 1600, webtest.TodayPlus(0), 409},
			{"not a date", 1600, "next week", 422},
			{"impossible date", 1600, "2030-02-30", 422},
		} {
			if res := addRate(c.minor, c.from); res.Status != c.status {
				t.Errorf("rate %s: %d %s, want %d", c.name, res.Status, res.Body, c.status)
			}
		}
		for name, body := range map[string][]byte{
			"USD":        []byte(`{"price":{"amount_minor":100,"currency":"USD"},"effective_from":"` + webtest.TodayPlus(5) + `"}`),
			"fractional": []byte(`{"price":{"amount_minor":100.5,"currency":"EUR"},"effective_from":"` + webtest.TodayPlus(5) + `"}`),
			"negative":   []byte(`{"price":{"amount_minor":-100,"currency":"EUR"},"effective_from":"` + webtest.TodayPlus(5) + `"}`),
			"no price":   []byte(`{"effective_from":"` + webtest.TodayPlus(5) + `"}`),
		} {
			if res := k.As["itmgr"].Call("POST", rates, body); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("rate %s: %d %s", name, res.Status, res.Body)
			}
		}
		if got := k.Count("service_rates"); got != rows {
			t.Errorf("refused rates wrote %d rows", got-rows)
		}

		if res := addRate(2000, webtest.TodayPlus(30)); res.Status != http.StatusCreated {
			t.Fatalf("future rate: %d %s", res.Status, res.Body)
		}
		if res := addRate(2500, webtest.TodayPlus(60)); res.Status != http.StatusCreated {
			t.Fatalf("second future rate: %d %s", res.Status, res.Body)
		}
		if res := addRate(2600, webtest.TodayPlus(60)); res.Status != http.StatusConflict || res.ErrorCode() != "duplicate_rate" {
			t.Errorf("same date twice: %d %s", res.Status, res.Body)
		}
		got := k.As["mktmember"].Call("GET", "/api/v1/services/"+sid, nil)
		var history []string
		for _, r := range got.JSON["rates"].([]any) {
			m := r.(map[string]any)
			history = append(history, m["effective_from"].(string)+"="+webtest.ID(int64(m["price"].(map[string]any)["amount_minor"].(float64))))
		}
		want := []string{webtest.TodayPlus(60) + "=2500", webtest.TodayPlus(30) + "=2000", webtest.TodayPlus(0) + "=1500", "2020-01-01=1000"}
		if !slices.Equal(history, want) {
			t.Errorf("rates = %v, want %v", history, want)
		}
		if amountMinor(got, "price") != 1500 {
			t.Errorf("price in force today = %d", amountMinor(got, "price"))
		}

		// The request filed before the rate changes keeps its quote; a new one
		// today is still quoted today's rate.
		again := k.As["mktmember"].Call("GET", "/api/v1/requests/"+rid, nil)
		if amountMinor(again, "unit_price") != 1500 || amountMinor(again, "estimate") != 4500 || again.Str("rate_id") != quoted.Str("rate_id") {
			t.Errorf("quote after rate change: %s", again.Body)
		}
		if row := k.Row(rid); row.UnitPriceMinor != 1500 || row.EstimateMinor != 4500 {
			t.Errorf("stored quote: %d × → %d", row.UnitPriceMinor, row.EstimateMinor)
		}
		if res := k.Order("mktmember", "MKT", "", "More cables", "service_id", sid); amountMinor(res, "unit_price") != 1500 {
			t.Errorf("new request today quoted %d", amountMinor(res, "unit_price"))
		}
	})
}

// TestInactiveServiceCannotBeOrdered deactivates a service: it disappears
// from the catalog unless asked for, and new orders are refused.
func TestInactiveServiceCannotBeOrdered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := webtest.NewOrderDesk(t, d)
		sid := k.Svc["NEVER"]
		existing := k.Order("mktmember", "MKT", "NEVER", "Before retirement").Str("id")
		listed := func(query string) bool {
			res := k.As["mktmember"].Call("GET", "/api/v1/services?limit=200"+query, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("GET /services%s: %d %s", query, res.Status, res.Body)
			}
			return slices.ContainsFunc(res.Items(), func(s map[string]any) bool { return s["id"] == sid })
		}
		if !listed("") {
			t.Fatal("active service not listed")
		}
		res := k.As["itmgr"].Call("PATCH", "/api/v1/services/"+sid, map[string]any{"active": false})
		if res.Status != http.StatusOK || res.JSON["active"] != false {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		if listed("") {
			t.Error("inactive service listed by default")
		}
		if !listed("&include_inactive=true") {
			t.Error("inactive service missing with include_inactive=true")
		}
		rows := k.Count("requests")
		res = k.File("mktmember", map[string]any{"service_id": sid, "consumer_unit_id": webtest.ID(k.Units["MKT"]), "title": "After retirement"})
		if res.Status != http.StatusUnprocessableEntity || k.Count("requests") != rows {
			t.Errorf("order of an inactive service: %d %s", res.Status, res.Body)
		}
		// Work already ordered goes on.
		k.MustAct("itagent", existing, "start")
		if res := k.As["itmgr"].Call("PATCH", "/api/v1/services/"+sid, map[string]any{"active": true}); res.Status != http.StatusOK {
			t.Fatalf("reactivate: %d %s", res.Status, res.Body)
		}
		k.Order("mktmember", "MKT", "NEVER", "After reactivation")
	})
}
