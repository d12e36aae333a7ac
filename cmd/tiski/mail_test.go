package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/demo"
	"github.com/tiski/tiski/mail/smtptest"
	"github.com/tiski/tiski/notify"
	"github.com/tiski/tiski/outbox"
	"github.com/tiski/tiski/units"
)

// TestServeMailsWhatIsRecordedAfterStart: with TISKI_SMTP_URL set, serve
// says e-mail is on, mails nothing of the demo's history, and its outbox
// worker delivers a notification recorded while it runs to the test's SMTP
// server, once, with a link under TISKI_BASE_URL.
func TestServeMailsWhatIsRecordedAfterStart(t *testing.T) {
	server := smtptest.Start(t)
	t.Setenv("TISKI_SMTP_URL", "smtp://"+server.Addr)
	t.Setenv("TISKI_MAIL_FROM", "Tiski <tiski@tiski.example>")
	t.Setenv("TISKI_BASE_URL", "https://desk.tiski.example")
	url := dbtest.NewURL(t, "sqlite")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--db", url}, strings.NewReader(""), &out, &errOut)
	}()
	waitFor(t, &out, regexp.MustCompile(`serving on (http://\S+)`))
	if !strings.Contains(errOut.String(), `"msg":"e-mail on"`) {
		t.Fatalf("serve did not say e-mail is on:\n%s", errOut.String())
	}

	d := dbtest.OpenURL(t, url)
	someone, err := units.GetUserByEmail(ctx, d, demo.People[0].Email)
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		_, err := notify.Record(ctx, tx, notify.Event{Kind: notify.RequestResolved, ObjectID: 1,
			Parties: notify.Parties{RequesterID: someone.ID}, Args: map[string]string{"ref": "REQ-000001", "title": "Laptop"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := server.Wait(t, 1, 30*time.Second)
	if len(got) != 1 || got[0].To[0] != someone.Email || !strings.Contains(got[0].Text, "https://desk.tiski.example/requests/1") {
		t.Fatalf("mails = %+v", got)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rows, err := outbox.List(ctx, d, "", 0, 10)
		if err == nil && len(rows) == 1 && rows[0].Status == outbox.Delivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never recorded the delivery: %+v, %v", rows, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, errOut.String())
	}
	if n := len(server.Messages()); n != 1 {
		t.Fatalf("%d mails in all, want the one recorded after start", n)
	}
}
