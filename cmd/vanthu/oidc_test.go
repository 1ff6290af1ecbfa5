package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts/oidc/oidctest"
)

// TestOIDCConfig: serve's OIDC flags give a client that completes a login
// with the secret from its file, no client when no issuer is set, and a
// start-up error for half a configuration or a provider out of reach.
func TestOIDCConfig(t *testing.T) {
	const secret = "bí mật client"
	idp := oidctest.New(t, "vanthu", secret)
	idp.LogIn(map[string]any{"sub": "1", "upn": "an"})
	secretFile := writeFile(t, "secret", secret+"\n")
	redirect := "https://vanthu.example/api/v1/session/oidc/callback"
	for _, tc := range []struct {
		name string
		cfg  oidcConfig
		want string // error text; "" is a working client, "none" no client
	}{
		{"not configured", oidcConfig{claim: "preferred_username"}, "none"},
		{"client without issuer", oidcConfig{clientID: "vanthu", redirectURL: redirect}, "need --oidc-issuer"},
		{"no redirect URL", oidcConfig{issuer: idp.URL, clientID: "vanthu"}, "no redirect URL"},
		{"missing secret file", oidcConfig{issuer: idp.URL, clientID: "vanthu", redirectURL: redirect, secretFile: "/nonexistent/secret"}, "--oidc-client-secret-file"},
		{"provider unreachable", oidcConfig{issuer: "http://127.0.0.1:1", clientID: "vanthu", redirectURL: redirect}, "discover"},
		{"configured", oidcConfig{issuer: idp.URL, clientID: "vanthu", redirectURL: redirect, secretFile: secretFile, claim: "upn"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.cfg.client(context.Background())
			switch {
			case tc.want == "none":
				if c != nil || err != nil {
					t.Fatalf("%v %v", c, err)
				}
				return
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			authURL, flow := c.Begin(time.Now())
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			back, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || !strings.HasPrefix(back.String(), redirect) {
				t.Fatalf("provider sent the browser to %q", resp.Header.Get("Location"))
			}
			id, err := c.Finish(context.Background(), flow, back.Query().Get("state"), back.Query().Get("code"), time.Now())
			if err != nil || id.Username != "an" {
				t.Fatalf("login with the configured client: %+v %v", id, err)
			}
		})
	}
}
