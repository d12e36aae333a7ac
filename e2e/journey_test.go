package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLaptopJourney is the portal's main journey, person by person: a
// member orders a laptop above the unit's approval threshold, the manager
// approves, an IT agent works and resolves it, the member rates it, the
// manager disputes the charge, and finance credits part of it, closes the
// month and downloads the statement. Then a Finnish pass over the pages.
func TestLaptopJourney(t *testing.T) {
	browser := newAllocator(t)
	srv := startServer(t)
	o := srv.setUpOrganisation()
	sh := newShots(t)
	helsinki, _ := time.LoadLocation("Europe/Helsinki")
	month := time.Now().In(helsinki).Format("2006-01")

	// The member orders a laptop; at €1,450 it is above Marketing's €1,000
	// threshold, so it waits for the manager.
	leena := srv.open(t, browser, "Leena (member)", sh)
	leena.signIn("leena@journey.example")
	leena.snap("member-home")
	leena.visit("/catalog")
	leena.sees("main", "Laptop", "€1,450.00")
	leena.snap("member-catalog")
	leena.visit("/catalog/" + o.laptopID)
	leena.sees("main", "€1,450.00", "Marketing")
	// Without the required choice the form comes back with the typed title.
	leena.do(chromedp.SendKeys(chromedp.ID("title"), "Laptop for the new designer"))
	leena.submit(`form[action^="/catalog/"] button[type="submit"]`)
	if !leena.has(".field-error") {
		t.Fatal("an order without the required screen size was not refused beside the field")
	}
	if kept := value(leena, chromedp.Value(chromedp.ID("title"))); kept != "Laptop for the new designer" {
		t.Fatalf("the refused form lost the title: %q", kept)
	}
	leena.do(chromedp.SetValue(chromedp.CSS("#field_screen"), `15"`))
	leena.submit(`form[action^="/catalog/"] button[type="submit"]`)
	requestPath := leena.path()
	if !strings.HasPrefix(requestPath, "/requests/") {
		t.Fatalf("after ordering the member is at %s", requestPath)
	}
	number := strings.SplitN(leena.text("h1"), " ", 2)[0]
	leena.sees("main", "Waiting for approval", "€1,450.00")
	leena.snap("member-request-ordered")

	// The manager finds it in the approvals inbox and approves it.
	maria := srv.open(t, browser, "Maria (manager)", sh)
	maria.signIn("maria@journey.example")
	maria.visit("/approvals")
	maria.sees("main", number)
	maria.snap("manager-approvals")
	maria.visit(requestPath)
	maria.submit(actionButton("approve"))
	maria.sees("main", "Open")
	if maria.has(actionButton("approve")) {
		t.Fatal("the approve button is still offered after approving")
	}

	// The IT agent takes it from the queue, comments, logs time, resolves.
	emma := srv.open(t, browser, "Emma (agent)", sh)
	emma.signIn("emma@journey.example")
	emma.visit("/queue")
	emma.sees("main", number)
	emma.snap("agent-queue")
	emma.visit(requestPath)
	emma.submit(actionButton("assign"))
	emma.sees("main", "Emma Heikkinen")
	emma.submit(actionButton("start"))
	emma.sees("main", "In progress")
	emma.do(chromedp.SendKeys(chromedp.CSS("#body"), "Imaging the laptop now; **ready tomorrow**."))
	emma.submit(`form[action$="/comments"] button[type="submit"]`)
	emma.sees("#comments", "ready tomorrow")
	emma.do(chromedp.SetValue(chromedp.CSS("#minutes"), "45"), chromedp.SetValue(chromedp.CSS("#time-note"), "imaging and encryption"))
	emma.submit("#log-time")
	emma.sees("#time", "imaging and encryption", "45")
	emma.submit(actionButton("resolve")) // asks first; the person says yes
	emma.sees("main", "Resolved")
	emma.snap("agent-request-resolved")

	// The member sees the public comment and rates the work.
	leena.visit(requestPath)
	leena.sees("#comments", "ready tomorrow")
	if leena.has("#time") {
		t.Fatal("the requester sees the provider's time entries")
	}
	leena.do(chromedp.Click(chromedp.CSS(`input[name="rating"][value="5"]`)),
		chromedp.SendKeys(chromedp.CSS("#rate-comment"), "Quick and friendly."))
	leena.submit(`form[action$="/rate"] button[type="submit"]`)
	leena.sees("main", "5 / 5")

	// The manager disputes the charge on Marketing's charges page.
	maria.visit("/charges")
	maria.sees("#charges", number, "€1,450.00")
	chargeID := strings.TrimPrefix(maria.attr(fmt.Sprintf(`tr[data-request=%q]`, number), "id"), "charge-")
	maria.do(chromedp.Click(chromedp.CSS("#dispute-details-"+chargeID+" summary")),
		chromedp.SendKeys(chromedp.CSS("#reason-"+chargeID), "We agreed €1,000 for this model."))
	maria.submit("#dispute-submit-" + chargeID)
	maria.sees(fmt.Sprintf(`tr[data-request=%q]`, number), "Dispute open")
	maria.snap("manager-charges-disputed")

	// Finance (in Finnish) credits €450.00 of it, closes the month and
	// downloads Marketing's statement.
	sanna := srv.open(t, browser, "Sanna (finance)", sh)
	sanna.signIn("sanna@journey.example")
	sanna.visit("/")
	sanna.sees("#finance-attention", "Avoimia kiistoja: 1")
	sanna.snap("finance-home")
	sanna.visit("/finance/disputes")
	disputeID := strings.TrimPrefix(sanna.attr(fmt.Sprintf(`article[data-request=%q]`, number), "id"), "dispute-")
	sanna.snap("finance-disputes")
	sanna.do(chromedp.SendKeys(chromedp.CSS("#credit-"+disputeID), "450,00"),
		chromedp.SendKeys(chromedp.CSS("#accept-note-"+disputeID), "Hinnasta sovittiin 1 000 euroa."))
	sanna.submit("#accept-" + disputeID)
	sanna.visit("/charges?period=" + month)
	sanna.sees("#charges", number, "1\u00a0450,00\u00a0€", "450,00\u00a0€")
	sanna.visit("/finance/periods")
	// The month of the journey is the current one: it closes only once it
	// has ended, and the portal says so in Finnish.
	sanna.submit("#close-" + month)
	sanna.sees("main", month+" ei ole vielä päättynyt.")
	srv.closeOnceEnded(month)
	sanna.visit("/finance/periods")
	if sanna.has("#close-" + month) {
		t.Fatalf("month %s still offers closing after it was closed", month)
	}
	sanna.snap("finance-periods-closed")
	journal := sanna.fetch(sanna.attr("#journal-"+month, "href"))
	if !strings.Contains(journal, "CC-1200") || !strings.Contains(journal, "CC-1100") {
		t.Fatalf("the journal lacks the two cost centers:\n%s", journal)
	}
	sanna.visit("/")
	sanna.sees("#finance-attention", "Avoimia kiistoja: 0")
	sanna.visit("/charges?period=" + month)
	statement := sanna.fetch(sanna.attr("#statement-csv-"+o.units["CC-1200"], "href"))
	// Sanna reads Finnish: her CSV is the Finnish spreadsheets' dialect,
	// semicolons and decimal commas.
	if !strings.HasPrefix(statement, "charge_id;period;") || !strings.Contains(statement, number) ||
		!strings.Contains(statement, ";1450,00;") || !strings.Contains(statement, ";450,00;") {
		t.Fatalf("Marketing's statement lacks the charge or the credit, or is not in Finnish CSV:\n%s", statement)
	}

	// The manager can no longer dispute anything in the closed month.
	maria.visit("/charges")
	if maria.has("#dispute-details-" + chargeID) {
		t.Fatal("a charge of a closed month still offers a dispute")
	}

	// The admin runs the units and people, and sees no money pages.
	ada := srv.open(t, browser, "Ada (admin)", sh)
	ada.signIn("admin@journey.example")
	ada.visit("/admin/units")
	ada.sees("main", "CC-1000", "CC-1100", "CC-1200")
	ada.snap("admin-units")
	ada.visit("/finance/periods")
	ada.sees("h1", "Page not found")

	// On a phone the catalog still reads as a page, not a squeezed table.
	leena.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	leena.visit("/catalog")
	leena.sees("main", "Laptop")
	leena.snap("member-catalog-phone")
	leena.do(chromedp.ResetViewport())

	finnishPass(t, leena, maria, emma, o, requestPath)
}

// finnishPass switches the member, the manager and the agent to Finnish and
// reads the same pages: texts, money and dates in the Finnish way.
func finnishPass(t *testing.T, leena, maria, emma *person, o org, requestPath string) {
	t.Helper()
	for _, p := range []*person{leena, maria, emma} {
		p.visit("/")
		p.submit(`form[action="/language"] button[type="submit"]`)
		p.sees("header", "In English")
	}
	leena.visit("/catalog")
	leena.sees("h1", "Palveluluettelo")
	leena.sees("main", "1\u00a0450,00\u00a0€")
	leena.snap("fi-member-catalog")
	leena.visit("/catalog/" + o.laptopID)
	leena.sees("main", "Tilaa", "Arvioitu hinta")
	leena.visit(requestPath)
	leena.sees("main", "Ratkaistu", "Keskustelu")
	leena.snap("fi-member-request")
	leena.visit("/requests")
	leena.sees("h1", "Pyynnöt")
	maria.visit("/charges")
	maria.sees("main", "1\u00a0450,00\u00a0€")
	maria.snap("fi-manager-charges")
	maria.visit("/budgets")
	maria.snap("fi-manager-budgets")
	emma.visit("/queue")
	emma.sees("h1", "Jono")
	emma.snap("fi-agent-queue")
}

// actionButton is the button of a lifecycle action on the request page.
func actionButton(action string) string {
	return fmt.Sprintf(`form[action$="/act"]:has(input[name="action"][value=%q]) button`, action)
}
