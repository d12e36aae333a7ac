package requests

import (
	"io"
	"mime"
	"path"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzAttachmentName: an uploaded file's name comes from the client. A name
// CheckFilename accepts, fitted to any accepted type, still passes
// CheckFilename and ends in an extension of that type; any other name or
// content type is handled without a panic.
func FuzzAttachmentName(f *testing.F) {
	for _, s := range []string{"invoice.pdf", "invoice.html", "scan", ".html", "a.b.c", "photo.JPG", "x.", "résumé.docx",
		strings.Repeat("n", 200), strings.Repeat("ä", 199) + ".html", "../etc/passwd", "a\u202egpj.exe", "con", " .pdf"} {
		f.Add(s, "application/pdf")
		f.Add(s, "text/plain; charset=utf-8")
	}
	f.Add("a.txt", "nonsense;;")
	f.Fuzz(func(t *testing.T, name, contentType string) {
		_ = fitExtension(name, contentType)
		if CheckFilename(name) != nil {
			return
		}
		for _, ct := range append(AttachmentTypes, contentType) {
			got := fitExtension(name, ct)
			if err := CheckFilename(got); err != nil {
				t.Fatalf("fitExtension(%q, %q) = %q, refused: %v", name, ct, got, err)
			}
			mt, _, err := mime.ParseMediaType(ct)
			if exts, ok := attachmentExtensions[mt]; ok && err == nil && !slices.Contains(exts, strings.ToLower(path.Ext(got))) {
				t.Fatalf("fitExtension(%q, %q) = %q, not one of %v", name, ct, got, exts)
			}
		}
	})
}

// FuzzRenderMarkdown: a comment's Markdown is shown to everyone on the
// request, so whatever it holds, the HTML it renders to has no script,
// style, frame, object or form element, no event-handler attribute and no
// link or source that runs script.
func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{"**bold** and _it_", "<script>alert(1)</script>", "[x](javascript:alert(1))", "[x](JaVaScRiPt&#58;alert(1))",
		"![i](data:text/html;base64,PHNjcmlwdD4=)", "<img src=x onerror=alert(1)>", "| a | b |\n|---|---|\n| <b>1</b> | 2 |",
		"```\n<script>\n```", "<a href=\"https://example.org\" onclick=\"x()\">l</a>", "https://example.org/auto", "<style>*{}</style>",
		"<iframe src=//evil></iframe>", "[a]: javascript:alert(1)\n\n[a]", "<svg><script>1</script></svg>", "- [ ] task\n- [x] done"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := RenderMarkdown(body)
		if err != nil {
			return
		}
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				if z.Err() != io.EOF {
					t.Fatalf("%q rendered unreadable HTML %q: %v", body, out, z.Err())
				}
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "iframe", "frame", "object", "embed", "form", "base", "meta", "link", "svg", "math":
				t.Fatalf("%q rendered a <%s> element: %q", body, tok.Data, out)
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" {
					t.Fatalf("%q rendered attribute %s on <%s>: %q", body, a.Key, tok.Data, out)
				}
				if key == "href" || key == "src" || key == "action" {
					v := strings.ToLower(strings.Map(func(r rune) rune {
						if r <= ' ' {
							return -1
						}
						return r
					}, a.Val))
					if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:") {
						t.Fatalf("%q rendered %s=%q on <%s>: %q", body, a.Key, a.Val, tok.Data, out)
					}
				}
			}
		}
	})
}
