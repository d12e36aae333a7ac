// Package webtest is the web rooms' part of the one test kit: the standard
// organisation of package testkit behind a real server (Fixture), API and browser clients, and the desks
// (orders, charges) that the API, portal and server tests build on.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web"
)

// TestPassword is every fixture user's password; hashes use cheap argon2
// costs so the suite stays quick under -race.
const TestPassword = "correct horse battery"

// CheapHash are argon2 costs that keep the suite quick under -race.
var CheapHash = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

// Fixture is the standard test organisation of package testkit (Kit)
// behind a real HTTP server, every person with the password TestPassword
// and the money-role holders enrolled in a second factor:
//
//	HQ ── IT ── IT-SD
//	   │     └─ IT-NET
//	   ├─ MKT ── MKT-DIG
//	   ├─ FIN
//	   └─ LEGAL
//
// Units are the unit ids by code and Users the user ids by persona name (the
// kit's, plus groupmgr, manager of HQ, and nobody, who holds no role). Both
// maps also answer to the names of the web kit's former organisation
// (Aliases), so older tests keep reading; new tests use the kit's names.
type Fixture struct {
	T     *testing.T
	DB    *db.DB
	Kit   *testkit.Kit
	Srv   *httptest.Server
	Units map[string]int64
	Users map[string]int64
}

// Persona is a person of the fixture and the roles they hold: UnitRoles as
// (unit code, role) pairs, OrgRoles organisation-wide.
type Persona struct {
	Name      string
	UnitRoles [][2]string
	OrgRoles  []string
}

// Personas are the people of the fixture: the kit's, groupmgr and nobody.
var Personas = []Persona{
	{Name: "member", UnitRoles: [][2]string{{"MKT", "member"}}},
	{Name: "manager", UnitRoles: [][2]string{{"MKT", "manager"}}},
	{Name: "agent", UnitRoles: [][2]string{{"IT", "agent"}}},
	{Name: "itmanager", UnitRoles: [][2]string{{"IT", "manager"}}},
	{Name: "finance", OrgRoles: []string{"finance"}},
	{Name: "finance2", OrgRoles: []string{"finance"}},
	{Name: "auditor", OrgRoles: []string{"auditor"}},
	{Name: "admin", OrgRoles: []string{"admin"}},
	{Name: "groupmgr", UnitRoles: [][2]string{{"HQ", "manager"}}},
	{Name: "nobody"},
}

// Aliases are the former web kit's names of units and people, each naming
// the kit's unit or persona it now stands for.
var Aliases = map[string]string{
	"GROUP":     "HQ",
	"mktmember": "member",
	"itagent":   "agent",
	"itmgr":     "itmanager",
}

// NewFixture builds the standard organisation over d, behind a fresh server.
func NewFixture(t *testing.T, d *db.DB) *Fixture {
	t.Helper()
	k := testkit.New(t, d, testkit.Passwords(passwordHash(t)))
	f := &Fixture{T: t, DB: d, Kit: k, Units: k.Units.ByCode(), Users: k.People.ByName()}
	f.Users["groupmgr"] = k.AddPerson(t, "groupmgr", testkit.Grant{Unit: k.Units.HQ, Role: "manager"})
	f.Users["nobody"] = k.AddPerson(t, "nobody")
	f.alias(Aliases)
	f.Srv = httptest.NewServer(NewServer(t, d, web.Config{}).Handler())
	t.Cleanup(f.Srv.Close)
	f.enrolSecondFactors()
	return f
}

// alias lets each alias name what its target names, in Units or in Users.
func (f *Fixture) alias(aliases map[string]string) {
	for alias, name := range aliases {
		if id, ok := f.Units[name]; ok {
			f.Units[alias] = id
		}
		if id, ok := f.Users[name]; ok {
			f.Users[alias] = id
		}
	}
}

// AddPerson adds a person called name (name@example.org, with the fixture's
// password) holding grants, under Users[name].
func (f *Fixture) AddPerson(name string, grants ...testkit.Grant) int64 {
	f.T.Helper()
	f.Users[name] = f.Kit.AddPerson(f.T, name, grants...)
	return f.Users[name]
}

var (
	hashOnce sync.Once
	hashed   string
	hashErr  error
)

// passwordHash is TestPassword hashed with CheapHash, once per test binary.
func passwordHash(t *testing.T) string {
	t.Helper()
	hashOnce.Do(func() { hashed, hashErr = auth.HashPassword(TestPassword, CheapHash) })
	if hashErr != nil {
		t.Fatal(hashErr)
	}
	return hashed
}

// Email is the address persona name signs in with: the stored one of a
// fixture user (so an alias signs in as the persona it stands for), else
// name@example.org, for a user the test made through the API.
func (f *Fixture) Email(name string) string {
	f.T.Helper()
	if id, ok := f.Users[name]; ok {
		if u, err := units.GetUser(context.Background(), f.DB, id); err == nil {
			return u.Email
		}
	}
	return testkit.Email(name)
}

// NewServer builds a web server over d with its own authorizer, as one
// `tiski serve` process would.
func NewServer(t *testing.T, d *db.DB, cfg web.Config) *web.Server {
	t.Helper()
	ctx := context.Background()
	var org *units.Organisation
	err := d.InTx(ctx, func(tx bun.Tx) (err error) {
		org, err = units.EnsureOrganisation(ctx, tx, testkit.Currency, testkit.TimeZone)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authz, err := policies.New(ctx, d, log)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "64K"
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 20 * time.Second
	}
	if cfg.PasswordHash == (auth.HashParams{}) {
		cfg.PasswordHash = CheapHash
	}
	return web.New(d, authz, org, log, cfg)
}

// Client is an API caller: a browser with a cookie jar and CSRF token, or a
// script with a bearer token.
type Client struct {
	T      *testing.T
	Base   string
	HTTP   *http.Client
	CSRF   string
	Bearer string
}

// NewClient is an API caller with a cookie jar.
func NewClient(t *testing.T, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{T: t, Base: base, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// Login signs in as a persona through POST /session (and, for the
// personas whose roles need a second factor, POST /session/second-factor).
func (f *Fixture) Login(name string) *Client {
	f.T.Helper()
	c := NewClient(f.T, f.Srv.URL)
	res := c.Call("POST", "/api/v1/session", map[string]string{"email": f.Email(name), "password": TestPassword})
	res = f.CompleteSignIn(c, name, res)
	if res.Status != http.StatusOK {
		f.T.Fatalf("login %s: %d %s", name, res.Status, res.Body)
	}
	c.CSRF = res.Str("csrf_token")
	return c
}

// LoginPersonas signs every persona in through the API, each client also
// under the persona's aliases.
func (f *Fixture) LoginPersonas() map[string]*Client {
	f.T.Helper()
	as := map[string]*Client{}
	for _, p := range Personas {
		as[p.Name] = f.Login(p.Name)
	}
	shareAliases(as, Aliases)
	return as
}

// shareAliases files each persona's client under its aliases too.
func shareAliases(as map[string]*Client, aliases map[string]string) {
	for alias, name := range aliases {
		if c, ok := as[name]; ok {
			as[alias] = c
		}
	}
}

// Response is an API answer, its body decoded when it is JSON.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Str is a string field of the answer.
func (r Response) Str(key string) string {
	s, _ := r.JSON[key].(string)
	return s
}

// ErrorCode is the error envelope's code.
func (r Response) ErrorCode() string {
	e, _ := r.JSON["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// Items are the rows of a list answer.
func (r Response) Items() []map[string]any {
	raw, _ := r.JSON["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// Call sends body as JSON (a []byte is sent as is) and decodes the answer.
func (c *Client) Call(method, path string, body any) Response {
	c.T.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.Base+path, r)
	if err != nil {
		c.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Send(req)
}

// Send sends req with the client's credentials.
func (c *Client) Send(req *http.Request) Response {
	c.T.Helper()
	if c.CSRF != "" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	return out
}

// Count is the number of rows in table.
func (f *Fixture) Count(table string) int {
	f.T.Helper()
	n, err := f.DB.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		f.T.Fatal(err)
	}
	return int(n)
}

// OrgRoles are the organisation-wide roles the persona holds now.
func (f *Fixture) OrgRoles(name string) []string {
	f.T.Helper()
	roles, err := units.OrgRolesOf(context.Background(), f.DB, f.Users[name])
	if err != nil {
		f.T.Fatal(err)
	}
	return roles
}

// ID is an id as the API writes it.
func ID(n int64) string { return strconv.FormatInt(n, 10) }

// FiledDaysAgo moves a request's filing back by days, for tests that book
// work on days before today: time can only be dated from the day a
// request was filed.
func (f *Fixture) FiledDaysAgo(rid string, days int) {
	f.T.Helper()
	ctx := context.Background()
	var filed time.Time
	if err := f.DB.NewSelect().Table("requests").Column("created_at").Where("id = ?", rid).Scan(ctx, &filed); err != nil {
		f.T.Fatalf("filed when: %v", err)
	}
	if _, err := f.DB.NewUpdate().Table("requests").Set("created_at = ?", filed.AddDate(0, 0, -days)).Where("id = ?", rid).Exec(ctx); err != nil {
		f.T.Fatalf("backdate request %s: %v", rid, err)
	}
}
