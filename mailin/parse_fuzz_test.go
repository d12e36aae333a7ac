package mailin

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParse: an inbound message is the least trusted input Tiski reads.
// Whatever its bytes, parse returns a letter or a reason without a panic;
// a letter has one sender, a subject and text that are valid UTF-8 with no
// control character but tab and newline in the text, and HTML with no
// script (such a message is refused, not filed).
func FuzzParse(f *testing.F) {
	seeds := []string{
		"From: Maria <maria@example.org>\r\nTo: desk@example.org\r\nSubject: Printer\r\n\r\nIt is broken.\r\n",
		"From: a@example.org\r\nSubject: =?utf-8?q?P=C3=A4iv=C3=A4=C3=A4?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHyv=E4=E4\r\n",
		"From: a@example.org\r\nSubject: x\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Hi<br>there</p>\r\n--b--\r\n",
		"From: a@example.org\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/pdf; name=\"=?utf-8?b?w6Rh?=.pdf\"\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n",
		"From: a@example.org\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<img src=x onerror=alert(1)>\r\n",
		"From: \"boss@example.org\" <evil@example.net>\r\nSubject: pay\r\n\r\nnow\r\n",
		"From: a@example.org\r\nSubject: =?utf-8?q?a=0D=0ABcc:_x@y?=\r\n\r\nbody\r\n",
		"From: a@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: away\r\n\r\nout\r\n",
		"From: a@example.org\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=1\r\n\r\n--1\r\nContent-Type: multipart/mixed; boundary=2\r\n\r\n--2\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n--2--\r\n--1--\r\n",
		"not a message",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		l, r := parse(raw)
		if r != nil {
			if l != nil || r.reason == "" {
				t.Fatalf("a refusal %v came with %+v", r, l)
			}
			return
		}
		if l == nil || l.From == nil || l.From.Address == "" {
			t.Fatalf("a letter without a sender: %+v", l)
		}
		if hostile(l.Subject) || hostile(l.From.Name) {
			t.Fatalf("a hostile header was taken: %q, %q", l.Subject, l.From.Name)
		}
		if !utf8.ValidString(l.Text) || strings.ContainsFunc(l.Text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
			t.Fatalf("text %q holds invalid UTF-8 or a control character", l.Text)
		}
		if hasScript(l.HTML) {
			t.Fatalf("HTML with script was taken: %q", l.HTML)
		}
		if l2, r2 := parse(raw); r2 != nil || l2.Text != l.Text || l2.Subject != l.Subject {
			t.Fatalf("parsing twice differs: %+v %v", l2, r2)
		}
	})
}
