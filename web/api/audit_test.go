package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/web/webtest"
)

// auditDesk is a charge desk with a disputed, partly credited charge of
// MKT's and a refused period close, so the trail holds money events,
// people events and a refusal.
type auditDesk struct {
	*webtest.ChargeDesk
	charge, dispute, month string
}

func newAuditDesk(t *testing.T, d *db.DB) *auditDesk {
	k := &auditDesk{ChargeDesk: webtest.NewChargeDesk(t, d)}
	k.Service("DOCK", "fixed", "never", 12000)
	rid := k.Order("mktmember", "MKT", "DOCK", "Docking station").Str("id")
	k.Fulfil(rid)
	k.charge = k.ChargesOf(rid)[0]["id"].(string)
	res := k.As["mktmgr"].Call("POST", "/api/v1/charges/"+k.charge+"/disputes", map[string]any{"reason": "the dock was second-hand"})
	if res.Status != http.StatusCreated {
		t.Fatalf("raise: %d %s", res.Status, res.Body)
	}
	k.dispute = res.Str("id")
	res = k.As["finance"].Call("POST", "/api/v1/disputes/"+k.dispute+"/actions", map[string]any{"action": "accept", "credit_minor": 4500, "note": "half"})
	if res.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", res.Status, res.Body)
	}
	k.month = time.Now().In(webtest.ChargeLocation(t)).Format("2006-01")
	// the auditor changes nothing: a refusal the trail keeps
	if res := k.As["auditor"].Call("POST", "/api/v1/periods/"+k.month+"/actions", map[string]any{"action": "close"}); res.Status != http.StatusForbidden {
		t.Fatalf("the auditor closing the month: %d %s", res.Status, res.Body)
	}
	return k
}

// trail pages through GET /audit as the person and returns every entry.
func (k *auditDesk) trail(as, query string) []map[string]any {
	k.T.Helper()
	var out []map[string]any
	cursor := ""
	for range 200 {
		q := url.Values{}
		if query != "" {
			var err error
			if q, err = url.ParseQuery(query); err != nil {
				k.T.Fatal(err)
			}
		}
		q.Set("limit", "3")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res := k.As[as].Call("GET", "/api/v1/audit?"+q.Encode(), nil)
		if res.Status != http.StatusOK {
			k.T.Fatalf("%s GET /audit?%s: %d %s", as, q.Encode(), res.Status, res.Body)
		}
		out = append(out, res.Items()...)
		if cursor = res.Str("next_cursor"); cursor == "" {
			return out
		}
	}
	k.T.Fatalf("the audit trail of %s does not end", as)
	return nil
}

func entryWith(entries []map[string]any, objectType, objectID, action string) map[string]any {
	for _, e := range entries {
		if e["object_type"] == objectType && (objectID == "" || e["object_id"] == objectID) && e["action"] == action {
			return e
		}
	}
	return nil
}

func entryID(t *testing.T, e map[string]any) int64 {
	t.Helper()
	id, err := strconv.ParseInt(e["id"].(string), 10, 64)
	if err != nil {
		t.Fatalf("entry id %v: %v", e["id"], err)
	}
	return id
}

// TestAuditTrailReadsInWords: issue 12, item 1. Each entry says who, when,
// what, before and after, and a sentence in the reader's language; newest
// first; pages by a signed cursor without repeats.
func TestAuditTrailReadsInWords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newAuditDesk(t, d)
		all := k.trail("auditor", "")
		seen := map[string]bool{}
		for i, e := range all {
			id := e["id"].(string)
			if seen[id] {
				t.Fatalf("entry %s twice in the pages", id)
			}
			seen[id] = true
			if i > 0 && entryID(t, e) >= entryID(t, all[i-1]) {
				t.Errorf("entry %s after %s: not newest first", id, all[i-1]["id"])
			}
			if e["sentence"] == "" || e["at"] == "" {
				t.Errorf("entry without words: %v", e)
			}
		}
		if n := k.Count("audit_events"); len(all) != n {
			t.Errorf("the auditor reads %d of %d events", len(all), n)
		}

		accept := entryWith(all, "dispute", k.dispute, "accept")
		if accept == nil {
			t.Fatalf("no accept of dispute %s in %v", k.dispute, all)
		}
		actor, _ := accept["actor"].(map[string]any)
		before, _ := accept["before"].(map[string]any)
		after, _ := accept["after"].(map[string]any)
		if actor["name"] != "finance" || actor["id"] != webtest.ID(k.Users["finance"]) || before["Status"] != "open" || after["Status"] != "accepted" ||
			accept["refused"] != false {
			t.Errorf("accept entry = %v", accept)
		}
		if want := "finance accepted dispute " + k.dispute + ": credit €45.00"; accept["sentence"] != want {
			t.Errorf("sentence = %q, want %q", accept["sentence"], want)
		}
		if raise := entryWith(all, "dispute", k.dispute, "raise"); raise == nil ||
			raise["sentence"] != "manager disputed charge "+k.charge+" (dispute "+k.dispute+"): “the dock was second-hand”" {
			t.Errorf("raise entry = %v", raise)
		}

		refused := entryWith(all, "period", k.month, "refuse")
		if refused == nil || refused["refused"] != true || refused["sentence"] != "Refused: auditor tried to close period "+k.month+": Only finance reviews and closes periods" {
			t.Errorf("refusal entry = %v", refused)
		}

		if _, err := d.NewUpdate().Table("users").Set("locale = 'fi'").Where("id = ?", k.Users["auditor"]).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi := k.trail("auditor", "object_type=dispute&action=accept")
		// Finnish money reads 45,00 € with a no-break space
		if len(fi) != 1 || fi[0]["sentence"] != "finance hyväksyi riidan "+k.dispute+": hyvitys 45,00\u00a0€" {
			t.Errorf("in Finnish: %v", fi)
		}
	})
}

// TestAuditTrailVisibility: the auditor reads everything, finance the
// money trail, a manager the trail of their units' requests and charges
// (a foreign unit's: nothing), anyone else is refused.
func TestAuditTrailVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newAuditDesk(t, d)
		if entryWith(k.trail("auditor", "object_type=user"), "user", "", "create") == nil {
			t.Error("the auditor does not read the users' trail")
		}
		fin := k.trail("finance", "")
		for _, e := range fin {
			switch e["object_type"] {
			case "user", "unit", "calendar", "request":
				t.Errorf("finance reads a %s event: %v", e["object_type"], e)
			}
		}
		for _, want := range [][2]string{{"dispute", "accept"}, {"charge", "credited"}, {"period", "refuse"}, {"service", "create"}, {"grant", "grant"}} {
			if entryWith(fin, want[0], "", want[1]) == nil {
				t.Errorf("finance does not read %s %s", want[0], want[1])
			}
		}

		for _, who := range []string{"mktmgr", "groupmgr", "itmgr"} {
			mine := k.trail(who, "")
			if entryWith(mine, "dispute", k.dispute, "accept") == nil || entryWith(mine, "charge", k.charge, "disputed") == nil {
				t.Errorf("%s does not read the trail of charge %s: %v", who, k.charge, mine)
			}
			for _, e := range mine {
				if e["object_type"] != "charge" && e["object_type"] != "dispute" && e["object_type"] != "request" {
					t.Errorf("%s reads a %s event: %v", who, e["object_type"], e)
				}
			}
		}
		if foreign := k.trail("hrmgr", "object_type=charge&object_id="+k.charge); len(foreign) != 0 {
			t.Errorf("HR's manager reads MKT's charge: %v", foreign)
		}
		if foreign := k.trail("hrmgr", ""); len(foreign) != 0 {
			t.Errorf("HR's manager reads: %v", foreign)
		}
		for _, who := range []string{"mktmember", "itagent", "admin", "nobody"} {
			for _, path := range []string{"/api/v1/audit", "/api/v1/audit.csv"} {
				if res := k.As[who].Call("GET", path, nil); res.Status != http.StatusForbidden || res.Header.Get("Content-Disposition") != "" {
					t.Errorf("%s GET %s = %d %s", who, path, res.Status, res.Body)
				}
			}
		}
		if res := webtest.NewClient(t, k.Srv.URL).Call("GET", "/api/v1/audit", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("anonymous GET /audit = %d", res.Status)
		}
	})
}

// TestAuditTrailFilters: each filter narrows, a malformed one is a 422
// naming its field.
func TestAuditTrailFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newAuditDesk(t, d)
		today := time.Now().In(webtest.ChargeLocation(t))
		for _, c := range []struct {
			query string
			keep  func(e map[string]any) bool
		}{
			{"object_type=dispute&object_id=" + k.dispute, func(e map[string]any) bool { return e["object_type"] == "dispute" && e["object_id"] == k.dispute }},
			{"action=refuse", func(e map[string]any) bool { return e["refused"] == true }},
			{"actor_id=" + webtest.ID(k.Users["mktmgr"]), func(e map[string]any) bool {
				a, _ := e["actor"].(map[string]any)
				return a != nil && a["name"] == "manager"
			}},
			{"from=" + today.Format("2006-01-02") + "&to=" + today.Format("2006-01-02"), func(map[string]any) bool { return true }},
		} {
			got := k.trail("auditor", c.query)
			if len(got) == 0 {
				t.Errorf("%s: nothing", c.query)
			}
			for _, e := range got {
				if !c.keep(e) {
					t.Errorf("%s kept %v", c.query, e)
				}
			}
		}
		for _, query := range []string{"from=" + today.AddDate(0, 0, 1).Format("2006-01-02"), "to=" + today.AddDate(0, 0, -1).Format("2006-01-02"),
			"from=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)} {
			if got := k.trail("auditor", query); len(got) != 0 {
				t.Errorf("%s: %d entries", query, len(got))
			}
		}
		for query, field := range map[string]string{"from=yesterday": "from", "to=2026-13-01": "to", "from=2026-12-02&to=2026-12-01": "to",
			"actor_id=sanna": "actor_id", "cursor=forged": "cursor", "limit=0": "limit"} {
			for _, path := range []string{"/api/v1/audit?", "/api/v1/audit.csv?"} {
				if path == "/api/v1/audit.csv?" && (field == "cursor" || field == "limit") {
					continue // the file is not paged
				}
				res := k.As["auditor"].Call("GET", path+query, nil)
				errBody, _ := res.JSON["error"].(map[string]any)
				details, _ := errBody["details"].(map[string]any)
				if res.Status != http.StatusUnprocessableEntity || details["field"] != field {
					t.Errorf("%s%s = %d %s, want 422 on %s", path, query, res.Status, res.Body, field)
				}
			}
		}
	})
}

// TestAuditTrailCSV: the file holds the same filtered trail, in words, in
// the reader's dialect.
func TestAuditTrailCSV(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newAuditDesk(t, d)
		list := k.trail("finance", "object_type=dispute")
		res := k.As["finance"].Call("GET", "/api/v1/audit.csv?object_type=dispute", nil)
		if res.Status != http.StatusOK || res.Header.Get("Content-Disposition") != `attachment; filename="audit.csv"` {
			t.Fatalf("audit.csv: %d %v", res.Status, res.Header)
		}
		records, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil || len(records) != 1+len(list) || strings.Join(records[0], ",") != "id,at,actor_id,actor,object_type,object_id,action,sentence,before,after" {
			t.Fatalf("audit.csv = %v %q", err, records)
		}
		for i, e := range list {
			if rec := records[1+i]; rec[0] != e["id"] || rec[7] != e["sentence"] || rec[4] != "dispute" {
				t.Errorf("row %d = %q, entry %v", i, rec, e)
			}
		}
	})
}
