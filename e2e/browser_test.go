package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/tiski/tiski/auth"
)

// chromium finds Debian's Chromium (or another Chrome) on this machine.
func chromium() string {
	if p := os.Getenv("TISKI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium skips a journey only when no browser is installed, unless
// TISKI_REQUIRE_BROWSER is set (as .ci/run does), where that is a failure.
func needChromium(t *testing.T) string {
	t.Helper()
	p := chromium()
	if p == "" {
		msg := "no Chromium found (install Debian's chromium, or set TISKI_CHROMIUM): the browser journeys did not run"
		if os.Getenv("TISKI_REQUIRE_BROWSER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// newAllocator starts one headless Chromium for a test, with the flags that
// keep it off the network and away from any profile of its own.
func newAllocator(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(needChromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "en-GB"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	browserCtx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browserCtx
}

// person is one user's browser window: a browser context of its own, so
// each person has their own cookies, as on their own laptop.
type person struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
	shot *shots
}

func (s *server) open(t *testing.T, browser context.Context, name string, sh *shots) *person {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a window for %s: %v", name, err)
	}
	// Accept the portal's confirmation questions, as the person would.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return &person{t: t, ctx: ctx, base: s.base, name: name, shot: sh}
}

// value runs one browser action, bounded in time, and returns its value.
func value[T any](p *person, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		where, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%s at %s: %v", p.name, where, err)
	}
	return v
}

// do runs browser actions in order.
func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	value(p, chromedp.Steps(steps...))
}

// visit opens a portal path and waits for the page.
func (p *person) visit(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// signIn fills in the login form with the journeys' password.
func (p *person) signIn(email string) { p.t.Helper(); p.signInWith(email, password) }

func (p *person) signInWith(email, secret string) {
	p.t.Helper()
	p.visit("/login")
	p.do(chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), secret))
	p.submit(`form[action="/login"] button[type="submit"]`)
	if strings.HasPrefix(p.path(), "/login/code") {
		p.giveSecondFactor(email)
	}
	if strings.HasPrefix(p.path(), "/settings/two-factor") {
		p.enrolSecondFactor(email)
	}
	if path := p.path(); strings.HasPrefix(path, "/login") {
		p.t.Fatalf("%s could not sign in: %s", p.name, p.text("main"))
	}
}

// recoveryCodes are the codes each money-role person was shown when they
// enrolled, by e-mail: a later sign-in gives one of them, as a code from
// the app may be used only once in its 30-second window.
var (
	recoveryMu    sync.Mutex
	recoveryCodes = map[string][]string{}
)

// enrolSecondFactor does what a finance, auditor or admin user does on
// their first sign-in: starts the enrolment, types the code their app
// shows for the secret, and keeps the recovery codes shown once.
func (p *person) enrolSecondFactor(email string) {
	p.t.Helper()
	if value(p, chromedp.Evaluate[bool](`document.getElementById("begin-form") !== null`)) {
		p.submit(`#begin-form button[type="submit"]`)
	}
	code, err := auth.Code(p.text("#totp-secret"), time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	p.do(chromedp.SendKeys(chromedp.CSS("#confirm-form #code"), code))
	p.submit(`#confirm-form button[type="submit"]`)
	codes := value(p, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#recovery-codes code")].map(c => c.textContent)`))
	if len(codes) == 0 {
		p.t.Fatalf("%s: no recovery codes after enrolling: %s", p.name, p.text("body"))
	}
	recoveryMu.Lock()
	recoveryCodes[email] = codes
	recoveryMu.Unlock()
	// Having noted them, on to where the sign-in was going.
	p.visit(p.attr("#recovery-codes a", "href"))
}

// giveSecondFactor answers the code page after the password with one of
// the person's recovery codes.
func (p *person) giveSecondFactor(email string) {
	p.t.Helper()
	recoveryMu.Lock()
	codes := recoveryCodes[email]
	if len(codes) == 0 {
		recoveryMu.Unlock()
		p.t.Fatalf("%s: asked for a second factor before enrolling", p.name)
	}
	code := codes[0]
	recoveryCodes[email] = codes[1:]
	recoveryMu.Unlock()
	p.do(chromedp.SendKeys(chromedp.ID("code"), code))
	p.submit(`form[action="/login/code"] button[type="submit"]`)
}

// submit clicks a button that sends a form and waits for the next page: a
// marker set on the old document is gone once the new one has loaded.
func (p *person) submit(sel string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	value(p, chromedp.Evaluate[bool](`window.__tiskiOld = true`))
	p.do(chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		loaded, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`window.__tiskiOld !== true && document.readyState === "complete"`))
		if err == nil && loaded {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no new page after clicking %s", p.name, sel)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *person) path() string {
	p.t.Helper()
	return value(p, chromedp.Evaluate[string](`location.pathname + location.search`))
}

// text is what the person reads in an element.
func (p *person) text(sel string) string {
	p.t.Helper()
	return value(p, chromedp.Text(chromedp.CSS(sel)))
}

// sees fails the test unless the element's text holds every part.
func (p *person) sees(sel string, parts ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, part := range parts {
		if !strings.Contains(got, part) {
			p.t.Fatalf("%s: %s does not show %q; it reads:\n%s", p.name, sel, part, got)
		}
	}
}

// has reports whether an element exists on the page now.
func (p *person) has(sel string) bool {
	p.t.Helper()
	return value(p, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))) > 0
}

// attr reads an attribute of the first element matching sel, without
// waiting: the element must be on the page already.
func (p *person) attr(sel, name string) string {
	p.t.Helper()
	v := value(p, chromedp.Evaluate[*string](fmt.Sprintf(`(e => e ? e.getAttribute(%q) : null)(document.querySelector(%q))`, name, sel)))
	if v == nil {
		p.t.Fatalf("%s: no %s on %s with a %s; the page reads:\n%s", p.name, sel, p.path(), name, p.text("main"))
	}
	return *v
}

// fetch downloads a link with the person's session, as a click on a
// download link does, and returns the body.
func (p *person) fetch(href string) string {
	p.t.Helper()
	return value(p, chromedp.Evaluate[string](fmt.Sprintf(
		`fetch(%q, {credentials: "same-origin"}).then(r => r.ok ? r.text() : "HTTP " + r.status)`, href), chromedp.EvalAwaitPromise))
}

// snap saves a screenshot of the whole page under the artifacts folder.
func (p *person) snap(name string) {
	p.t.Helper()
	p.shot.save(p.t, name, value(p, chromedp.FullScreenshot(100)))
}

// shots writes screenshots to artifacts/screenshots (git-ignored), or to
// TISKI_ARTIFACTS/screenshots.
type shots struct{ dir string }

func newShots(t *testing.T) *shots {
	t.Helper()
	root := os.Getenv("TISKI_ARTIFACTS")
	if root == "" {
		root = filepath.Join("..", "artifacts")
	}
	dir := filepath.Join(root, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &shots{dir: dir}
}

func (sh *shots) save(t *testing.T, name string, png []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(sh.dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
