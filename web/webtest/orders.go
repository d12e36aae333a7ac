package webtest

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/requests"
	"github.com/tiski/tiski/testkit"
)

// OrderDesk is the fixture with services to order and everyone signed in
// (As, by persona name and by alias), and these people on top of the
// fixture's:
//
//	mktmgr      alias of manager, MKT's manager (approves MKT's requests, runs MKT's services)
//	mktmember2  a second member of MKT
//	itsdmember  a member of IT-SD
//
// Besides the kit's services, IT offers ALWAYS (fixed, always approved),
// NEVER (per_unit, never), THRESH (per_unit, threshold) and FORM (fixed,
// with a form); MKT offers DESIGN (hourly). Svc are their ids by code.
type OrderDesk struct {
	*Fixture
	As  map[string]*Client
	Svc map[string]string
}

// deskAliases are the order desk's former names of kit personas.
var deskAliases = map[string]string{"mktmgr": "manager"}

var deskExtraPeople = []struct{ name, unit, role string }{
	{"mktmember2", "MKT", "member"}, {"itsdmember", "IT-SD", "member"},
}

// NewOrderDesk is the fixture with services to order and more people signed in.
func NewOrderDesk(t *testing.T, d *db.DB) *OrderDesk {
	t.Helper()
	f := NewFixture(t, d)
	f.alias(deskAliases)
	for _, p := range deskExtraPeople {
		f.AddPerson(p.name, testkit.Grant{Unit: f.Units[p.unit], Role: p.role})
	}
	k := &OrderDesk{Fixture: f, As: f.LoginPersonas(), Svc: map[string]string{}}
	shareAliases(k.As, deskAliases)
	for _, p := range deskExtraPeople {
		k.As[p.name] = f.Login(p.name)
	}
	for code, s := range map[string]testkit.Service{"LAPTOP": f.Kit.Services.Laptop, "LICENCE": f.Kit.Services.Licence,
		"HELP": f.Kit.Services.Help, "PHONE": f.Kit.Services.Phone} {
		k.Svc[code] = ID(s.ID)
	}
	form := []map[string]any{
		{"key": "size", "label": "Size", "type": "choice", "required": true, "options": []string{"S", "M", "L"}},
		{"key": "note", "label": "Note", "type": "text"},
	}
	for _, s := range []struct {
		by, unit, code, model, policy string
		price                         int64
		fields                        any
	}{
		{"itmgr", "IT", "ALWAYS", "fixed", "always", 10000, nil},
		{"itmgr", "IT", "NEVER", "per_unit", "never", 5000, nil},
		{"itmgr", "IT", "THRESH", "per_unit", "threshold", 2500, nil},
		{"itmgr", "IT", "FORM", "fixed", "never", 1000, form},
		{"mktmgr", "MKT", "DESIGN", "hourly", "never", 9000, nil},
	} {
		body := map[string]any{"provider_unit_id": ID(f.Units[s.unit]), "code": s.code, "name": s.code + " service",
			"pricing_model": s.model, "approval_policy": s.policy, "price": EUR(s.price),
			"sla": map[string]any{"first_response_minutes": 60, "resolution_minutes": 480}}
		if s.fields != nil {
			body["fields"] = s.fields
		}
		res := k.As[s.by].Call("POST", "/api/v1/services", body)
		if res.Status != http.StatusCreated {
			t.Fatalf("create service %s: %d %s", s.code, res.Status, res.Body)
		}
		k.Svc[s.code] = res.Str("id")
	}
	return k
}

// EUR is an amount in euro cents as the API writes it.
func EUR(minor int64) map[string]any { return map[string]any{"amount_minor": minor, "currency": "EUR"} }

// File posts a request as the named person.
func (k *OrderDesk) File(as string, body map[string]any) Response {
	k.T.Helper()
	return k.As[as].Call("POST", "/api/v1/requests", body)
}

// Order files a request for the person's unit and fails the test unless it
// is created.
func (k *OrderDesk) Order(as, unit, service, title string, extra ...any) Response {
	k.T.Helper()
	body := map[string]any{"service_id": k.Svc[service], "consumer_unit_id": ID(k.Units[unit]), "title": title}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	res := k.File(as, body)
	if res.Status != http.StatusCreated {
		k.T.Fatalf("%s ordering %s: %d %s", as, service, res.Status, res.Body)
	}
	return res
}

// Act posts an action with the given version.
func (k *OrderDesk) Act(as, requestID, action string, version int64, extra ...any) Response {
	k.T.Helper()
	body := map[string]any{"action": action, "version": version}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return k.As[as].Call("POST", "/api/v1/requests/"+requestID+"/actions", body)
}

// MustAct takes an action with the request's current version and fails the
// test unless it succeeds.
func (k *OrderDesk) MustAct(as, requestID, action string, extra ...any) Response {
	k.T.Helper()
	res := k.Act(as, requestID, action, k.Row(requestID).Version, extra...)
	if res.Status != http.StatusOK {
		k.T.Fatalf("%s %s on %s: %d %s", as, action, requestID, res.Status, res.Body)
	}
	return res
}

// Row reads the request as stored.
func (k *OrderDesk) Row(requestID string) requests.Request {
	k.T.Helper()
	var r requests.Request
	if err := k.DB.NewSelect().Model(&r).Where("id = ?", requestID).Scan(context.Background()); err != nil {
		k.T.Fatalf("read request %s: %v", requestID, err)
	}
	return r
}

// Events counts the stored events of a request, of one action or all ("").
func (k *OrderDesk) Events(requestID, action string) int {
	k.T.Helper()
	q := k.DB.NewSelect().Model((*requests.Event)(nil)).Where("request_id = ?", requestID)
	if action != "" {
		q = q.Where("action = ?", action)
	}
	n, err := q.Count(context.Background())
	if err != nil {
		k.T.Fatal(err)
	}
	return int(n)
}

// ListIDs pages through GET /requests with the query and returns the ids
// in the order served.
func (k *OrderDesk) ListIDs(as, query string) []string {
	k.T.Helper()
	var ids []string
	cursor := ""
	for page := 0; page < 100; page++ {
		path := "/api/v1/requests?" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		res := k.As[as].Call("GET", path, nil)
		if res.Status != http.StatusOK {
			k.T.Fatalf("%s GET %s: %d %s", as, path, res.Status, res.Body)
		}
		for _, it := range res.Items() {
			ids = append(ids, it["id"].(string))
		}
		if cursor = res.Str("next_cursor"); cursor == "" {
			return ids
		}
	}
	k.T.Fatalf("%s GET /requests?%s did not end", as, query)
	return nil
}

// ServiceBody is a valid new IT service; edit changes it before sending.
func ServiceBody(k *OrderDesk, code, model string, edit func(map[string]any)) map[string]any {
	b := map[string]any{"provider_unit_id": ID(k.Units["IT"]), "code": code, "name": code + " service", "category": "hardware",
		"pricing_model": model, "approval_policy": "never", "price": EUR(12345), "unit_label": "piece",
		"sla": map[string]any{"first_response_minutes": 30, "resolution_minutes": 600}}
	if edit != nil {
		edit(b)
	}
	return b
}

// TodayPlus is the organisation's calendar date (the fixture's
// Europe/Helsinki) days from today.
func TodayPlus(days int) string {
	loc := helsinki
	return time.Now().In(loc).AddDate(0, 0, days).Format(catalog.DateLayout)
}
