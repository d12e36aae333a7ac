package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
)

// TestSubscriptionCommands lists a demo unit's subscriptions and ends one
// today from the command line; a malformed or too early date is refused and
// ends nothing.
func TestSubscriptionCommands(t *testing.T) {
	url := dbtest.NewURL(t, "sqlite")
	if out, err := runCmd(t, "", "demo", "--db", url); err != nil {
		t.Fatalf("tiski demo: %v\n%s", err, out)
	}
	d := dbtest.OpenURL(t, url)
	var sub struct {
		ID        int64  `bun:"id"`
		Code      string `bun:"code"`
		StartDate string `bun:"start_date"`
	}
	if err := d.NewSelect().TableExpr("subscriptions AS s").Join("JOIN units AS u ON u.id = s.consumer_unit_id").
		ColumnExpr("s.id, u.code, s.start_date").Where("s.end_date IS NULL").OrderExpr("s.id").Limit(1).Scan(context.Background(), &sub); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(sub.ID, 10)
	out, err := runCmd(t, "", "subscription", "list", "--unit", sub.Code, "--db", url)
	if err != nil || !strings.Contains(out, "\n"+id+" ") || !strings.Contains(out, sub.StartDate) {
		t.Fatalf("subscription list: %v\n%s", err, out)
	}
	for _, bad := range []string{"2026-02-30", "1999-12-31"} {
		if _, err := runCmd(t, "", "subscription", "end", id, "--date", bad, "--db", url); err == nil {
			t.Fatalf("an end on %s was accepted", bad)
		}
	}
	loc, _ := time.LoadLocation(demo.TimeZone)
	today := time.Now().In(loc).Format("2006-01-02")
	out, err = runCmd(t, "", "subscription", "end", id, "--date", today, "--db", url)
	if err != nil || !strings.Contains(out, "ends on "+today) {
		t.Fatalf("subscription end: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "", "subscription", "end", id, "--date", today, "--db", url); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Fatalf("ending twice: %v", err)
	}
	if out, err := runCmd(t, "", "verify", "--db", url); err != nil {
		t.Fatalf("verify after the end: %v\n%s", err, out)
	}
}
