package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/units"
)

// TestServeTakesMailFromARelay: on `tiski serve --demo`, an operator makes
// a relay token for the admin, the admin gives IT its inbound address, and
// a message a relay POSTs to /api/v1/mail/inbound from a person of one unit
// becomes a request of theirs over e-mail; the same message again files
// nothing more.
func TestServeTakesMailFromARelay(t *testing.T) {
	url := dbtest.NewURL(t, "sqlite")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--db", url}, strings.NewReader(""), &out, &errOut)
	}()
	base := waitFor(t, &out, regexp.MustCompile(`serving on (http://\S+)`))
	if o, err := runCmd(t, "", "user", "add", "--db", url, "--email", "pia.piirainen@tiski.example", "--name", "Pia Piirainen"); err != nil {
		t.Fatalf("user add: %v\n%s", err, o)
	}
	o, err := runCmd(t, "", "token", "create", "--db", url, "--email", demo.People[0].Email, "--name", "mail relay")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, o)
	}
	lines := strings.Split(strings.TrimSpace(o), "\n")
	token := lines[len(lines)-1]

	d := dbtest.OpenURL(t, url)
	pia, err := units.GetUserByEmail(ctx, d, "pia.piirainen@tiski.example")
	if err != nil {
		t.Fatal(err)
	}
	finance, err := units.GetUnitByCode(ctx, d, "CC-1300")
	if err != nil {
		t.Fatal(err)
	}
	it, err := units.GetUnitByCode(ctx, d, "CC-1100")
	if err != nil {
		t.Fatal(err)
	}
	var onsite int64
	if err := d.NewSelect().Table("services").Column("id").Where("code = ?", "IT-ONSITE").Scan(ctx, &onsite); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, contentType string, body []byte) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(res.Body).Decode(&v)
		return res.StatusCode, v
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	if status, v := call("POST", "/api/v1/units/"+id(finance.ID)+"/members", "application/json",
		[]byte(`{"user_id":"`+id(pia.ID)+`","role":"member"}`)); status >= 300 {
		t.Fatalf("add Pia to Finance: %d %v", status, v)
	}
	if status, v := call("PUT", "/api/v1/units/"+id(it.ID)+"/inbound-address", "application/json",
		[]byte(`{"address":"it-desk@tiski.example","default_service_id":"`+id(onsite)+`"}`)); status != http.StatusOK {
		t.Fatalf("IT's inbound address: %d %v", status, v)
	}
	raw := []byte(strings.ReplaceAll("From: Pia Piirainen <pia.piirainen@tiski.example>\nTo: it-desk@tiski.example\n"+
		"Subject: Printer on floor 3 jams\nMessage-ID: <relay-1@mail.tiski.example>\nContent-Type: text/plain; charset=utf-8\n\n"+
		"Every second page jams.\n", "\n", "\r\n"))
	status, v := call("POST", "/api/v1/mail/inbound", "message/rfc822", raw)
	if status != http.StatusAccepted || v["outcome"] != "request" {
		t.Fatalf("inbound: %d %v", status, v)
	}
	var filed []struct {
		ID          int64  `bun:"id"`
		Title       string `bun:"title"`
		Channel     string `bun:"channel"`
		RequesterID int64  `bun:"requester_id"`
	}
	if err := d.NewSelect().Table("requests").Column("id", "title", "channel", "requester_id").Where("requester_id = ?", pia.ID).Scan(ctx, &filed); err != nil {
		t.Fatal(err)
	}
	if len(filed) != 1 || filed[0].Title != "Printer on floor 3 jams" || filed[0].Channel != "email" || id(filed[0].ID) != v["request_id"] {
		t.Fatalf("Pia's requests %+v, answer %v", filed, v)
	}
	if status, again := call("POST", "/api/v1/mail/inbound", "message/rfc822", raw); status != http.StatusAccepted || again["id"] != v["id"] || again["request_id"] != v["request_id"] {
		t.Fatalf("again: %d %v", status, again)
	}
	if n, err := d.NewSelect().Table("requests").Where("requester_id = ?", pia.ID).Count(ctx); err != nil || n != 1 {
		t.Fatalf("Pia has %d requests after the message came twice (%v)", n, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, errOut.String())
	}
}
