package main

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiski/tiski/db/dbtest"
)

// TestMailIMAPAndStatus sets IT's mailbox with tiski mail imap, the
// password on standard input, aimed at a port where no IMAP server
// answers; tiski serve's poller fails to read it and tiski mail status
// says so, with the error, and never shows the password.
func TestMailIMAPAndStatus(t *testing.T) {
	url := dbtest.NewURL(t, "sqlite")
	if out, err := runCmd(t, "", "demo", "--db", url); err != nil {
		t.Fatalf("tiski demo: %v\n%s", err, out)
	}
	d := dbtest.OpenURL(t, url)
	ctx := context.Background()
	at := time.Now().UTC()
	if _, err := d.NewRaw(`INSERT INTO inbound_addresses (address, provider_unit_id, default_service_id, created_at, updated_at)
		SELECT 'it-desk@example.org', u.id, s.id, ?, ? FROM units AS u, services AS s WHERE u.code = 'CC-1100' AND s.code = 'IT-ONSITE'`,
		at, at).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	if _, err := runCmd(t, "", "mail", "imap", "--unit", "CC-1100", "--url", "ftp://x@y", "--db", url); err == nil {
		t.Fatal("an ftp:// mailbox was accepted")
	}
	out, err := runCmd(t, "s3cret-pw\n", "mail", "imap", "--unit", "CC-1100", "--url", "imap+insecure://desk@"+closed+"/INBOX",
		"--poll", "1s", "--password-stdin", "--db", url)
	if err != nil || !strings.Contains(out, "it-desk@example.org") {
		t.Fatalf("mail imap: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "", "mail", "status", "--db", url); err != nil || !strings.Contains(out, "never read") {
		t.Fatalf("mail status before serve: %v\n%s", err, out)
	}

	sctx, cancel := context.WithCancel(ctx)
	var sout, serr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "", "--imap-tick", "100ms", "--db", url}, strings.NewReader(""), &sout, &serr)
	}()
	waitFor(t, &sout, regexp.MustCompile(`serving on (http://\S+)`))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err = runCmd(t, "", "mail", "status", "--db", url)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poller never recorded a failure:\n%s\n%s", out, serr.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(out, "FAILING (") || !strings.Contains(out, "connect to "+closed) || strings.Contains(out, "s3cret") {
		t.Fatalf("mail status: %s", out)
	}
	var password string
	if err := d.NewSelect().TableExpr("inbound_mailboxes").Column("password").Scan(ctx, &password); err != nil || password != "s3cret-pw" {
		t.Fatalf("password %q, %v", password, err)
	}
	var audited int
	if err := d.NewSelect().TableExpr("audit_events").ColumnExpr("count(*)").Where("object_type = 'inbound_mailbox'").
		Where("after_json NOT LIKE '%s3cret%'").Scan(ctx, &audited); err != nil || audited != 1 {
		t.Fatalf("audit events %d, %v", audited, err)
	}
}
