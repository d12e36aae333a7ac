package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tiski/tiski/demo"
)

// TestKnowledgeInTheBrowser: on `tiski serve --demo`, an agent writes and
// publishes an article in English and Finnish from the portal form; a
// member finds it by search, opens it and marks it helpful, finds the
// laptop article before ordering, and never meets the IT-only article the
// agent sees beside it.
func TestKnowledgeInTheBrowser(t *testing.T) {
	browser := newAllocator(t)
	srv := startServer(t, "--demo")
	sh := newShots(t)
	visit := func(email, who string) *person {
		p := srv.open(t, browser, who, sh)
		p.signInWith(email, demo.Password)
		return p
	}

	emma := visit("emma.heikkinen@tiski.example", "Emma (IT agent)")
	emma.visit("/knowledge/new")
	emma.do(
		chromedp.SetValue(chromedp.ID("audience"), "everyone"),
		chromedp.SendKeys(chromedp.ID("title_en"), "Docking station at a hot desk"),
		chromedp.SendKeys(chromedp.ID("body_en"), "Plug the **single USB-C cable** into the laptop's left port."),
		chromedp.SendKeys(chromedp.ID("title_fi"), "Telakka vuorotyöpisteessä"),
		chromedp.SendKeys(chromedp.ID("body_fi"), "Kytke **yksi USB-C-kaapeli** kannettavan vasempaan porttiin."),
		chromedp.Click(chromedp.CSS(`input[name="publish"]`)),
	)
	// The article is about the laptop service: pick it in the list.
	if !value(emma, chromedp.Evaluate[bool](`(() => {
		const o = [...document.querySelectorAll("#service_ids option")].find(o => o.textContent.includes("IT-LAPTOP"));
		if (o) { o.selected = true; }
		return !!o;
	})()`)) {
		t.Fatal("the laptop service is not offered for an IT article")
	}
	emma.submit(`form[action="/knowledge/new"] button[type="submit"]`)
	emma.sees("h1", "Docking station at a hot desk")
	emma.sees("article", "single USB-C cable")
	emma.visit("/knowledge?q=VPN")
	emma.sees("main", "VPN set-up on your laptop", "Granting VPN access (IT only)")

	leena := visit("leena.lehtonen@tiski.example", "Leena (Marketing staff)")
	leena.visit("/knowledge?q=docking")
	leena.sees("main", "Docking station at a hot desk")
	leena.visit(leena.attr(`.articles a`, "href"))
	leena.sees("article", "single USB-C cable")
	leena.submit(`button[name="helpful"][value="yes"]`)
	leena.sees("section[aria-labelledby=helpful-heading]", "1 found it helpful")
	leena.snap("knowledge-article")

	leena.visit("/knowledge?q=VPN")
	leena.sees("main", "VPN set-up on your laptop")
	if strings.Contains(leena.text("main"), "Granting VPN access") {
		t.Fatal("a member found the IT-only article")
	}
	// Before ordering a laptop, the laptop articles are there to read.
	leena.visit("/catalog")
	laptop := value(leena, chromedp.Evaluate[string](`(() => {
		const a = [...document.querySelectorAll('main a[href^="/catalog/"]')].find(a => a.textContent.trim() === "Laptop");
		return a ? a.getAttribute("href") : "";
	})()`))
	if laptop == "" {
		t.Fatal("no Laptop in the catalog")
	}
	leena.visit(laptop)
	leena.sees("section[aria-labelledby=before-heading]", "How to request a laptop", "Docking station at a hot desk")
	leena.snap("knowledge-before-you-order")
}
