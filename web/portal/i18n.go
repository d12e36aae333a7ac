package portal

import (
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tiski/tiski/money"
	"github.com/tiski/tiski/web/httpx"
)

// messages holds every portal text in English and Finnish, gathered from
// the area files (i18n_*.go). A key missing from Finnish falls back to
// English; i18n_test.go checks none is missing and no key is defined twice.
var messages = mergeMessages(requestMessages, moneyMessages, adminMessages)

// catalogue is one area's texts: locale → key → text.
type catalogue map[string]map[string]string

func mergeMessages(parts ...catalogue) catalogue {
	out := catalogue{"en": {}, "fi": {}}
	for _, part := range parts {
		for locale, texts := range part {
			for key, text := range texts {
				out[locale][key] = text
			}
		}
	}
	return out
}

// requestMessages are the texts of sign-in, the catalog and requests.
var requestMessages = catalogue{
	"en": {
		"app.name": "Tiski", "app.tagline": "Internal services and chargeback",
		"nav.home": "Home", "nav.catalog": "Catalog", "nav.requests": "Requests", "nav.queue": "Queue",
		"nav.approvals": "Approvals", "nav.charges": "Charges", "nav.budgets": "Budgets", "nav.periods": "Periods",
		"nav.disputes": "Disputes", "nav.adjustments": "Adjustments", "nav.reports": "Reports", "nav.admin": "Admin", "nav.signout": "Sign out",
		"nav.skip": "Skip to content", "nav.language": "Suomeksi",
		"login.title": "Sign in", "login.email": "E-mail", "login.password": "Password", "login.submit": "Sign in",
		"login.failed": "E-mail or password is wrong.", "login.throttled": "Too many failed attempts. Try again in a few minutes.",
		"home.title": "Welcome, %s", "home.mine": "My open requests", "home.approvals": "Waiting for your approval",
		"home.queue": "In your queue", "home.nothing": "Nothing here right now.", "home.order": "Order something",
		"home.finance": "Waiting for finance", "home.finance.disputes": "Open disputes: %d",
		"home.finance.adjustments": "Adjustments waiting for a second approver: %d", "home.finance.review": "%s is in review",
		"catalog.title": "Service catalog", "catalog.search": "Search services", "catalog.category": "Category",
		"catalog.provider": "Provider", "catalog.all": "All", "catalog.filter": "Filter", "catalog.empty": "No services match.",
		"catalog.price": "Price", "catalog.sla": "Promise", "catalog.sla.first": "First response within %s",
		"catalog.sla.resolution": "Resolved within %s", "catalog.approval.always": "Always needs a manager's approval",
		"catalog.approval.threshold": "Needs approval above your unit's threshold", "catalog.approval.never": "No approval needed",
		"order.title": "Order", "order.unit": "For unit", "order.what": "Title", "order.description": "Description",
		"order.quantity": "Quantity", "order.submit": "Place order", "order.estimate": "Estimated cost",
		"order.budget": "Budget this month", "order.budget.none": "No budget set for this month.",
		"order.budget.after": "%s used of %s; this order brings it to",
		"order.budget.soft":  "Over the budget: a manager will be asked to approve.",
		"order.budget.hard":  "Over a hard budget: the order will be refused until finance raises the budget.",
		"model.fixed":        "fixed price", "model.per_unit": "per %s", "model.hourly": "per hour", "model.monthly": "per month",
		"requests.title": "Requests", "requests.mine": "Mine", "requests.unit": "My units", "requests.all": "All I can see",
		"requests.status": "Status", "requests.search": "Search", "requests.empty": "No requests match.",
		"requests.number": "Number", "requests.what": "Request", "requests.updated": "Updated", "requests.next": "Next page",
		"request.service": "Service", "request.unit": "Ordering unit", "request.provider": "Provider",
		"request.requester": "Requester", "request.assignee": "Assignee", "request.unassigned": "Unassigned",
		"request.estimate": "Estimate", "request.due": "Resolution due", "request.timeline": "Timeline",
		"request.comments": "Conversation", "request.comment": "Add a comment", "request.comment.internal": "Internal note (not shown to the customer)",
		"request.comment.submit": "Post", "request.actions": "Actions", "request.note": "Note",
		"request.stale":  "Someone else changed this request meanwhile. Reload to see the latest version.",
		"request.reload": "Reload", "request.rate": "How did we do?", "request.rate.submit": "Send rating",
		"request.rating": "Rating", "request.internal": "internal",
		"action.approve": "Approve", "action.reject": "Reject", "action.assign": "Assign to me", "action.start": "Start work",
		"action.wait": "Wait for customer", "action.resume": "Resume", "action.resolve": "Resolve", "action.close": "Close",
		"action.reopen": "Reopen", "action.cancel": "Cancel request",
		"confirm.title": "Please confirm", "confirm.yes": "Yes, go ahead", "confirm.no": "Go back",
		"confirm.resolve": "Resolving posts the charge to the ordering unit. Continue?",
		"confirm.cancel":  "Cancel this request? This cannot be undone.", "confirm.reject": "Reject this request? This cannot be undone.",
		"status.submitted": "Submitted", "status.pending_approval": "Waiting for approval", "status.open": "Open",
		"status.in_progress": "In progress", "status.waiting_on_customer": "Waiting on customer", "status.resolved": "Resolved",
		"status.closed": "Closed", "status.rejected": "Rejected", "status.cancelled": "Cancelled",
		"flash.ordered": "Request %s placed.", "flash.updated": "Request updated.", "flash.commented": "Comment posted.",
		"flash.rated":    "Thank you for the rating.",
		"flash.attached": "File added.", "flash.timelogged": "Time logged.",
		"request.files": "Files", "request.files.none": "No files yet.", "request.files.add": "Add a file",
		"request.files.hint": "PDF, pictures, text, CSV or office documents, up to 10 MiB.", "request.files.submit": "Upload",
		"request.time": "Time", "time.date": "Day", "time.agent": "Agent", "time.minutes": "Minutes",
		"time.billable": "Billable", "time.total": "Total", "time.none": "No time logged.", "time.submit": "Log time",
		"time.minutes.invalid": "Give the minutes as a whole number, such as 45.",
		"error.title":          "Something went wrong", "error.notfound": "Page not found", "error.notfound.text": "There is nothing here, or you may not see it.",
		"error.forbidden": "Not allowed", "error.back": "Back to home",

		"flash.reset":              "Your password is set. Sign in with it.",
		"home.finance.grants":      "Role grants waiting for confirmation: %d",
		"reset.title":              "Choose a new password",
		"reset.password":           "New password",
		"reset.password_again":     "New password again",
		"reset.hint":               "At least 10 characters.",
		"reset.submit":             "Set password",
		"reset.err.token":          "This password reset link is unknown, already used or expired. Ask for a new one.",
		"reset.err.password":       "The password must be 10 to 1024 characters long.",
		"reset.err.password_again": "The two passwords differ.",
	},
	"fi": {
		"app.name": "Tiski", "app.tagline": "Sisäiset palvelut ja veloitukset",
		"nav.home": "Etusivu", "nav.catalog": "Palvelut", "nav.requests": "Pyynnöt", "nav.queue": "Jono",
		"nav.approvals": "Hyväksynnät", "nav.charges": "Veloitukset", "nav.budgets": "Budjetit", "nav.periods": "Kaudet",
		"nav.disputes": "Kiistat", "nav.adjustments": "Oikaisut", "nav.reports": "Raportit", "nav.admin": "Ylläpito", "nav.signout": "Kirjaudu ulos",
		"nav.skip": "Siirry sisältöön", "nav.language": "In English",
		"login.title": "Kirjaudu", "login.email": "Sähköposti", "login.password": "Salasana", "login.submit": "Kirjaudu",
		"login.failed": "Sähköposti tai salasana on väärin.", "login.throttled": "Liian monta epäonnistunutta yritystä. Yritä muutaman minuutin kuluttua.",
		"home.title": "Tervetuloa, %s", "home.mine": "Omat avoimet pyynnöt", "home.approvals": "Odottaa hyväksyntääsi",
		"home.queue": "Jonossasi", "home.nothing": "Ei mitään juuri nyt.", "home.order": "Tilaa jotain",
		"home.finance": "Odottaa taloushallintoa", "home.finance.disputes": "Avoimia kiistoja: %d",
		"home.finance.adjustments": "Toista hyväksyjää odottavia oikaisuja: %d", "home.finance.review": "%s on tarkastettavana",
		"catalog.title": "Palveluluettelo", "catalog.search": "Hae palveluja", "catalog.category": "Luokka",
		"catalog.provider": "Tuottaja", "catalog.all": "Kaikki", "catalog.filter": "Suodata", "catalog.empty": "Ei osumia.",
		"catalog.price": "Hinta", "catalog.sla": "Lupaus", "catalog.sla.first": "Ensivastaus %s kuluessa",
		"catalog.sla.resolution": "Ratkaistu %s kuluessa", "catalog.approval.always": "Vaatii aina esihenkilön hyväksynnän",
		"catalog.approval.threshold": "Vaatii hyväksynnän yksikkösi rajan ylittyessä", "catalog.approval.never": "Ei hyväksyntää",
		"order.title": "Tilaa", "order.unit": "Yksikölle", "order.what": "Otsikko", "order.description": "Kuvaus",
		"order.quantity": "Määrä", "order.submit": "Lähetä tilaus", "order.estimate": "Arvioitu hinta",
		"order.budget": "Budjetti tässä kuussa", "order.budget.none": "Tälle kuulle ei ole budjettia.",
		"order.budget.after": "Käytetty %s / %s; tämän tilauksen jälkeen käyttö on",
		"order.budget.soft":  "Budjetti ylittyy: tilaus menee esihenkilön hyväksyttäväksi.",
		"order.budget.hard":  "Sitova budjetti ylittyy: tilaus hylätään, kunnes talous nostaa budjettia.",
		"model.fixed":        "kiinteä hinta", "model.per_unit": "/ %s", "model.hourly": "/ tunti", "model.monthly": "/ kk",
		"requests.title": "Pyynnöt", "requests.mine": "Omat", "requests.unit": "Yksikköni", "requests.all": "Kaikki näkyvät",
		"requests.status": "Tila", "requests.search": "Haku", "requests.empty": "Ei pyyntöjä.",
		"requests.number": "Numero", "requests.what": "Pyyntö", "requests.updated": "Päivitetty", "requests.next": "Seuraava sivu",
		"request.service": "Palvelu", "request.unit": "Tilaava yksikkö", "request.provider": "Tuottaja",
		"request.requester": "Pyytäjä", "request.assignee": "Käsittelijä", "request.unassigned": "Ei käsittelijää",
		"request.estimate": "Arvio", "request.due": "Ratkaistava viimeistään", "request.timeline": "Tapahtumat",
		"request.comments": "Keskustelu", "request.comment": "Lisää kommentti", "request.comment.internal": "Sisäinen muistiinpano (ei näy asiakkaalle)",
		"request.comment.submit": "Lähetä", "request.actions": "Toiminnot", "request.note": "Huomautus",
		"request.stale":  "Joku muu muutti pyyntöä sillä välin. Lataa sivu nähdäksesi uusimman version.",
		"request.reload": "Lataa uudelleen", "request.rate": "Miten onnistuimme?", "request.rate.submit": "Lähetä arvio",
		"request.rating": "Arvio", "request.internal": "sisäinen",
		"action.approve": "Hyväksy", "action.reject": "Hylkää", "action.assign": "Ota itselle", "action.start": "Aloita työ",
		"action.wait": "Odota asiakasta", "action.resume": "Jatka", "action.resolve": "Ratkaise", "action.close": "Sulje",
		"action.reopen": "Avaa uudelleen", "action.cancel": "Peru pyyntö",
		"confirm.title": "Vahvista", "confirm.yes": "Kyllä, jatka", "confirm.no": "Takaisin",
		"confirm.resolve": "Ratkaiseminen kirjaa veloituksen tilaavalle yksikölle. Jatketaanko?",
		"confirm.cancel":  "Perutaanko pyyntö? Tätä ei voi perua.", "confirm.reject": "Hylätäänkö pyyntö? Tätä ei voi perua.",
		"status.submitted": "Lähetetty", "status.pending_approval": "Odottaa hyväksyntää", "status.open": "Avoin",
		"status.in_progress": "Työn alla", "status.waiting_on_customer": "Odottaa asiakasta", "status.resolved": "Ratkaistu",
		"status.closed": "Suljettu", "status.rejected": "Hylätty", "status.cancelled": "Peruttu",
		"flash.ordered": "Pyyntö %s lähetetty.", "flash.updated": "Pyyntö päivitetty.", "flash.commented": "Kommentti lisätty.",
		"flash.rated":    "Kiitos arviosta.",
		"flash.attached": "Tiedosto lisätty.", "flash.timelogged": "Aika kirjattu.",
		"request.files": "Tiedostot", "request.files.none": "Ei tiedostoja.", "request.files.add": "Lisää tiedosto",
		"request.files.hint": "PDF, kuvat, teksti, CSV tai toimistoasiakirjat, enintään 10 MiB.", "request.files.submit": "Lähetä",
		"request.time": "Työaika", "time.date": "Päivä", "time.agent": "Käsittelijä", "time.minutes": "Minuutit",
		"time.billable": "Laskutettava", "time.total": "Yhteensä", "time.none": "Aikaa ei ole kirjattu.", "time.submit": "Kirjaa aika",
		"time.minutes.invalid": "Anna minuutit kokonaislukuna, esimerkiksi 45.",
		"error.title":          "Jokin meni vikaan", "error.notfound": "Sivua ei löydy", "error.notfound.text": "Täällä ei ole mitään, tai sinulla ei ole oikeutta nähdä sitä.",
		"error.forbidden": "Ei sallittu", "error.back": "Takaisin etusivulle",

		"flash.reset":              "Salasana on asetettu. Kirjaudu sillä.",
		"home.finance.grants":      "Vahvistusta odottavia roolien myöntämisiä: %d",
		"reset.title":              "Valitse uusi salasana",
		"reset.password":           "Uusi salasana",
		"reset.password_again":     "Uusi salasana uudelleen",
		"reset.hint":               "Vähintään 10 merkkiä.",
		"reset.submit":             "Aseta salasana",
		"reset.err.token":          "Tämä salasanan vaihtolinkki on tuntematon, jo käytetty tai vanhentunut. Pyydä uusi.",
		"reset.err.password":       "Salasanan pituuden on oltava 10–1024 merkkiä.",
		"reset.err.password_again": "Salasanat eivät täsmää.",
	},
}

// translator renders texts, money and times for one locale.
type translator struct {
	locale string
	loc    *time.Location
}

// T returns the text for key, formatted with args.
func (tr translator) T(key string, args ...any) string {
	msg, ok := messages[tr.locale][key]
	if !ok {
		msg, ok = messages["en"][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Money formats an amount the locale's way: €1,234.56 or 1 234,56 €.
func (tr translator) Money(m money.Money) string {
	if tr.locale == "fi" {
		return money.FormatFI(m)
	}
	return money.FormatEN(m)
}

// Time formats an instant in the organisation's zone.
func (tr translator) Time(t time.Time) string {
	t = t.In(tr.loc)
	if tr.locale == "fi" {
		return t.Format("2.1.2006 klo 15.04")
	}
	return t.Format("2 Jan 2006, 15:04")
}

// Bytes renders a file size: 840 B, 12.5 KiB, 3.2 MiB (decimal comma in Finnish).
func (tr translator) Bytes(n int64) string {
	var out string
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		out = fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		out = fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	if tr.locale == "fi" {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// Duration renders SLA targets given in minutes.
func (tr translator) Duration(minutes int) string {
	h, m := minutes/60, minutes%60
	unitH, unitM := "h", "min"
	switch {
	case h == 0:
		return fmt.Sprintf("%d %s", m, unitM)
	case m == 0:
		return fmt.Sprintf("%d %s", h, unitH)
	}
	return fmt.Sprintf("%d %s %d %s", h, unitH, m, unitM)
}

// localeFor picks the signed-in user's locale, else the browser's.
func localeFor(c echo.Context) string {
	if p := httpx.CurrentPrincipal(c); p != nil {
		return p.User.Locale
	}
	for _, part := range strings.Split(c.Request().Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if strings.HasPrefix(tag, "fi") {
			return "fi"
		}
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
	}
	return "en"
}
