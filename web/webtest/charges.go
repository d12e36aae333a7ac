package webtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/billing"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

// ChargeZone is the charge desk organisation's time zone.
const ChargeZone = testkit.TimeZone

// ChargeDesk is the order desk plus hrmgr, the manager of a unit that
// neither orders from nor provides to anyone in these tests: the kit's FIN,
// also called HR (its former name). IT's manager opens services priced from
// 2020 so a rate from today is a real change.
type ChargeDesk struct {
	*OrderDesk
}

// NewChargeDesk builds the charge desk over d.
func NewChargeDesk(t *testing.T, d *db.DB) *ChargeDesk {
	t.Helper()
	k := &ChargeDesk{NewOrderDesk(t, d)}
	k.alias(map[string]string{"HR": "FIN"})
	k.AddPerson("hrmgr", testkit.Grant{Unit: k.Units["FIN"], Role: "manager"})
	k.As["hrmgr"] = k.Login("hrmgr")
	return k
}

// Service creates an IT service priced from 2020-01-01 and returns its id.
func (k *ChargeDesk) Service(code, model, approval string, priceMinor int64) string {
	k.T.Helper()
	res := k.As["itmgr"].Call("POST", "/api/v1/services", ServiceBody(k.OrderDesk, code, model, func(b map[string]any) {
		b["price"], b["effective_from"], b["approval_policy"] = EUR(priceMinor), "2020-01-01", approval
	}))
	if res.Status != http.StatusCreated {
		k.T.Fatalf("create %s: %d %s", code, res.Status, res.Body)
	}
	k.Svc[code] = res.Str("id")
	return res.Str("id")
}

// Rate adds a rate to a service as IT's manager.
func (k *ChargeDesk) Rate(serviceID string, priceMinor int64, from string) {
	k.T.Helper()
	res := k.As["itmgr"].Call("POST", "/api/v1/services/"+serviceID+"/rates", map[string]any{"price": EUR(priceMinor), "effective_from": from})
	if res.Status != http.StatusCreated {
		k.T.Fatalf("rate %d from %s: %d %s", priceMinor, from, res.Status, res.Body)
	}
}

// Start takes a freshly filed request to in progress: MKT's manager approves
// it when it waits for approval, IT's agent takes it and starts.
func (k *ChargeDesk) Start(rid string) {
	k.T.Helper()
	if k.Row(rid).Status == "pending_approval" {
		k.MustAct("mktmgr", rid, "approve")
	}
	k.MustAct("itagent", rid, "assign", "assignee_id", ID(k.Users["itagent"]))
	k.MustAct("itagent", rid, "start")
}

// Fulfil starts a request and resolves it as IT's agent.
func (k *ChargeDesk) Fulfil(rid string) {
	k.T.Helper()
	k.Start(rid)
	k.MustAct("itagent", rid, "resolve")
}

// Charges pages through GET /charges as the person and returns the items.
func (k *ChargeDesk) Charges(as, query string) []map[string]any {
	k.T.Helper()
	var out []map[string]any
	cursor := ""
	for range 100 {
		path := "/api/v1/charges?limit=200" + query
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := k.As[as].Call("GET", path, nil)
		if res.Status != http.StatusOK {
			k.T.Fatalf("%s GET %s: %d %s", as, path, res.Status, res.Body)
		}
		out = append(out, res.Items()...)
		if cursor = res.Str("next_cursor"); cursor == "" {
			return out
		}
	}
	k.T.Fatalf("GET /charges as %s did not end", as)
	return nil
}

// ChargesOf returns the charges of one request as finance sees them.
func (k *ChargeDesk) ChargesOf(rid string) []map[string]any {
	k.T.Helper()
	var out []map[string]any
	for _, c := range k.Charges("finance", "") {
		if c["request_id"] == rid {
			out = append(out, c)
		}
	}
	return out
}

// MustVerify fails the test unless the books verify.
func (k *ChargeDesk) MustVerify() {
	k.T.Helper()
	breaches, err := billing.Verify(context.Background(), k.DB)
	if err != nil || len(breaches) != 0 {
		k.T.Fatalf("verify: %v %v", breaches, err)
	}
}

// CountWhere counts rows of a table matching a condition.
func (k *ChargeDesk) CountWhere(table, where string, args ...any) int {
	k.T.Helper()
	n, err := k.DB.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		k.T.Fatal(err)
	}
	return int(n)
}

// Balance is the sum of the unit's postings.
func (k *ChargeDesk) Balance(unit string) int64 {
	k.T.Helper()
	var sum int64
	err := k.DB.NewRaw(`SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.unit_id = ?`,
		k.Units[unit]).Scan(context.Background(), &sum)
	if err != nil {
		k.T.Fatal(err)
	}
	return sum
}

// helsinki is the fixture organisations' zone: the standard test
// organisation's, resolved once.
var helsinki = testkit.Helsinki

// ChargeLocation is ChargeZone as a location.
func ChargeLocation(t *testing.T) *time.Location { return helsinki }

// CloseOnceEnded closes month as finance would once it has ended: the
// server runs on the wall clock, in which the month of a test's charges has
// not ended yet.
func CloseOnceEnded(t *testing.T, d *db.DB, month string) {
	t.Helper()
	ended, _ := time.Parse("2006-01", billing.NextMonth(month))
	org, err := units.LoadOrganisation(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.InTx(context.Background(), func(tx bun.Tx) error {
		_, err := billing.MovePeriod(context.Background(), tx, billing.Operator(0), month, "close", org.Location, ended.AddDate(0, 0, 2))
		return err
	}); err != nil {
		t.Fatalf("close %s once it ended: %v", month, err)
	}
}
