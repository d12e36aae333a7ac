// Package webtest is the one test kit of the web rooms: a small organisation
// behind a real server (Fixture), API and browser clients, and the desks
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
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/policies"
	"github.com/tiski/tiski/units"
	"github.com/tiski/tiski/web"
)

// TestPassword is every fixture user's password; hashes use cheap argon2
// costs so the suite stays quick under -race.
const TestPassword = "correct horse battery"

// CheapHash are argon2 costs that keep the suite quick under -race.
var CheapHash = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

// Fixture is a small organisation behind a real HTTP server:
//
//	GROUP ── IT ── IT-SD
//	      └─ MKT
type Fixture struct {
	T     *testing.T
	DB    *db.DB
	Srv   *httptest.Server
	Units map[string]int64
	Users map[string]int64
}

// Personas and the roles they hold in the fixture.
var Personas = []struct {
	Name      string
	UnitRoles [][2]string
	OrgRoles  []string
}{
	{Name: "admin", OrgRoles: []string{"admin"}},
	{Name: "finance", OrgRoles: []string{"finance"}},
	{Name: "auditor", OrgRoles: []string{"auditor"}},
	{Name: "groupmgr", UnitRoles: [][2]string{{"GROUP", "manager"}}},
	{Name: "itmgr", UnitRoles: [][2]string{{"IT", "manager"}}},
	{Name: "itagent", UnitRoles: [][2]string{{"IT", "agent"}}},
	{Name: "mktmember", UnitRoles: [][2]string{{"MKT", "member"}}},
	{Name: "nobody"},
}

// NewFixture builds the organisation and its personas over d, behind a fresh server.
func NewFixture(t *testing.T, d *db.DB) *Fixture {
	t.Helper()
	f := &Fixture{T: t, DB: d, Units: map[string]int64{}, Users: map[string]int64{}}
	f.Srv = httptest.NewServer(NewServer(t, d, web.Config{}).Handler())
	t.Cleanup(f.Srv.Close)
	ctx := context.Background()
	hash, err := auth.HashPassword(TestPassword, CheapHash)
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		for _, u := range []struct{ code, parent string }{{"GROUP", ""}, {"IT", "GROUP"}, {"IT-SD", "IT"}, {"MKT", "GROUP"}} {
			unit := units.Unit{Code: u.code, Name: u.code + " unit"}
			if u.parent != "" {
				p := f.Units[u.parent]
				unit.ParentID = &p
			}
			created, err := units.CreateUnit(ctx, tx, 0, unit)
			if err != nil {
				return err
			}
			f.Units[u.code] = created.ID
		}
		for _, p := range Personas {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: p.Name + "@example.org", Name: p.Name, PasswordHash: hash})
			if err != nil {
				return err
			}
			f.Users[p.Name] = u.ID
			for _, ur := range p.UnitRoles {
				if _, err := units.GrantUnitRole(ctx, tx, 0, f.Units[ur[0]], u.ID, ur[1]); err != nil {
					return err
				}
			}
			for _, r := range p.OrgRoles {
				if _, err := units.GrantOrgRole(ctx, tx, 0, u.ID, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	f.enrolSecondFactors()
	return f
}

// NewServer builds a web server over d with its own authorizer, as one
// `tiski serve` process would.
func NewServer(t *testing.T, d *db.DB, cfg web.Config) *web.Server {
	t.Helper()
	ctx := context.Background()
	var org *units.Organisation
	err := d.InTx(ctx, func(tx bun.Tx) (err error) {
		org, err = units.EnsureOrganisation(ctx, tx, "EUR", "Europe/Helsinki")
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
	res := c.Call("POST", "/api/v1/session", map[string]string{"email": name + "@example.org", "password": TestPassword})
	res = f.CompleteSignIn(c, name, res)
	if res.Status != http.StatusOK {
		f.T.Fatalf("login %s: %d %s", name, res.Status, res.Body)
	}
	c.CSRF = res.Str("csrf_token")
	return c
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
