package mailin_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/mailin"
	"github.com/tiski/tiski/requests"
)

// withFile is a message with a text part and one base64 attachment.
func withFile(id, subject, extra, name, contentType string, content []byte) string {
	enc := base64.StdEncoding.EncodeToString(content)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return msg(fmt.Sprintf("From: member@example.org\nTo: it-desk@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n%sContent-Type: multipart/mixed; boundary=zz\n", subject, id, extra),
		"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file.\r\n"+
			"--zz\r\nContent-Type: "+contentType+"\r\nContent-Disposition: attachment; filename=\""+name+"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"+
			strings.Join(lines, "\r\n")+"\r\n--zz--\r\n")
}

// zipOf is a ZIP archive with the entries given, deflated.
func zipOf(t *testing.T, entries map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, content := range entries {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// TestAttachmentsGoThroughTheUploadChecks: a PDF attached to a new
// message and a picture attached to a reply are stored on the request,
// byte for byte, with the type sniffed from the content; a program, a ZIP
// archive and an office document that inflates beyond the limit (a zip
// bomb) each send their message to the quarantine with the reason, and no
// request or file is made of them.
func TestAttachmentsGoThroughTheUploadChecks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		deps.ArchiveLimit = 1 << 20
		ctx := context.Background()
		member := requests.Viewer{UserID: k.People.Member, Authz: k.Authz}

		m := accept(t, deps, withFile("f1", "Invoice question", "", "invoice.pdf", "application/octet-stream", pdf))
		if m.Outcome != mailin.OutcomeRequest {
			t.Fatalf("pdf: %s %s (%s)", m.Outcome, m.Reason, m.Detail)
		}
		files, err := requests.Attachments(ctx, d, member, *m.RequestID, 0, 10)
		if err != nil || len(files) != 1 || files[0].Filename != "invoice.pdf" || files[0].ContentType != "application/pdf" ||
			files[0].UploaderID != k.People.Member || files[0].Internal {
			t.Fatalf("attachments %+v, %v", files, err)
		}
		_, content, err := requests.OpenAttachment(ctx, d, member, *m.RequestID, files[0].ID)
		if err != nil || !bytes.Equal(content, pdf) {
			t.Fatalf("content %q, %v", content, err)
		}

		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 40)...)
		reply := accept(t, deps, withFile("f2", "Re: "+requests.Number(*m.RequestID), "", "screen.png", "image/png", png))
		if reply.Outcome != mailin.OutcomeComment {
			t.Fatalf("reply: %s %s (%s)", reply.Outcome, reply.Reason, reply.Detail)
		}
		files, err = requests.Attachments(ctx, d, member, *m.RequestID, 0, 10)
		if err != nil || len(files) != 2 || files[1].Filename != "screen.png" || files[1].ContentType != "image/png" {
			t.Fatalf("attachments after the reply %+v, %v", files, err)
		}

		docx := func(size int) []byte {
			return zipOf(t, map[string][]byte{"[Content_Types].xml": []byte(`<?xml version="1.0"?><Types/>`),
				"word/document.xml": bytes.Repeat([]byte{' '}, size)})
		}
		refused := []struct {
			name, file string
			content    []byte
			reason     mailin.Reason
		}{
			{"a program", "setup.exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...), mailin.ReasonAttachment},
			{"a zip archive", "photos.zip", zipOf(t, map[string][]byte{"a.txt": []byte("hello")}), mailin.ReasonAttachment},
			{"a zip bomb as a document", "report.docx", docx(3 << 20), mailin.ReasonArchiveBomb},
			{"an empty file", "empty.txt", nil, mailin.ReasonAttachment},
		}
		for i, c := range refused {
			t.Run(c.name, func(t *testing.T) {
				got := accept(t, deps, withFile(fmt.Sprintf("bad%d", i), "New order "+c.name, "", c.file, "application/octet-stream", c.content))
				if got.Outcome != mailin.OutcomeQuarantined || got.Reason != c.reason || got.RequestID != nil {
					t.Fatalf("got %s %s (%s)", got.Outcome, got.Reason, got.Detail)
				}
			})
		}
		if n := count(t, d, "requests", ""); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		if n := count(t, d, "request_attachments", ""); n != 2 {
			t.Fatalf("%d attachments, want 2", n)
		}
		// A document of the same shape under the limit is taken.
		ok := accept(t, deps, withFile("fine", "Draft contract", "", "draft.docx", "application/octet-stream", docx(64<<10)))
		if ok.Outcome != mailin.OutcomeRequest {
			t.Fatalf("small document: %s %s (%s)", ok.Outcome, ok.Reason, ok.Detail)
		}
	})
}

// TestFilingBringsTheAttachments: an agent files a stranger's message with
// a PDF and a program; the PDF is stored on the request as the agent's
// upload, the program is not, and the filing's audit record names it.
func TestFilingBringsTheAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k, deps := setup(t, d)
		ctx := context.Background()
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...)
		raw := msg("From: Member at home <member@home.test>\nTo: it-desk@example.org\nSubject: Scan and tool\nMessage-ID: <fa1@x>\nContent-Type: multipart/mixed; boundary=zz\n",
			"--zz\r\nContent-Type: text/plain\r\n\r\nFrom home.\r\n"+
				"--zz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=scan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"+base64.StdEncoding.EncodeToString(pdf)+"\r\n"+
				"--zz\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=tool.exe\r\nContent-Transfer-Encoding: base64\r\n\r\n"+base64.StdEncoding.EncodeToString(exe)+"\r\n--zz--\r\n")
		q := accept(t, deps, raw)
		if q.Reason != mailin.ReasonUnknownSender {
			t.Fatalf("%+v", q)
		}
		var r *requests.Request
		k.Do(t, func(ctx context.Context, tx bun.Tx) (err error) {
			r, err = mailin.File(ctx, tx, deps, k.People.Agent, q.ID, mailin.Filing{RequesterID: k.People.Member}, now)
			return err
		})
		files, err := requests.Attachments(ctx, d, requests.Viewer{UserID: k.People.Member, Authz: k.Authz}, r.ID, 0, 10)
		if err != nil || len(files) != 1 || files[0].Filename != "scan.pdf" || files[0].UploaderID != k.People.Agent {
			t.Fatalf("attachments %+v, %v", files, err)
		}
		var after string
		if err := d.NewSelect().Table("audit_events").Column("after_json").Where("object_type = 'inbound_message' AND action = 'filed'").Scan(ctx, &after); err != nil ||
			!strings.Contains(after, "attachments not filed: tool.exe") {
			t.Fatalf("audit %s, %v", after, err)
		}
	})
}
