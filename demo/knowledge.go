package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/knowledge"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// articleSeed is one knowledge article of the demo, in both languages.
type articleSeed struct {
	Author   string // e-mail of the agent or manager who wrote it
	Provider string // unit code
	Services []string
	Audience string
	En, Fi   knowledge.TextInput
	// Readers marked it helpful (true) or not (false), by e-mail.
	Votes map[string]bool
}

var articleSeeds = []articleSeed{
	{Author: "emma.heikkinen@tiski.example", Provider: "CC-1100", Services: []string{"IT-LAPTOP"}, Audience: knowledge.Everyone,
		En: knowledge.TextInput{Title: "How to request a laptop",
			Body: "Order a laptop from the catalog: **Laptop** under Hardware.\n\n" +
				"1. Choose the screen size: 13\" travels best, 16\" suits design work.\n" +
				"2. Choose the keyboard layout (FI or US).\n" +
				"3. Say in the description whether it replaces an old laptop; bring the old one when you collect the new.\n\n" +
				"Orders above your unit's approval threshold wait for your manager. Setting up takes about three working days; " +
				"you get a message when it is ready at the IT Service Desk."},
		Fi: knowledge.TextInput{Title: "Näin tilaat kannettavan",
			Body: "Tilaa kannettava palveluluettelosta: **Kannettava** kohdassa Laitteet.\n\n" +
				"1. Valitse näytön koko: 13\" kulkee parhaiten mukana, 16\" sopii suunnittelutyöhön.\n" +
				"2. Valitse näppäimistöasettelu (FI tai US).\n" +
				"3. Kerro kuvauksessa, korvaako kone vanhan; tuo vanha mukanasi, kun haet uuden.\n\n" +
				"Yksikkösi hyväksymisrajan ylittävät tilaukset odottavat esihenkilösi hyväksyntää. Käyttöönotto kestää noin kolme " +
				"työpäivää; saat viestin, kun kone on noudettavissa IT-palvelupisteestä."},
		Votes: map[string]bool{"leena.lehtonen@tiski.example": true, "antti.salo@tiski.example": true}},
	{Author: "otto.koskinen@tiski.example", Provider: "CC-1100", Services: []string{"IT-NETWORK"}, Audience: knowledge.Everyone,
		En: knowledge.TextInput{Title: "VPN set-up on your laptop",
			Body: "Your laptop has the VPN client installed already.\n\n" +
				"1. Open **Tiski VPN** from the system tray.\n" +
				"2. Sign in with your work account and approve the prompt on your phone.\n" +
				"3. Choose *Helsinki office* as the gateway.\n\n" +
				"If the client says your account has no VPN access, order **Network access** for yourself in the catalog."},
		Fi: knowledge.TextInput{Title: "VPN-yhteyden käyttöönotto kannettavalla",
			Body: "VPN-ohjelma on valmiiksi asennettu kannettavaasi.\n\n" +
				"1. Avaa **Tiski VPN** ilmoitusalueelta.\n" +
				"2. Kirjaudu työtililläsi ja hyväksy kirjautuminen puhelimessasi.\n" +
				"3. Valitse yhdyskäytäväksi *Helsingin toimisto*.\n\n" +
				"Jos ohjelma kertoo, ettei tililläsi ole VPN-oikeutta, tilaa itsellesi **Verkkoyhteys** palveluluettelosta."},
		Votes: map[string]bool{"leena.lehtonen@tiski.example": true, "maria.jarvinen@tiski.example": false}},
	{Author: "otto.koskinen@tiski.example", Provider: "CC-1100", Services: []string{"IT-NETWORK"}, Audience: knowledge.Provider,
		En: knowledge.TextInput{Title: "Granting VPN access (IT only)",
			Body: "Add the person to the *vpn-users* group in the directory, then ask them to sign out and in again. " +
				"Contractors need an end date on the group membership."},
		Fi: knowledge.TextInput{Title: "VPN-oikeuden myöntäminen (vain IT)",
			Body: "Lisää henkilö hakemiston *vpn-users*-ryhmään ja pyydä häntä kirjautumaan ulos ja uudelleen sisään. " +
				"Ulkopuolisille ryhmäjäsenyyteen tarvitaan päättymispäivä."}},
	{Author: "pekka.hamalainen@tiski.example", Provider: "CC-1500", Services: []string{"FAC-ROOM"}, Audience: knowledge.Everyone,
		En: knowledge.TextInput{Title: "Booking meeting rooms",
			Body: "Book a meeting room yourself in the calendar: add the room as a guest to your meeting. " +
				"Rooms for up to 12 people need nothing more.\n\n" +
				"Order **Meeting-room set-up** only for events: a different furniture layout, extra screens or catering. " +
				"Order at least three working days ahead and say the number of people."},
		Fi: knowledge.TextInput{Title: "Neuvotteluhuoneen varaaminen",
			Body: "Varaa neuvotteluhuone itse kalenterista: lisää huone kokoukseesi osallistujaksi. " +
				"Enintään 12 hengen huoneisiin ei tarvita muuta.\n\n" +
				"Tilaa **Neuvotteluhuoneen järjestely** vain tilaisuuksiin: toisenlainen kalustus, lisänäytöt tai tarjoilu. " +
				"Tilaa vähintään kolme työpäivää etukäteen ja kerro osallistujamäärä."},
		Votes: map[string]bool{"maria.jarvinen@tiski.example": true}},
	{Author: "emma.heikkinen@tiski.example", Provider: "CC-1100", Services: []string{"IT-MONITOR", "IT-LAPTOP"}, Audience: knowledge.Everyone,
		En: knowledge.TextInput{Title: "Connecting a second monitor",
			Body: "The standard monitor connects with one USB-C cable, which also charges the laptop. " +
				"If the screen stays dark, try the other USB-C port and press **Win+P** (Windows) to choose *Extend*."},
		Fi: knowledge.TextInput{Title: "Toisen näytön liittäminen",
			Body: "Vakionäyttö liitetään yhdellä USB-C-kaapelilla, joka myös lataa kannettavan. " +
				"Jos näyttö pysyy pimeänä, kokeile toista USB-C-porttia ja paina **Win+P** (Windows) ja valitse *Laajenna*."}},
}

// loadKnowledge writes the demo's articles, published, with a few votes
// and openings from the order form, unless the demo has articles already.
func loadKnowledge(ctx context.Context, d *db.DB, now time.Time) error {
	authz, err := policies.New(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	return d.InTx(ctx, func(tx bun.Tx) error {
		if n, err := tx.NewSelect().Model((*knowledge.Article)(nil)).Count(ctx); err != nil || n > 0 {
			return err
		}
		for i, seed := range articleSeeds {
			if err := seedArticle(ctx, tx, authz, seed, now.Add(-time.Duration(len(articleSeeds)-i)*24*time.Hour)); err != nil {
				return fmt.Errorf("demo article %q: %w", seed.En.Title, err)
			}
		}
		return nil
	})
}

func seedArticle(ctx context.Context, tx bun.Tx, authz *policies.Authorizer, seed articleSeed, at time.Time) error {
	author, err := units.GetUserByEmail(ctx, tx, seed.Author)
	if err != nil {
		return err
	}
	unit, err := units.GetUnitByCode(ctx, tx, seed.Provider)
	if err != nil {
		return err
	}
	var serviceIDs []int64
	for _, code := range seed.Services {
		var svc catalog.Service
		if err := tx.NewSelect().Model(&svc).Where("code = ?", code).Scan(ctx); err != nil {
			return fmt.Errorf("service %s: %w", code, err)
		}
		serviceIDs = append(serviceIDs, svc.ID)
	}
	v := knowledge.Viewer{UserID: author.ID, Authz: authz}
	a, err := knowledge.Create(ctx, tx, v, unit.ID, knowledge.Content{Audience: &seed.Audience, ServiceIDs: &serviceIDs,
		Texts: map[string]knowledge.TextInput{"en": seed.En, "fi": seed.Fi}}, at)
	if err != nil {
		return err
	}
	if a, err = knowledge.Act(ctx, tx, v, a.ID, a.Version, "publish", at); err != nil {
		return err
	}
	for email, helpful := range seed.Votes {
		reader, err := units.GetUserByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		rv := knowledge.Viewer{UserID: reader.ID, Authz: authz}
		var service int64
		if len(serviceIDs) > 0 {
			service = serviceIDs[0]
		}
		if err := knowledge.RecordView(ctx, tx, rv, a, knowledge.FromOrderForm, service, at.Add(time.Hour)); err != nil {
			return err
		}
		if _, err := knowledge.Vote(ctx, tx, rv, a.ID, helpful, at.Add(time.Hour)); err != nil {
			return err
		}
	}
	return nil
}
