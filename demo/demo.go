// Package demo loads the demo organisation: a Helsinki-based group with its
// departments, teams, people and roles, so every screen has something true
// to show. Loading is idempotent: what exists is kept, what is missing added.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/units"
)

// Password is every demo user's password.
const Password = "tiski-demo"

// Currency and TimeZone are the demo organisation's settings, and
// HolidayPreset the public holidays of its units' business calendars.
const (
	Currency      = "EUR"
	TimeZone      = "Europe/Helsinki"
	HolidayPreset = "fi"
)

type unitSeed struct {
	Code, Name, Parent string
	ThresholdMinor     int64
	Budget, Chargeback string
}

var unitSeeds = []unitSeed{
	{Code: "CC-1000", Name: "Group"},
	{Code: "CC-1100", Name: "IT", Parent: "CC-1000", ThresholdMinor: 200000},
	{Code: "CC-1110", Name: "IT Service Desk", Parent: "CC-1100", ThresholdMinor: 50000},
	{Code: "CC-1120", Name: "IT Infrastructure", Parent: "CC-1100", ThresholdMinor: 100000},
	{Code: "CC-1200", Name: "Marketing", Parent: "CC-1000", ThresholdMinor: 100000},
	{Code: "CC-1210", Name: "Brand", Parent: "CC-1200", ThresholdMinor: 50000},
	{Code: "CC-1220", Name: "Digital Marketing", Parent: "CC-1200", ThresholdMinor: 50000, Budget: units.BudgetHard},
	{Code: "CC-1300", Name: "Finance", Parent: "CC-1000", ThresholdMinor: 100000},
	{Code: "CC-1400", Name: "HR", Parent: "CC-1000", ThresholdMinor: 100000},
	{Code: "CC-1500", Name: "Facilities", Parent: "CC-1000", ThresholdMinor: 150000},
	{Code: "CC-1600", Name: "Legal", Parent: "CC-1000", ThresholdMinor: 100000, Chargeback: units.ModeShowback},
}

// Person is a demo user and the roles they hold.
type Person struct {
	Email, Name, Locale string
	UnitRoles           [][2]string // {unit code, role}
	OrgRoles            []string
	Persona             string // what to try when signed in as them
}

// People lists the demo users, as printed after loading.
var People = []Person{
	{Email: "ville.virtanen@tiski.example", Name: "Ville Virtanen", Locale: "fi", OrgRoles: []string{"admin"}, Persona: "admin: units, users, grants"},
	{Email: "sanna.korhonen@tiski.example", Name: "Sanna Korhonen", Locale: "fi", OrgRoles: []string{"finance"},
		UnitRoles: [][2]string{{"CC-1300", "member"}}, Persona: "finance: charges, disputes, periods"},
	{Email: "mikko.nieminen@tiski.example", Name: "Mikko Nieminen", Locale: "en", OrgRoles: []string{"finance"},
		UnitRoles: [][2]string{{"CC-1300", "manager"}}, Persona: "finance (second approver) and Finance manager"},
	{Email: "liisa.makinen@tiski.example", Name: "Liisa Mäkinen", Locale: "en", OrgRoles: []string{"auditor"}, Persona: "auditor: reads every book and trail"},
	{Email: "ilkka.kallio@tiski.example", Name: "Ilkka Kallio", Locale: "fi", UnitRoles: [][2]string{{"CC-1000", "manager"}}, Persona: "Group manager: manages every unit below"},
	{Email: "juha.laine@tiski.example", Name: "Juha Laine", Locale: "fi", UnitRoles: [][2]string{{"CC-1100", "manager"}}, Persona: "IT manager"},
	{Email: "emma.heikkinen@tiski.example", Name: "Emma Heikkinen", Locale: "en",
		UnitRoles: [][2]string{{"CC-1100", "agent"}, {"CC-1110", "agent"}, {"CC-1110", "member"}}, Persona: "IT agent: works the IT queue"},
	{Email: "otto.koskinen@tiski.example", Name: "Otto Koskinen", Locale: "fi",
		UnitRoles: [][2]string{{"CC-1100", "agent"}, {"CC-1120", "member"}}, Persona: "IT agent"},
	{Email: "maria.jarvinen@tiski.example", Name: "Maria Järvinen", Locale: "en", UnitRoles: [][2]string{{"CC-1200", "manager"}}, Persona: "Marketing manager: approves, disputes"},
	{Email: "leena.lehtonen@tiski.example", Name: "Leena Lehtonen", Locale: "en",
		UnitRoles: [][2]string{{"CC-1200", "member"}, {"CC-1210", "member"}}, Persona: "Marketing staff: orders laptops"},
	{Email: "antti.salo@tiski.example", Name: "Antti Salo", Locale: "fi",
		UnitRoles: [][2]string{{"CC-1220", "member"}, {"CC-1200", "agent"}}, Persona: "Digital Marketing staff, campaign designer"},
	{Email: "pekka.hamalainen@tiski.example", Name: "Pekka Hämäläinen", Locale: "fi",
		UnitRoles: [][2]string{{"CC-1500", "manager"}, {"CC-1500", "agent"}}, Persona: "Facilities manager and agent"},
	{Email: "kaisa.rantanen@tiski.example", Name: "Kaisa Rantanen", Locale: "fi", UnitRoles: [][2]string{{"CC-1500", "agent"}}, Persona: "Facilities agent"},
	{Email: "helena.aaltonen@tiski.example", Name: "Helena Aaltonen", Locale: "en",
		UnitRoles: [][2]string{{"CC-1600", "manager"}, {"CC-1600", "agent"}}, Persona: "Legal counsel and manager"},
	{Email: "timo.lindholm@tiski.example", Name: "Timo Lindholm", Locale: "fi",
		UnitRoles: [][2]string{{"CC-1400", "manager"}, {"CC-1400", "agent"}}, Persona: "HR manager and recruiter"},
}

// Load adds whatever part of the demo organisation is missing: units and
// people, the catalog, the request history (charged as it was resolved)
// and then the books (billing runs, periods, disputes, budgets), and the
// scheduled notices due by now.
func Load(ctx context.Context, d *db.DB, params auth.HashParams) error {
	return load(ctx, d, params, time.Now().UTC())
}

// load is Load as of now: the history ends there.
func load(ctx context.Context, d *db.DB, params auth.HashParams, now time.Time) error {
	hash, err := auth.HashPassword(Password, params)
	if err != nil {
		return err
	}
	// The organisation first: the units' calendars, the SLA clocks and
	// the months the history is charged to all run on its time zone.
	org, err := organisation(ctx, d)
	if err != nil {
		return err
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		unitIDs := map[string]int64{}
		for _, seed := range unitSeeds {
			id, err := ensureUnit(ctx, tx, seed, unitIDs, org.TimeZone, now)
			if err != nil {
				return err
			}
			unitIDs[seed.Code] = id
		}
		for _, p := range People {
			if err := ensurePerson(ctx, tx, p, hash, unitIDs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := loadCatalog(ctx, d, org, now); err != nil {
		return err
	}
	if err := loadKnowledge(ctx, d, now); err != nil {
		return err
	}
	if err := loadRequests(ctx, d, org, now); err != nil {
		return err
	}
	if err := loadBooks(ctx, d, org, now); err != nil {
		return err
	}
	return loadNotices(ctx, d, org, now)
}

// ensureUnit creates the unit of seed unless it exists, with office hours
// and Finnish public holidays as its business calendar.
func ensureUnit(ctx context.Context, tx bun.Tx, seed unitSeed, ids map[string]int64, timeZone string, now time.Time) (int64, error) {
	existing, err := units.GetUnitByCode(ctx, tx, seed.Code)
	if err == nil {
		return existing.ID, nil
	}
	if !fault.Is(err, fault.KindNotFound) {
		return 0, err
	}
	u := units.Unit{Code: seed.Code, Name: seed.Name, ApprovalThresholdMinor: seed.ThresholdMinor,
		BudgetMode: seed.Budget, ChargebackMode: seed.Chargeback}
	if seed.Parent != "" {
		parent := ids[seed.Parent]
		u.ParentID = &parent
	}
	created, err := units.CreateUnit(ctx, tx, 0, u)
	if err != nil {
		return 0, fmt.Errorf("demo unit %s: %w", seed.Code, err)
	}
	cal := units.DefaultCalendar(timeZone)
	cal.Preset = HolidayPreset
	if err := units.SetCalendar(ctx, tx, 0, created.ID, cal, now); err != nil {
		return 0, fmt.Errorf("demo calendar of %s: %w", seed.Code, err)
	}
	return created.ID, nil
}

func ensurePerson(ctx context.Context, tx bun.Tx, p Person, hash string, unitIDs map[string]int64) error {
	u, err := units.GetUserByEmail(ctx, tx, p.Email)
	if fault.Is(err, fault.KindNotFound) {
		u, err = units.CreateUser(ctx, tx, 0, units.User{Email: p.Email, Name: p.Name, Locale: p.Locale, PasswordHash: hash})
	}
	if err != nil {
		return fmt.Errorf("demo user %s: %w", p.Email, err)
	}
	for _, ur := range p.UnitRoles {
		if _, err := units.GrantUnitRole(ctx, tx, 0, unitIDs[ur[0]], u.ID, ur[1]); err != nil && !fault.Is(err, fault.KindConflict) {
			return fmt.Errorf("demo grant %s %s to %s: %w", ur[1], ur[0], p.Email, err)
		}
	}
	for _, role := range p.OrgRoles {
		if _, err := units.GrantOrgRole(ctx, tx, 0, u.ID, role); err != nil && !fault.Is(err, fault.KindConflict) {
			return fmt.Errorf("demo grant %s to %s: %w", role, p.Email, err)
		}
	}
	return nil
}
