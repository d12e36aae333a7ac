package requests

import "testing"

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
