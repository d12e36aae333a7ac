package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/tiski/tiski/auth"
	"github.com/tiski/tiski/sso"
	"github.com/tiski/tiski/web"
)

// ssoFlags declares serve's single sign-on flags on fs; the returned
// function, called after parsing, puts them into cfg.
func ssoFlags(fs *flag.FlagSet) func(cfg *web.Config) error {
	issuer := fs.String("oidc-issuer", os.Getenv("TISKI_OIDC_ISSUER"),
		"OpenID Connect issuer URL; turns single sign-on on (or TISKI_OIDC_ISSUER)")
	clientID := fs.String("oidc-client-id", os.Getenv("TISKI_OIDC_CLIENT_ID"), "OpenID Connect client id (or TISKI_OIDC_CLIENT_ID)")
	secret := fs.String("oidc-client-secret", os.Getenv("TISKI_OIDC_CLIENT_SECRET"),
		"OpenID Connect client secret; prefer TISKI_OIDC_CLIENT_SECRET, which no process list shows")
	redirect := fs.String("oidc-redirect-url", os.Getenv("TISKI_OIDC_REDIRECT_URL"),
		"Tiski's callback as registered at the provider, https://HOST/auth/oidc/callback (or TISKI_OIDC_REDIRECT_URL)")
	name := fs.String("oidc-name", envOr("TISKI_OIDC_NAME", "SSO"), `the provider's name on the login page, "Sign in with NAME" (or TISKI_OIDC_NAME)`)
	jit := fs.Bool("oidc-jit", os.Getenv("TISKI_OIDC_JIT") == "true",
		"create a user on first sign-in when nobody has their verified e-mail (or TISKI_OIDC_JIT=true)")
	groups := fs.String("oidc-groups", os.Getenv("TISKI_OIDC_GROUPS"),
		"map provider groups to roles: group=UNIT:member|agent|manager, group=finance|auditor|admin (never granted by the claim alone), comma-separated (or TISKI_OIDC_GROUPS)")
	claim := fs.String("oidc-groups-claim", envOr("TISKI_OIDC_GROUPS_CLAIM", sso.DefaultGroupsClaim),
		"the ID token claim that lists the groups (or TISKI_OIDC_GROUPS_CLAIM)")
	local := fs.String("local-login", envOr("TISKI_LOCAL_LOGIN", string(auth.LocalLoginAll)),
		"who may sign in with a Tiski password: all, admins (break-glass) or off (or TISKI_LOCAL_LOGIN)")
	return func(cfg *web.Config) error {
		if v := os.Getenv("TISKI_OIDC_JIT"); v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				return fmt.Errorf("TISKI_OIDC_JIT: %w", err)
			}
		}
		rules, err := sso.ParseGroups(*groups)
		if err != nil {
			return fmt.Errorf("--oidc-groups: %w", err)
		}
		cfg.SSO = sso.Settings{Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, RedirectURL: *redirect,
			Name: *name, JIT: *jit, GroupsClaim: *claim, Groups: rules}
		if err := cfg.SSO.Check(); err != nil {
			return err
		}
		if cfg.LocalLogin, err = auth.ParseLocalLogin(*local); err != nil {
			return fmt.Errorf("--local-login: %w", err)
		}
		if cfg.LocalLogin != auth.LocalLoginAll && !cfg.SSO.Enabled() {
			return fmt.Errorf("--local-login %s needs single sign-on (--oidc-issuer), or nobody could sign in", cfg.LocalLogin)
		}
		return nil
	}
}
