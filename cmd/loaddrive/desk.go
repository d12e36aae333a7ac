package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// persona is a demo user signed in once; every worker acting as them shares
// the session (its cookie and CSRF token are sent by hand, so no jar is
// shared between goroutines).
type persona struct {
	name, email string
	cookie      *http.Cookie
	csrf        string
	userID      string
}

var cast = []struct{ role, email string }{
	{"member", "leena.lehtonen@tiski.example"},
	{"agent", "emma.heikkinen@tiski.example"},
	{"manager", "maria.jarvinen@tiski.example"},
	{"finance", "sanna.korhonen@tiski.example"},
}

// desk is what the mix works on: the personas, the unit the member orders
// for, the service ordered, and the requests known so far.
type desk struct {
	base   *url.URL
	client *http.Client
	people map[string]*persona

	consumerUnit, providerUnit, service string

	mu   sync.Mutex
	mine []string // requests the member may see, newest last
	ours []string // the ones this run ordered from IT, which the agent works
}

func newDesk(ctx context.Context, base *url.URL, password string, conns int) (*desk, error) {
	d := &desk{base: base, people: map[string]*persona{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: conns + 8, MaxIdleConnsPerHost: conns + 8, IdleConnTimeout: time.Minute}}}
	for _, c := range cast {
		p, err := d.signIn(ctx, c.role, c.email, password)
		if err != nil {
			return nil, fmt.Errorf("sign in as %s (%s): %w", c.role, c.email, err)
		}
		d.people[c.role] = p
	}
	if err := d.discover(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *desk) signIn(ctx context.Context, role, email, password string) (*persona, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base.String()+"/api/v1/session", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var me struct {
		CSRF string `json:"csrf_token"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%d %s", res.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &me); err != nil {
		return nil, err
	}
	p := &persona{name: role, email: email, csrf: me.CSRF, userID: me.User.ID}
	for _, c := range res.Cookies() {
		if c.Name == "tiski_session" {
			p.cookie = c
		}
	}
	if p.cookie == nil {
		return nil, fmt.Errorf("no session cookie in %s", raw)
	}
	if p.userID == "" {
		var full struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		if _, err := d.call(ctx, p, http.MethodGet, "/api/v1/me", nil, &full); err != nil {
			return nil, err
		}
		p.userID = full.User.ID
	}
	return p, nil
}

// discover finds the unit the member orders for (one without a hard
// budget if there is one, so the mix is not a budget test), a per-unit IT
// service, and the member's requests so far.
func (d *desk) discover(ctx context.Context) error {
	member := d.people["member"]
	var me struct {
		Roles []struct {
			Role   string `json:"role"`
			UnitID string `json:"unit_id"`
		} `json:"roles"`
	}
	if _, err := d.call(ctx, member, http.MethodGet, "/api/v1/me", nil, &me); err != nil {
		return fmt.Errorf("member's roles: %w", err)
	}
	var units struct {
		Items []struct {
			ID         string `json:"id"`
			Code       string `json:"code"`
			BudgetMode string `json:"budget_mode"`
		} `json:"items"`
	}
	if _, err := d.call(ctx, member, http.MethodGet, "/api/v1/units?limit=200", nil, &units); err != nil {
		return fmt.Errorf("units: %w", err)
	}
	mode := map[string]string{}
	for _, u := range units.Items {
		mode[u.ID] = u.BudgetMode
		if u.Code == "CC-1100" {
			d.providerUnit = u.ID
		}
	}
	for _, r := range me.Roles {
		if r.Role != "member" {
			continue
		}
		if d.consumerUnit == "" || (mode[d.consumerUnit] == "hard" && mode[r.UnitID] != "hard") {
			d.consumerUnit = r.UnitID
		}
	}
	var services struct {
		Items []struct {
			ID   string `json:"id"`
			Code string `json:"code"`
		} `json:"items"`
	}
	if _, err := d.call(ctx, member, http.MethodGet, "/api/v1/services?limit=200", nil, &services); err != nil {
		return fmt.Errorf("services: %w", err)
	}
	for _, s := range services.Items {
		if s.Code == "IT-MONITOR" {
			d.service = s.ID
		}
	}
	if d.consumerUnit == "" || d.providerUnit == "" || d.service == "" {
		return fmt.Errorf("the demo organisation is not there (unit %q, provider %q, service IT-MONITOR %q): run `tiski serve --demo`",
			d.consumerUnit, d.providerUnit, d.service)
	}
	var mine struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if _, err := d.call(ctx, member, http.MethodGet, "/api/v1/requests?limit=100&requester_id="+member.userID, nil, &mine); err != nil {
		return fmt.Errorf("member's requests: %w", err)
	}
	for _, r := range slices.Backward(mine.Items) {
		d.mine = append(d.mine, r.ID)
	}
	return nil
}

// known is one of the member's requests (ours only: one the agent works
// too), picked by n among the 200 newest, or "" when there is none.
func (d *desk) known(n int, oursOnly bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := d.mine
	if oursOnly {
		ids = d.ours
	}
	if len(ids) == 0 {
		return ""
	}
	// The newest, as people look at what is going on now.
	return ids[len(ids)-1-n%min(len(ids), 200)]
}

// remember keeps a request this run ordered.
func (d *desk) remember(id string) {
	d.mu.Lock()
	d.mine = append(d.mine, id)
	d.ours = append(d.ours, id)
	d.mu.Unlock()
}

// answer is what one HTTP call came back with.
type answer struct {
	status int
	code   string // the error envelope's code, if any
}

// call sends one API request as p and decodes a JSON answer into into
// (when not nil). A transport failure is an error; any status is an answer.
func (d *desk) call(ctx context.Context, p *persona, method, path string, body any, into any) (answer, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base.String()+path, r)
	if err != nil {
		return answer{}, err
	}
	req.AddCookie(p.cookie)
	if method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", p.csrf)
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := d.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: res.StatusCode}
	if res.StatusCode >= 400 {
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &env)
		a.code = env.Error.Code
		return a, nil
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			return a, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return a, nil
}
