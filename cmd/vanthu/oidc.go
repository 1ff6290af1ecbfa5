package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/vanthu/vanthu/accounts/oidc"
	"github.com/vanthu/vanthu/signing/keys"
)

// oidcConfig is serve's optional OpenID Connect login. The client secret
// comes from a file, never a flag.
type oidcConfig struct {
	issuer, clientID, secretFile, redirectURL, claim string
}

func (c *oidcConfig) flags(f *pflag.FlagSet) {
	f.StringVar(&c.issuer, "oidc-issuer", envOr("VANTHU_OIDC_ISSUER", ""), "OpenID Connect issuer URL; empty disables OIDC login (VANTHU_OIDC_ISSUER)")
	f.StringVar(&c.clientID, "oidc-client-id", envOr("VANTHU_OIDC_CLIENT_ID", ""), "client id registered at the provider (VANTHU_OIDC_CLIENT_ID)")
	f.StringVar(&c.secretFile, "oidc-client-secret-file", envOr("VANTHU_OIDC_CLIENT_SECRET_FILE", ""), "file holding the client secret; none for a public client (VANTHU_OIDC_CLIENT_SECRET_FILE)")
	f.StringVar(&c.redirectURL, "oidc-redirect-url", envOr("VANTHU_OIDC_REDIRECT_URL", ""), "this service's callback as registered, https://HOST/api/v1/session/oidc/callback (VANTHU_OIDC_REDIRECT_URL)")
	f.StringVar(&c.claim, "oidc-username-claim", envOr("VANTHU_OIDC_USERNAME_CLAIM", oidc.DefaultUsernameClaim), "ID token claim holding the vanthu username (VANTHU_OIDC_USERNAME_CLAIM)")
}

// client discovers the provider, or returns nil when OIDC is not
// configured. A provider that cannot be reached fails the start, so a
// misconfiguration is seen at once rather than at the first login.
func (c *oidcConfig) client(ctx context.Context) (*oidc.Client, error) {
	if c.issuer == "" {
		if c.clientID != "" || c.redirectURL != "" {
			return nil, errors.New("--oidc-client-id and --oidc-redirect-url need --oidc-issuer")
		}
		return nil, nil
	}
	cfg := oidc.Config{Issuer: c.issuer, ClientID: c.clientID, RedirectURL: c.redirectURL, UsernameClaim: c.claim}
	if c.secretFile != "" {
		secret, err := keys.PasswordFromFile(c.secretFile)()
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		cfg.ClientSecret = string(secret)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return oidc.New(ctx, cfg)
}
