package web_test

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

// testPassword is every fixture user's password; hashes use cheap argon2
// costs so the suite stays quick under -race.
const testPassword = "correct horse battery"

var cheapHash = auth.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

// fixture is a small organisation behind a real HTTP server:
//
//	GROUP ── IT ── IT-SD
//	      └─ MKT
type fixture struct {
	t     *testing.T
	d     *db.DB
	srv   *httptest.Server
	units map[string]int64
	users map[string]int64
}

// personas and the roles they hold in the fixture.
var personas = []struct {
	name      string
	unitRoles [][2]string
	orgRoles  []string
}{
	{name: "admin", orgRoles: []string{"admin"}},
	{name: "finance", orgRoles: []string{"finance"}},
	{name: "auditor", orgRoles: []string{"auditor"}},
	{name: "groupmgr", unitRoles: [][2]string{{"GROUP", "manager"}}},
	{name: "itmgr", unitRoles: [][2]string{{"IT", "manager"}}},
	{name: "itagent", unitRoles: [][2]string{{"IT", "agent"}}},
	{name: "mktmember", unitRoles: [][2]string{{"MKT", "member"}}},
	{name: "nobody"},
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, d: d, units: map[string]int64{}, users: map[string]int64{}}
	f.srv = httptest.NewServer(newServer(t, d, web.Config{}).Handler())
	t.Cleanup(f.srv.Close)
	ctx := context.Background()
	hash, err := auth.HashPassword(testPassword, cheapHash)
	if err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx bun.Tx) error {
		for _, u := range []struct{ code, parent string }{{"GROUP", ""}, {"IT", "GROUP"}, {"IT-SD", "IT"}, {"MKT", "GROUP"}} {
			unit := units.Unit{Code: u.code, Name: u.code + " unit"}
			if u.parent != "" {
				p := f.units[u.parent]
				unit.ParentID = &p
			}
			created, err := units.CreateUnit(ctx, tx, 0, unit)
			if err != nil {
				return err
			}
			f.units[u.code] = created.ID
		}
		for _, p := range personas {
			u, err := units.CreateUser(ctx, tx, 0, units.User{Email: p.name + "@example.org", Name: p.name, PasswordHash: hash})
			if err != nil {
				return err
			}
			f.users[p.name] = u.ID
			for _, ur := range p.unitRoles {
				if _, err := units.GrantUnitRole(ctx, tx, 0, f.units[ur[0]], u.ID, ur[1]); err != nil {
					return err
				}
			}
			for _, r := range p.orgRoles {
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
	return f
}

// newServer builds a web server over d with its own authorizer, as one
// `tiski serve` process would.
func newServer(t *testing.T, d *db.DB, cfg web.Config) *web.Server {
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
		cfg.PasswordHash = cheapHash
	}
	return web.New(d, authz, org, log, cfg)
}

// client is an API caller: a browser with a cookie jar and CSRF token, or a
// script with a bearer token.
type client struct {
	t      *testing.T
	base   string
	http   *http.Client
	csrf   string
	bearer string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// login signs in as a persona through POST /session.
func (f *fixture) login(name string) *client {
	f.t.Helper()
	c := newClient(f.t, f.srv.URL)
	res := c.call("POST", "/api/v1/session", map[string]string{"email": name + "@example.org", "password": testPassword})
	if res.status != http.StatusOK {
		f.t.Fatalf("login %s: %d %s", name, res.status, res.body)
	}
	c.csrf = res.str("csrf_token")
	return c
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r response) str(key string) string {
	s, _ := r.json[key].(string)
	return s
}

func (r response) errorCode() string {
	e, _ := r.json["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r response) items() []map[string]any {
	raw, _ := r.json["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// call sends body as JSON (a []byte is sent as is) and decodes the answer.
func (c *client) call(method, path string, body any) response {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) response {
	c.t.Helper()
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, body: raw}
	_ = json.Unmarshal(raw, &out.json)
	return out
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	n, err := f.d.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return int(n)
}

func id(n int64) string { return strconv.FormatInt(n, 10) }
