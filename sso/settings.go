// Package sso signs people in through the organisation's OpenID Connect
// provider: the authorization code flow with PKCE, a state and a nonce kept
// server-side and bound to the browser that started it, the ID token
// verified against the issuer's keys, and the rules that turn the
// provider's word into a Tiski user (matched by subject once linked, or by
// verified e-mail; created just in time when allowed) and into unit roles
// (from the provider's groups; never a money role, which still takes two
// people).
package sso

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tiski/tiski/units"
)

// Settings configure single sign-on. With no Issuer it is off.
type Settings struct {
	Issuer       string // the provider's issuer URL (discovery is below it)
	ClientID     string
	ClientSecret string
	RedirectURL  string // Tiski's callback, as registered at the provider
	// Name is how the login page names the provider ("Sign in with Name").
	Name string
	// JIT creates a user on their first sign-in when no user has their
	// verified e-mail.
	JIT bool
	// GroupsClaim is the ID token claim that lists the person's groups.
	GroupsClaim string
	// Groups map the provider's groups to Tiski roles.
	Groups []GroupRule
}

// Enabled says whether single sign-on is configured.
func (s Settings) Enabled() bool { return s.Issuer != "" }

// DefaultGroupsClaim is the claim groups are read from unless set.
const DefaultGroupsClaim = "groups"

// Check reports a setting that cannot work.
func (s Settings) Check() error {
	if !s.Enabled() {
		return nil
	}
	for name, v := range map[string]string{"client id": s.ClientID, "redirect URL": s.RedirectURL} {
		if v == "" {
			return fmt.Errorf("single sign-on: the %s is required with an issuer", name)
		}
	}
	return nil
}

// GroupRule gives the holders of a provider group a role: a unit role in
// Unit (by code), or, with no Unit, an organisation role.
type GroupRule struct {
	Group string
	Unit  string
	Role  string
}

func (r GroupRule) String() string {
	if r.Unit == "" {
		return r.Group + "=" + r.Role
	}
	return r.Group + "=" + r.Unit + ":" + r.Role
}

// ParseGroups reads "group=UNIT:role,group=role,...": a unit role (member,
// agent, manager) in the unit with that code, or an organisation role
// (finance, auditor, admin), which a claim never grants by itself.
func ParseGroups(s string) ([]GroupRule, error) {
	var rules []GroupRule
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		group, target, ok := strings.Cut(item, "=")
		group, target = strings.TrimSpace(group), strings.TrimSpace(target)
		if !ok || group == "" || target == "" {
			return nil, fmt.Errorf("group mapping %q: want group=UNIT:role or group=role", item)
		}
		r := GroupRule{Group: group, Role: target}
		if unit, role, ok := strings.Cut(target, ":"); ok {
			r.Unit, r.Role = strings.TrimSpace(unit), strings.TrimSpace(role)
			if r.Unit == "" || !slices.Contains(units.UnitRoles, r.Role) {
				return nil, fmt.Errorf("group mapping %q: a unit role is UNIT:member, UNIT:agent or UNIT:manager", item)
			}
		} else if !slices.Contains(units.OrgRoles, r.Role) {
			return nil, fmt.Errorf("group mapping %q: an organisation role is finance, auditor or admin", item)
		}
		rules = append(rules, r)
	}
	return rules, nil
}
