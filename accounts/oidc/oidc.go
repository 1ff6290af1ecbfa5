// Package oidc is the OpenID Connect side of logging in for offices that
// run an identity provider: the authorization code flow with state, nonce
// and PKCE, and the checks on the ID token that comes back (signature,
// issuer, audience, expiry, nonce). It says who the provider vouches for,
// as a vanthu username taken from one claim; it never creates accounts, and
// opening the session is accounts.Service.LoginExternal's job. It is a
// package of its own so that the directory does not depend on OAuth
// libraries and offices without a provider never load them.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config names the provider and this service's registration with it.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this service's callback, registered at the provider:
	// https://host/api/v1/session/oidc/callback.
	RedirectURL string
	// UsernameClaim is the ID token claim holding the vanthu username;
	// empty is preferred_username.
	UsernameClaim string
	// HTTPClient reaches the provider; nil is http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock the token's expiry is checked against; nil is
	// time.Now.
	Now func() time.Time
}

// DefaultUsernameClaim is the claim usernames come from unless configured.
const DefaultUsernameClaim = "preferred_username"

// FlowTTL is how long a login may spend at the provider.
const FlowTTL = 10 * time.Minute

// ErrFlow is a callback that does not belong to a login this browser
// started in the last FlowTTL: no or a malformed flow cookie, a state that
// differs, or a flow too old.
var ErrFlow = errors.New("oidc: the login does not match one started from this browser, or took too long")

// ErrIdentity is an answer from the provider that does not establish who
// logged in: the code exchange failed, or the ID token is unsigned, from
// another issuer, for another client, expired, for another login (nonce),
// or without the username claim. The wrapping message says which.
var ErrIdentity = errors.New("oidc: the identity provider's answer was refused")

// Client runs logins against one provider.
type Client struct {
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	claim    string
	http     *http.Client
}

// New discovers the provider (its endpoints and keys) and returns a client
// for it.
func New(ctx context.Context, cfg Config) (*Client, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("oidc: no issuer configured")
	case cfg.ClientID == "":
		return nil, errors.New("oidc: no client id configured")
	case cfg.RedirectURL == "":
		return nil, errors.New("oidc: no redirect URL configured")
	}
	if _, err := url.Parse(cfg.RedirectURL); err != nil {
		return nil, fmt.Errorf("oidc: redirect URL: %w", err)
	}
	c := &Client{claim: cfg.UsernameClaim, http: cfg.HTTPClient}
	if c.claim == "" {
		c.claim = DefaultUsernameClaim
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, c.http), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discover %s: %w", cfg.Issuer, err)
	}
	c.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  cfg.RedirectURL,
		Scopes:       []string{gooidc.ScopeOpenID, "profile"},
	}
	// The key set is fetched (and refetched on rotation) in the
	// background, with the configured client.
	c.verifier = provider.VerifierContext(gooidc.ClientContext(context.Background(), c.http),
		&gooidc.Config{ClientID: cfg.ClientID, Now: cfg.Now})
	return c, nil
}

// Flow is what one login keeps in the browser between Begin and Finish (an
// HttpOnly cookie): the state the callback must return, the nonce the ID
// token must carry, and the PKCE verifier for the code exchange.
type Flow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Started  time.Time `json:"t"`
}

// Encode is the flow as a cookie value.
func (f Flow) Encode() string {
	b, _ := json.Marshal(f) // strings and a time always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeFlow reads a cookie value from Encode.
func DecodeFlow(s string) (Flow, error) {
	var f Flow
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return Flow{}, ErrFlow
	}
	return f, nil
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// Begin starts a login: the URL to send the browser to, and the flow to
// keep for the callback.
func (c *Client) Begin(now time.Time) (string, Flow) {
	f := Flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Started: now}
	return c.oauth.AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), f
}

// Identity is whom the provider vouched for.
type Identity struct {
	Subject  string // the provider's stable id of the person
	Username string // the configured claim, for mapping to a vanthu account
}

// Finish completes a login from the callback's state and code: the state
// must be the flow's, the code is exchanged with the flow's PKCE verifier,
// and the ID token must pass the provider's signature, issuer, audience,
// expiry and the flow's nonce.
func (c *Client) Finish(ctx context.Context, f Flow, state, code string, now time.Time) (Identity, error) {
	if now.Sub(f.Started) > FlowTTL || now.Before(f.Started.Add(-time.Minute)) {
		return Identity{}, ErrFlow
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return Identity{}, ErrFlow
	}
	if code == "" {
		return Identity{}, fmt.Errorf("%w: the callback carries no code", ErrIdentity)
	}
	ctx = gooidc.ClientContext(ctx, c.http)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: code exchange: %s", ErrIdentity, exchangeError(err))
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, fmt.Errorf("%w: the token response holds no ID token", ErrIdentity)
	}
	idt, err := c.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: ID token: %v", ErrIdentity, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return Identity{}, fmt.Errorf("%w: ID token: its nonce is not this login's", ErrIdentity)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: ID token claims: %v", ErrIdentity, err)
	}
	name, _ := claims[c.claim].(string)
	if name = strings.TrimSpace(name); name == "" {
		return Identity{}, fmt.Errorf("%w: ID token: no %s claim", ErrIdentity, c.claim)
	}
	return Identity{Subject: idt.Subject, Username: name}, nil
}

// exchangeError keeps what the provider said (its error code) and drops
// the rest of a failed exchange's response body.
func exchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return "the provider answered " + re.ErrorCode
		}
		if re.Response != nil {
			return "the provider answered " + re.Response.Status
		}
	}
	return err.Error()
}
