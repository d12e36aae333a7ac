package e2e

import (
	"strings"
	"testing"

	"github.com/tiski/tiski/demo"
)

// TestDemoPersonas signs in as each demo persona on `tiski serve --demo`
// and reads their main pages: every screen has the demo's history to show,
// in the person's language, and only what their roles allow.
func TestDemoPersonas(t *testing.T) {
	browser := newAllocator(t)
	srv := startServer(t, "--demo")
	sh := newShots(t)
	visit := func(email, who string) *person {
		p := srv.open(t, browser, who, sh)
		p.signInWith(email, demo.Password)
		return p
	}

	leena := visit("leena.lehtonen@tiski.example", "Leena (Marketing staff)")
	leena.sees("main", "REQ-")
	leena.snap("demo-member-home")
	leena.visit("/catalog")
	leena.sees("main", "Laptop", "Monitor", "Contract review")
	leena.visit("/requests")
	leena.sees("main", "REQ-")
	if leena.has(`a[href="/charges"]`) || leena.has(`a[href="/finance/periods"]`) {
		t.Fatal("a member is offered money pages")
	}

	emma := visit("emma.heikkinen@tiski.example", "Emma (IT agent)")
	emma.visit("/queue")
	emma.sees("main", "REQ-")
	emma.snap("demo-agent-queue")

	maria := visit("maria.jarvinen@tiski.example", "Maria (Marketing manager)")
	maria.visit("/charges")
	maria.sees("#charges", "Disputed", "CC-1200")
	maria.snap("demo-manager-charges")
	maria.visit("/budgets")
	if !maria.has("svg[role=img] title") {
		t.Fatal("the budgets page has no accessible chart")
	}
	maria.snap("demo-manager-budgets")

	sanna := visit("sanna.korhonen@tiski.example", "Sanna (finance, Finnish)")
	sanna.sees("#finance-attention", "Avoimia kiistoja: 3", "tarkastettavana")
	sanna.snap("demo-finance-home")
	sanna.visit("/finance/periods")
	sanna.sees("main", "Kaudet", "Suljettu", "Tarkastuksessa")
	sanna.snap("demo-finance-periods")
	sanna.visit("/finance/disputes")
	sanna.sees("h1", "Kiistat")
	sanna.visit("/reports")
	sanna.sees("main", "CC-1100")
	sanna.snap("demo-finance-reports")

	liisa := visit("liisa.makinen@tiski.example", "Liisa (auditor)")
	liisa.visit("/finance/periods")
	liisa.sees("main", "Closed")
	if liisa.has(`button[id^="close-"]`) || liisa.has(`button[id^="review-"]`) {
		t.Fatal("the auditor is offered to move periods")
	}
	liisa.visit("/finance/disputes")
	if liisa.has(`form[id^="accept-form-"]`) {
		t.Fatal("the auditor is offered to settle disputes")
	}

	ville := visit("ville.virtanen@tiski.example", "Ville (admin, Finnish)")
	ville.visit("/admin/units")
	ville.sees("main", "Yksiköt", "CC-1600", "Legal")
	ville.snap("demo-admin-units")
	ville.visit("/charges")
	if !strings.Contains(ville.text("h1"), "Sivua ei löydy") {
		t.Fatal("the admin sees the charges page: admin is not finance")
	}
}
