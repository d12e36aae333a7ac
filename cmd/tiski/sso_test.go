package main

import (
	"strings"
	"testing"
)

func TestServeSingleSignOnSettings(t *testing.T) {
	out, _ := runCmd(t, "", "serve", "--help")
	for _, flag := range []string{"-oidc-issuer", "-oidc-client-id", "-oidc-client-secret", "-oidc-redirect-url", "-oidc-name",
		"-oidc-jit", "-oidc-groups", "-oidc-groups-claim", "-local-login", "TISKI_OIDC_ISSUER", "TISKI_LOCAL_LOGIN"} {
		if !strings.Contains(out, flag) {
			t.Errorf("serve --help does not name %s", flag)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--local-login", "off"}, "needs single sign-on"},
		{[]string{"--local-login", "sometimes"}, "all, admins or off"},
		{[]string{"--oidc-issuer", "https://id.example", "--oidc-redirect-url", "https://tiski.example/auth/oidc/callback"}, "client id is required"},
		{[]string{"--oidc-issuer", "https://id.example", "--oidc-client-id", "tiski", "--oidc-redirect-url", "https://t.example/cb",
			"--oidc-groups", "staff=HQ:owner"}, "--oidc-groups"},
	} {
		_, err := runCmd(t, "", append([]string{"serve", "--db", "sqlite:" + t.TempDir() + "/t.db", "--addr", "127.0.0.1:0"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %v: err %v, want %q", c.args, err, c.want)
		}
	}
}
