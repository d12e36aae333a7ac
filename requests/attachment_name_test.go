package requests

import (
	"path"
	"strings"
	"testing"
)

// Finding (issue 17, item 5): an upload kept a client extension that
// contradicted its sniffed type; it is renamed to the type's extension.
func TestUploadWithContradictingExtensionIsRenamed(t *testing.T) {
	for _, c := range []struct{ name, contentType, want string }{
		{"invoice.html", "application/pdf", "invoice.pdf"},
		{"setup.exe", "image/png", "setup.png"},
		{"photo.JPG", "image/jpeg", "photo.JPG"},
		{"photo.jpeg", "image/png", "photo.png"},
		{"scan", "application/pdf", "scan.pdf"},
		{"notes.log", "text/plain; charset=utf-8", "notes.log"},
		{"page.svg", "text/plain; charset=utf-8", "page.txt"},
		{"budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "budget.xlsx"},
		{"budget.xls.exe", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "budget.xls.xlsx"},
		{".pdf.html", "application/pdf", ".pdf.pdf"},
	} {
		if got := fitExtension(c.name, c.contentType); got != c.want {
			t.Errorf("fitExtension(%q, %q) = %q, want %q", c.name, c.contentType, got, c.want)
		}
	}
}

// Found by FuzzAttachmentName's property before it ran: a 200-character
// name given an extension grew past what CheckFilename allows, so the
// stored name was one the upload itself would have refused. The base gives
// way, never the extension, and no ".." appears where it was cut.
func TestFittedNameKeepsWithinTheLimit(t *testing.T) {
	long := strings.Repeat("n", 200)
	dotted := strings.Repeat("a", 194) + ".b.h" // the cut of one character lands after ".b"'s point
	for _, c := range []struct{ name, contentType, want string }{
		{long, "application/pdf", strings.Repeat("n", 196) + ".pdf"},
		{dotted, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", strings.Repeat("a", 194) + ".docx"},
	} {
		got := fitExtension(c.name, c.contentType)
		if err := CheckFilename(got); err != nil || !strings.HasSuffix(got, path.Ext(c.want)) {
			t.Errorf("fitExtension(%d characters, %q) = %q (%d), %v", len(c.name), c.contentType, got, len(got), err)
		}
		if got != c.want {
			t.Errorf("fitExtension(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
