// Package testkit is the one standard organisation the domain tests build
// on, instead of a world per test file (as GoToSocial's testrig gives every
// test the same named fixtures). New builds it in a test's database:
//
//	HQ ── IT (provider) ── IT-SD
//	   │               └─ IT-NET
//	   ├─ MKT ── MKT-DIG
//	   ├─ FIN
//	   └─ LEGAL (showback)
//
// with the personas of People, the services of Services (IT provides them
// all, prices in EUR from 2020-01-01, first response in 60 and resolution in
// 480 business minutes) and an authorizer that knows every grant. Everything
// is made by the operator (actor 0), as `tiski` on the server would.
//
// The kit imports no package that posts money or moves requests (billing,
// requests, reports), nor any web package, so their own tests, internal or
// external, can import it; each test file adds on top only what is specific
// to it. The web tests' fixture (web/webtest) is this organisation too,
// with passwords (Passwords) and a server.
package testkit

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/calendar"
	"github.com/tiski/tiski/catalog"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
)

// Currency and TimeZone are the organisation's.
const (
	Currency = "EUR"
	TimeZone = "Europe/Helsinki"
)

// Helsinki is TimeZone resolved once.
var Helsinki = mustZone(TimeZone)

// Kit is the standard organisation in one test database.
type Kit struct {
	DB       *db.DB
	Org      units.Organisation
	Authz    *policies.Authorizer
	Units    Units
	People   People
	Services Services

	passwordHash string // given to every person the kit makes
}

// Units are the unit ids by name.
type Units struct {
	HQ         int64 // the top of the tree
	IT         int64 // provides every kit service
	ITDesk     int64 // IT-SD, IT's service desk team
	ITNet      int64 // IT-NET, IT's network team
	MKT        int64 // Marketing, the ordering unit
	MKTDigital int64 // MKT-DIG, a team under Marketing
	FIN        int64 // Finance's own cost center
	LEGAL      int64 // on showback: charges are shown, not booked
}

// People are the personas' user ids.
type People struct {
	Member    int64 // member of MKT: files and follows MKT's requests
	Manager   int64 // manager of MKT (and so of MKT-DIG)
	Agent     int64 // agent of IT: works IT's queue
	ITManager int64 // manager of IT: runs IT's services
	Finance   int64
	Finance2  int64 // a second finance user, for four eyes
	Auditor   int64
	Admin     int64
}

// ByCode are the unit ids by unit code (HQ, IT, IT-SD, ...).
func (u Units) ByCode() map[string]int64 {
	return map[string]int64{"HQ": u.HQ, "IT": u.IT, "IT-SD": u.ITDesk, "IT-NET": u.ITNet,
		"MKT": u.MKT, "MKT-DIG": u.MKTDigital, "FIN": u.FIN, "LEGAL": u.LEGAL}
}

// ByName are the personas' user ids by their names (member, manager, ...),
// which are also their e-mail addresses' local parts.
func (p People) ByName() map[string]int64 {
	return map[string]int64{"member": p.Member, "manager": p.Manager, "agent": p.Agent, "itmanager": p.ITManager,
		"finance": p.Finance, "finance2": p.Finance2, "auditor": p.Auditor, "admin": p.Admin}
}

// Services are what IT offers.
type Services struct {
	Laptop  Service // fixed 1,200.00, no approval
	Licence Service // per unit 333.33 (a price that rounds), no approval
	Help    Service // hourly 60.00, no approval
	Phone   Service // fixed 450.00, always approved by the ordering unit's manager
}

// Service is a kit service with its first rate.
type Service struct {
	catalog.Service
	Rate catalog.Rate
}

// Option changes the standard organisation before it is built.
type Option func(*plan)

// ChargebackMode puts the unit with code (e.g. "MKT") on mode.
func ChargebackMode(code, mode string) Option {
	return func(p *plan) { p.unit(code).mode = mode }
}

// Price sets the first rate of the service with code (e.g. "PHONE").
func Price(code string, priceMinor int64) Option {
	return func(p *plan) { p.service(code).price = priceMinor }
}

// Approval sets the approval policy of the service with code.
func Approval(code, policy string) Option {
	return func(p *plan) { p.service(code).approval = policy }
}

// Passwords gives every person the kit makes, the personas and those of
// AddPerson, the password whose hash is hash, for the tests that sign
// people in (web/webtest); without it people have no password.
func Passwords(hash string) Option {
	return func(p *plan) { p.passwordHash = hash }
}

type unitPlan struct {
	code, name, parent, mode string
	id                       *int64
}

type servicePlan struct {
	code, name, model, approval string
	price                       int64
	into                        *Service
}

type personPlan struct {
	name, unit, role string // unit "": role is an organisation role
	id               *int64
}

type plan struct {
	units    []*unitPlan
	services []*servicePlan
	people   []personPlan

	passwordHash string
}

func (p *plan) unit(code string) *unitPlan {
	for _, u := range p.units {
		if u.code == code {
			return u
		}
	}
	panic("testkit: no unit " + code)
}

func (p *plan) service(code string) *servicePlan {
	for _, s := range p.services {
		if s.code == code {
			return s
		}
	}
	panic("testkit: no service " + code)
}

func standard(k *Kit) *plan {
	u, s, pp := &k.Units, &k.Services, &k.People
	return &plan{
		units: []*unitPlan{
			{code: "HQ", name: "Headquarters", id: &u.HQ},
			{code: "IT", name: "IT", parent: "HQ", id: &u.IT},
			{code: "IT-SD", name: "IT service desk", parent: "IT", id: &u.ITDesk},
			{code: "IT-NET", name: "IT network", parent: "IT", id: &u.ITNet},
			{code: "MKT", name: "Marketing", parent: "HQ", id: &u.MKT},
			{code: "MKT-DIG", name: "Digital marketing", parent: "MKT", id: &u.MKTDigital},
			{code: "FIN", name: "Finance", parent: "HQ", id: &u.FIN},
			{code: "LEGAL", name: "Legal", parent: "HQ", mode: units.ModeShowback, id: &u.LEGAL},
		},
		services: []*servicePlan{
			{code: "LAPTOP", name: "Laptop", model: "fixed", approval: "never", price: 120000, into: &s.Laptop},
			{code: "LICENCE", name: "Software licence", model: "per_unit", approval: "never", price: 33333, into: &s.Licence},
			{code: "HELP", name: "Expert help", model: "hourly", approval: "never", price: 6000, into: &s.Help},
			{code: "PHONE", name: "Phone", model: "fixed", approval: "always", price: 45000, into: &s.Phone},
		},
		people: []personPlan{
			{"member", "MKT", "member", &pp.Member},
			{"manager", "MKT", "manager", &pp.Manager},
			{"agent", "IT", "agent", &pp.Agent},
			{"itmanager", "IT", "manager", &pp.ITManager},
			{"finance", "", "finance", &pp.Finance},
			{"finance2", "", "finance", &pp.Finance2},
			{"auditor", "", "auditor", &pp.Auditor},
			{"admin", "", "admin", &pp.Admin},
		},
	}
}

// New builds the standard organisation, changed by opts, in d.
func New(t testing.TB, d *db.DB, opts ...Option) *Kit {
	t.Helper()
	k := &Kit{DB: d}
	p := standard(k)
	for _, opt := range opts {
		opt(p)
	}
	k.passwordHash = p.passwordHash
	k.Do(t, func(ctx context.Context, tx bun.Tx) error {
		org, err := units.EnsureOrganisation(ctx, tx, Currency, TimeZone)
		if err != nil {
			return err
		}
		k.Org = *org
		codes := map[string]int64{}
		for _, u := range p.units {
			unit := units.Unit{Code: u.code, Name: u.name, ChargebackMode: u.mode}
			if u.parent != "" {
				parent := codes[u.parent]
				unit.ParentID = &parent
			}
			created, err := units.CreateUnit(ctx, tx, 0, unit)
			if err != nil {
				return err
			}
			codes[u.code], *u.id = created.ID, created.ID
		}
		for _, person := range p.people {
			grant := Grant{Role: person.role}
			if person.unit != "" {
				grant.Unit = codes[person.unit]
			}
			if *person.id, err = addPerson(ctx, tx, person.name, k.passwordHash, grant); err != nil {
				return err
			}
		}
		for _, s := range p.services {
			svc, rate, err := catalog.CreateService(ctx, tx, 0, catalog.Service{ProviderUnitID: k.Units.IT, Code: s.code, Name: s.name,
				PricingModel: s.model, ApprovalPolicy: s.approval, SLAFirstResponseMinutes: 60, SLAResolutionMinutes: 480},
				nil, catalog.Rate{PriceMinor: s.price, Currency: Currency, EffectiveFrom: "2020-01-01"})
			if err != nil {
				return err
			}
			*s.into = Service{Service: *svc, Rate: *rate}
		}
		return nil
	})
	if k.Org.Location == nil {
		t.Fatalf("testkit: organisation has no location for %s", TimeZone)
	}
	var err error
	if k.Authz, err = policies.New(context.Background(), d, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("testkit: authorizer: %v", err)
	}
	return k
}

// Grant is a role a person holds: in Unit, or in the organisation when
// Unit is 0.
type Grant struct {
	Unit int64
	Role string
}

// AddPerson adds a user called name (name@example.org) holding grants, for
// the few tests that need someone the standard organisation lacks, and
// refreshes the authorizer.
func (k *Kit) AddPerson(t testing.TB, name string, grants ...Grant) int64 {
	t.Helper()
	var id int64
	k.Do(t, func(ctx context.Context, tx bun.Tx) (err error) {
		id, err = addPerson(ctx, tx, name, k.passwordHash, grants...)
		return err
	})
	k.Refresh(t)
	return id
}

func addPerson(ctx context.Context, tx bun.Tx, name, passwordHash string, grants ...Grant) (int64, error) {
	u, err := units.CreateUser(ctx, tx, 0, units.User{Email: Email(name), Name: name, PasswordHash: passwordHash})
	if err != nil {
		return 0, err
	}
	for _, g := range grants {
		switch {
		case g.Role == "":
		case g.Unit == 0:
			_, err = units.GrantOrgRole(ctx, tx, 0, u.ID, g.Role)
		default:
			_, err = units.GrantUnitRole(ctx, tx, 0, g.Unit, u.ID, g.Role)
		}
		if err != nil {
			return 0, err
		}
	}
	return u.ID, nil
}

// Email is the address of the kit's person called name.
func Email(name string) string { return name + "@example.org" }

// Refresh makes the authorizer see grants made since it loaded.
func (k *Kit) Refresh(t testing.TB) {
	t.Helper()
	if err := k.Authz.Refresh(context.Background()); err != nil {
		t.Fatalf("testkit: refresh the authorizer: %v", err)
	}
}

// Do runs fn in one transaction and fails the test if it fails.
func (k *Kit) Do(t testing.TB, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := k.DB.InTx(ctx, func(tx bun.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("testkit: %v", err)
	}
}

// Time is a wall-clock time in the organisation's zone.
func Time(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, Helsinki)
}

func mustZone(name string) *time.Location {
	loc, err := calendar.Zone(name)
	if err != nil {
		panic("testkit: " + err.Error())
	}
	return loc
}

// Step runs one named step of a narrative test as a subtest, so a failure
// names its step, and stops the test when the step fails: the steps after it
// would only run on a broken state.
func Step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, fn) {
		t.FailNow()
	}
}
