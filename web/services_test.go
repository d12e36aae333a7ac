package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
)

// serviceBody is a valid new IT service; edit changes it before sending.
func serviceBody(k *orderDesk, code, model string, edit func(map[string]any)) map[string]any {
	b := map[string]any{"provider_unit_id": id(k.units["IT"]), "code": code, "name": code + " service", "category": "hardware",
		"pricing_model": model, "approval_policy": "never", "price": eur(12345), "unit_label": "piece",
		"sla": map[string]any{"first_response_minutes": 30, "resolution_minutes": 600}}
	if edit != nil {
		edit(b)
	}
	return b
}

// todayPlus is the organisation's calendar date (the fixture's
// Europe/Helsinki) days from today.
func todayPlus(days int) string {
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		panic(err)
	}
	return time.Now().In(loc).AddDate(0, 0, days).Format(catalog.DateLayout)
}

// TestServiceCatalogOverAPI creates services in each pricing model and
// checks every refusal of a bad one writes nothing.
func TestServiceCatalogOverAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		for _, model := range []string{"fixed", "per_unit", "hourly", "monthly"} {
			code := "NEW-" + strings.ToUpper(model)
			form := []map[string]any{
				{"key": "model", "label": "Model", "type": "choice", "required": true, "options": []string{"a", "b"}},
				{"key": "due", "label": "Due", "type": "date"}, {"key": "count", "label": "Count", "type": "number"},
				{"key": "why", "label": "Why", "type": "text"},
			}
			res := k.as["itmgr"].call("POST", "/api/v1/services", serviceBody(k, code, model, func(b map[string]any) { b["fields"] = form }))
			if res.status != http.StatusCreated || res.str("pricing_model") != model || res.str("code") != code ||
				amountMinor(res, "price") != 12345 || res.str("provider_unit_id") != id(k.units["IT"]) || res.json["active"] != true {
				t.Fatalf("create %s: %d %s", model, res.status, res.body)
			}
			got := k.as["mktmember"].call("GET", "/api/v1/services/"+res.str("id"), nil)
			sla, _ := got.json["sla"].(map[string]any)
			fields, _ := got.json["fields"].([]any)
			rates, _ := got.json["rates"].([]any)
			if got.status != http.StatusOK || sla["first_response_minutes"] != float64(30) || sla["resolution_minutes"] != float64(600) ||
				len(fields) != 4 || len(rates) != 1 || rates[0].(map[string]any)["effective_from"] != todayPlus(0) {
				t.Errorf("GET %s: %d %s", model, got.status, got.body)
			}
		}

		bad := func(key string, v any) func(map[string]any) { return func(b map[string]any) { b[key] = v } }
		field := func(f ...map[string]any) func(map[string]any) { return bad("fields", f) }
		text := func(key string) map[string]any { return map[string]any{"key": key, "label": "L", "type": "text"} }
		cases := []struct {
			name   string
			as     string
			body   any
			status int
		}{
			{"bad field key", "itmgr", serviceBody(k, "B1", "fixed", field(text("Bad Key"))), 422},
			{"field key starting with a digit", "itmgr", serviceBody(k, "B1", "fixed", field(text("1st"))), 422},
			{"duplicate field key", "itmgr", serviceBody(k, "B1", "fixed", field(text("a"), text("a"))), 422},
			{"choice without options", "itmgr", serviceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "label": "C", "type": "choice"})), 422},
			{"options on a text field", "itmgr", serviceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "label": "C", "type": "text", "options": []string{"x"}})), 422},
			{"bad field type", "itmgr", serviceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "label": "C", "type": "colour"})), 422},
			{"field without label", "itmgr", serviceBody(k, "B1", "fixed", field(map[string]any{"key": "c", "type": "text"})), 422},
			{"SLA zero", "itmgr", serviceBody(k, "B1", "fixed", bad("sla", map[string]any{"first_response_minutes": 0, "resolution_minutes": 60})), 422},
			{"SLA negative", "itmgr", serviceBody(k, "B1", "fixed", bad("sla", map[string]any{"first_response_minutes": 10, "resolution_minutes": -60})), 422},
			{"SLA resolution before response", "itmgr", serviceBody(k, "B1", "fixed", bad("sla", map[string]any{"first_response_minutes": 100, "resolution_minutes": 60})), 422},
			{"SLA missing", "itmgr", serviceBody(k, "B1", "fixed", func(b map[string]any) { delete(b, "sla") }), 422},
			{"price in USD", "itmgr", serviceBody(k, "B1", "fixed", bad("price", map[string]any{"amount_minor": 100, "currency": "USD"})), 422},
			{"fractional minor units", "itmgr", []byte(`{"provider_unit_id":"` + id(k.units["IT"]) + `","code":"B1","name":"B","pricing_model":"fixed",` +
				`"price":{"amount_minor":12.5,"currency":"EUR"},"sla":{"first_response_minutes":1,"resolution_minutes":2}}`), 422},
			{"negative price", "itmgr", serviceBody(k, "B1", "fixed", bad("price", eur(-1))), 422},
			{"price missing", "itmgr", serviceBody(k, "B1", "fixed", func(b map[string]any) { delete(b, "price") }), 422},
			{"unknown pricing model", "itmgr", serviceBody(k, "B1", "barter", nil), 422},
			{"unknown approval policy", "itmgr", serviceBody(k, "B1", "fixed", bad("approval_policy", "sometimes")), 422},
			{"bad code", "itmgr", serviceBody(k, "b 1/x", "fixed", nil), 422},
			{"no name", "itmgr", serviceBody(k, "B1", "fixed", bad("name", "")), 422},
			{"duplicate code", "itmgr", serviceBody(k, "never", "fixed", nil), 409},
			{"a member of the unit", "itagent", serviceBody(k, "B1", "fixed", nil), 403},
			{"a member of another unit", "mktmember", serviceBody(k, "B1", "fixed", nil), 403},
			{"another unit's manager", "mktmgr", serviceBody(k, "B1", "fixed", nil), 403},
			{"admin is not a provider manager", "admin", serviceBody(k, "B1", "fixed", nil), 403},
		}
		tables := []string{"services", "service_rates"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = k.count(tb)
		}
		for _, c := range cases {
			if res := k.as[c.as].call("POST", "/api/v1/services", c.body); res.status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.status)
			}
		}
		for _, tb := range tables {
			if got := k.count(tb); got != before[tb] {
				t.Errorf("refused services wrote %d rows to %s", got-before[tb], tb)
			}
		}
		// The manager of an ancestor unit runs the unit's services too.
		if res := k.as["groupmgr"].call("POST", "/api/v1/services", serviceBody(k, "BY-GROUP", "fixed", nil)); res.status != http.StatusCreated {
			t.Errorf("ancestor manager creates: %d %s", res.status, res.body)
		}

		svc := "/api/v1/services/" + k.svc["NEVER"]
		for _, who := range []string{"mktmember", "itagent", "mktmgr", "finance", "admin"} {
			if res := k.as[who].call("PATCH", svc, map[string]any{"name": "Hijacked"}); res.status != http.StatusForbidden {
				t.Errorf("PATCH by %s = %d %s", who, res.status, res.body)
			}
			if res := k.as[who].call("POST", svc+"/rates", map[string]any{"price": eur(1), "effective_from": todayPlus(3)}); res.status != http.StatusForbidden {
				t.Errorf("rate by %s = %d %s", who, res.status, res.body)
			}
		}
		for name, body := range map[string]map[string]any{
			"price by PATCH":  {"price": eur(1)},
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
			if res := k.as["itmgr"].call("PATCH", path, body); res.status != want {
				t.Errorf("%s: %d %s, want %d", name, res.status, res.body, want)
			}
		}
		res := k.as["itmgr"].call("PATCH", svc, map[string]any{"name": "Monitors", "sla": map[string]any{"first_response_minutes": 15, "resolution_minutes": 120}})
		if res.status != http.StatusOK || res.str("name") != "Monitors" || res.json["sla"].(map[string]any)["resolution_minutes"] != float64(120) {
			t.Errorf("PATCH by the manager: %d %s", res.status, res.body)
		}
		if row, err := catalogService(k, k.svc["NEVER"]); err != nil || row.Name != "Monitors" || row.SLAResolutionMinutes != 120 {
			t.Errorf("stored after PATCH: %+v %v", row, err)
		}
	})
}

func catalogService(k *orderDesk, serviceID string) (*catalog.Service, error) {
	s := new(catalog.Service)
	return s, k.d.NewSelect().Model(s).Where("id = ?", serviceID).Scan(k.t.Context())
}

// TestRatesKeepHistoryAndQuotesStay checks effective-dated rates: future
// ones queue up, the past is closed, one rate per date, and a request keeps
// the price it was quoted.
func TestRatesKeepHistoryAndQuotesStay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		res := k.as["itmgr"].call("POST", "/api/v1/services", serviceBody(k, "CABLE", "per_unit", func(b map[string]any) {
			b["price"], b["effective_from"] = eur(1000), "2020-01-01"
		}))
		if res.status != http.StatusCreated || amountMinor(res, "price") != 1000 {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		sid := res.str("id")
		rates := "/api/v1/services/" + sid + "/rates"
		addRate := func(minor int64, from string) response {
			return k.as["itmgr"].call("POST", rates, map[string]any{"price": eur(minor), "effective_from": from})
		}
		if res := addRate(1500, todayPlus(0)); res.status != http.StatusCreated || res.str("effective_from") != todayPlus(0) || amountMinor(res, "price") != 1500 {
			t.Fatalf("rate from today: %d %s", res.status, res.body)
		}
		quoted := k.order("mktmember", "MKT", "", "Cables", "service_id", sid, "quantity", "3")
		rid := quoted.str("id")
		if amountMinor(quoted, "unit_price") != 1500 || amountMinor(quoted, "estimate") != 4500 {
			t.Fatalf("quote today: %s", quoted.body)
		}

		rows := k.count("service_rates")
		for _, c := range []struct {
			name   string
			minor  int64
			from   string
			status int
		}{
			{"yesterday", 900, todayPlus(-1), 422},
			{"long ago", 900, "2021-06-01", 422},
			{"today again", 1600, todayPlus(0), 409},
			{"not a date", 1600, "next week", 422},
			{"impossible date", 1600, "2030-02-30", 422},
		} {
			if res := addRate(c.minor, c.from); res.status != c.status {
				t.Errorf("rate %s: %d %s, want %d", c.name, res.status, res.body, c.status)
			}
		}
		for name, body := range map[string][]byte{
			"USD":        []byte(`{"price":{"amount_minor":100,"currency":"USD"},"effective_from":"` + todayPlus(5) + `"}`),
			"fractional": []byte(`{"price":{"amount_minor":100.5,"currency":"EUR"},"effective_from":"` + todayPlus(5) + `"}`),
			"negative":   []byte(`{"price":{"amount_minor":-100,"currency":"EUR"},"effective_from":"` + todayPlus(5) + `"}`),
			"no price":   []byte(`{"effective_from":"` + todayPlus(5) + `"}`),
		} {
			if res := k.as["itmgr"].call("POST", rates, body); res.status != http.StatusUnprocessableEntity {
				t.Errorf("rate %s: %d %s", name, res.status, res.body)
			}
		}
		if got := k.count("service_rates"); got != rows {
			t.Errorf("refused rates wrote %d rows", got-rows)
		}

		if res := addRate(2000, todayPlus(30)); res.status != http.StatusCreated {
			t.Fatalf("future rate: %d %s", res.status, res.body)
		}
		if res := addRate(2500, todayPlus(60)); res.status != http.StatusCreated {
			t.Fatalf("second future rate: %d %s", res.status, res.body)
		}
		if res := addRate(2600, todayPlus(60)); res.status != http.StatusConflict || res.errorCode() != "duplicate_rate" {
			t.Errorf("same date twice: %d %s", res.status, res.body)
		}
		got := k.as["mktmember"].call("GET", "/api/v1/services/"+sid, nil)
		var history []string
		for _, r := range got.json["rates"].([]any) {
			m := r.(map[string]any)
			history = append(history, m["effective_from"].(string)+"="+id(int64(m["price"].(map[string]any)["amount_minor"].(float64))))
		}
		want := []string{todayPlus(60) + "=2500", todayPlus(30) + "=2000", todayPlus(0) + "=1500", "2020-01-01=1000"}
		if !slices.Equal(history, want) {
			t.Errorf("rates = %v, want %v", history, want)
		}
		if amountMinor(got, "price") != 1500 {
			t.Errorf("price in force today = %d", amountMinor(got, "price"))
		}

		// The request filed before the rate changes keeps its quote; a new one
		// today is still quoted today's rate.
		again := k.as["mktmember"].call("GET", "/api/v1/requests/"+rid, nil)
		if amountMinor(again, "unit_price") != 1500 || amountMinor(again, "estimate") != 4500 || again.str("rate_id") != quoted.str("rate_id") {
			t.Errorf("quote after rate change: %s", again.body)
		}
		if row := k.row(rid); row.UnitPriceMinor != 1500 || row.EstimateMinor != 4500 {
			t.Errorf("stored quote: %d × → %d", row.UnitPriceMinor, row.EstimateMinor)
		}
		if res := k.order("mktmember", "MKT", "", "More cables", "service_id", sid); amountMinor(res, "unit_price") != 1500 {
			t.Errorf("new request today quoted %d", amountMinor(res, "unit_price"))
		}
	})
}

// TestInactiveServiceCannotBeOrdered deactivates a service: it disappears
// from the catalog unless asked for, and new orders are refused.
func TestInactiveServiceCannotBeOrdered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newOrderDesk(t, d)
		sid := k.svc["NEVER"]
		existing := k.order("mktmember", "MKT", "NEVER", "Before retirement").str("id")
		listed := func(query string) bool {
			res := k.as["mktmember"].call("GET", "/api/v1/services?limit=200"+query, nil)
			if res.status != http.StatusOK {
				t.Fatalf("GET /services%s: %d %s", query, res.status, res.body)
			}
			return slices.ContainsFunc(res.items(), func(s map[string]any) bool { return s["id"] == sid })
		}
		if !listed("") {
			t.Fatal("active service not listed")
		}
		res := k.as["itmgr"].call("PATCH", "/api/v1/services/"+sid, map[string]any{"active": false})
		if res.status != http.StatusOK || res.json["active"] != false {
			t.Fatalf("deactivate: %d %s", res.status, res.body)
		}
		if listed("") {
			t.Error("inactive service listed by default")
		}
		if !listed("&include_inactive=true") {
			t.Error("inactive service missing with include_inactive=true")
		}
		rows := k.count("requests")
		res = k.file("mktmember", map[string]any{"service_id": sid, "consumer_unit_id": id(k.units["MKT"]), "title": "After retirement"})
		if res.status != http.StatusUnprocessableEntity || k.count("requests") != rows {
			t.Errorf("order of an inactive service: %d %s", res.status, res.body)
		}
		// Work already ordered goes on.
		k.mustAct("itagent", existing, "start")
		if res := k.as["itmgr"].call("PATCH", "/api/v1/services/"+sid, map[string]any{"active": true}); res.status != http.StatusOK {
			t.Fatalf("reactivate: %d %s", res.status, res.body)
		}
		k.order("mktmember", "MKT", "NEVER", "After reactivation")
	})
}
