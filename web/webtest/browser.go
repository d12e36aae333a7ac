package webtest

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// PostFile sends the request page's upload form as a browser does.
func (b *Browser) PostFile(path, filename string, content []byte) Page {
	b.T.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", b.CSRF)
	part, err := w.CreateFormFile("file", filename)
	if err != nil {
		b.T.Fatal(err)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", b.Base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.Do(req)
}

// Browser is a cookie-keeping client that does not follow redirects, so
// tests see where each form sends the user.
type Browser struct {
	T    *testing.T
	Base string
	HTTP *http.Client
	CSRF string
}

// Page is a portal answer: status, redirect target and body.
type Page struct {
	Status   int
	Location string
	Body     string
}

// NewBrowser is a browser with a cookie jar that does not follow redirects.
func NewBrowser(t *testing.T, base string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{T: t, Base: base, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// Get loads a page.
func (b *Browser) Get(path string) Page {
	b.T.Helper()
	req, _ := http.NewRequest("GET", b.Base+path, nil)
	req.Header.Set("Accept-Language", "fi-FI,fi;q=0.9")
	return b.Do(req)
}

// Post submits a form with the CSRF token of the last page.
func (b *Browser) Post(path string, form url.Values) Page {
	b.T.Helper()
	if b.CSRF != "" && form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.CSRF)
	}
	req, _ := http.NewRequest("POST", b.Base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fi-FI,fi;q=0.9")
	return b.Do(req)
}

// Do sends req and keeps the CSRF token the page carries.
func (b *Browser) Do(req *http.Request) Page {
	b.T.Helper()
	res, err := b.HTTP.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	p := Page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
	if m := csrfField.FindStringSubmatch(p.Body); m != nil {
		b.CSRF = m[1]
	}
	return p
}

// SignIn signs a persona in through the login form (and its code page,
// for the personas whose roles need a second factor).
func (f *Fixture) SignIn(name string) *Browser {
	f.T.Helper()
	b := NewBrowser(f.T, f.Srv.URL)
	p := b.Post("/login", url.Values{"email": {f.Email(name)}, "password": {TestPassword}, "next": {"/catalog"}})
	p = f.CompleteBrowserSignIn(b, name, p, "/catalog")
	if p.Status != http.StatusSeeOther || p.Location != "/catalog" {
		f.T.Fatalf("sign in as %s: %d → %s", name, p.Status, p.Location)
	}
	b.Get("/") // pick up the CSRF token
	return b
}
