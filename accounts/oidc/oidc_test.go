package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/accounts/oidc"
	"github.com/vanthu/vanthu/accounts/oidc/oidctest"
	"github.com/vanthu/vanthu/audit"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

func TestMain(m *testing.M) { testharness.Main(m) }

const (
	clientID     = "vanthu-xa-a"
	clientSecret = "bí-mật-của-client-oidc"
	redirectURL  = "https://vanthu.xa-a.gov.vn/api/v1/session/oidc/callback"
)

// browser follows no redirects: each step of the flow is looked at.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize sends the browser to the provider and returns the state and
// code it is sent back to the callback with.
func authorize(t *testing.T, authURL string) (state, code string) {
	t.Helper()
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirectURL+"?") {
		t.Fatalf("provider answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("state"), loc.Query().Get("code")
}

func newClient(t *testing.T, p *oidctest.Provider, claim string) *oidc.Client {
	t.Helper()
	c, err := oidc.New(context.Background(), oidc.Config{Issuer: p.URL, ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: redirectURL, UsernameClaim: claim})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFinish runs the authorization code flow against the test provider
// and checks every way its answer can fail to establish who logged in.
func TestFinish(t *testing.T) {
	an := map[string]any{"sub": "248289761001", "preferred_username": "An", "upn": "binh"}
	for _, tc := range []struct {
		name    string
		claim   string
		tamper  func(map[string]any)
		foreign bool                                    // ID token signed with a key the provider does not publish
		alter   func(f *oidc.Flow, state, code *string) // the callback as received
		want    string                                  // username, or the error's text
		err     error
	}{
		{name: "success", want: "An"},
		{name: "configured claim", claim: "upn", want: "binh"},
		{name: "wrong nonce", tamper: func(c map[string]any) { c["nonce"] = "a-nonce-of-another-login" }, err: oidc.ErrIdentity, want: "nonce"},
		{name: "wrong audience", tamper: func(c map[string]any) { c["aud"] = "another-client" }, err: oidc.ErrIdentity, want: "audience"},
		{name: "expired token", tamper: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, err: oidc.ErrIdentity, want: "expired"},
		{name: "other issuer", tamper: func(c map[string]any) { c["iss"] = "https://idp.example.com" }, err: oidc.ErrIdentity, want: "different provider"},
		{name: "foreign signature", foreign: true, err: oidc.ErrIdentity, want: "signature"},
		{name: "no username claim", tamper: func(c map[string]any) { delete(c, "preferred_username") }, err: oidc.ErrIdentity, want: "no preferred_username claim"},
		{name: "state of another login", alter: func(_ *oidc.Flow, s, _ *string) { *s = "another-state" }, err: oidc.ErrFlow},
		{name: "no state", alter: func(_ *oidc.Flow, s, _ *string) { *s = "" }, err: oidc.ErrFlow},
		{name: "flow too old", alter: func(f *oidc.Flow, _, _ *string) { f.Started = f.Started.Add(-oidc.FlowTTL - time.Second) }, err: oidc.ErrFlow},
		{name: "wrong PKCE verifier", alter: func(f *oidc.Flow, _, _ *string) { f.Verifier = strings.Repeat("v", 43) }, err: oidc.ErrIdentity, want: "invalid_grant"},
		{name: "unknown code", alter: func(_ *oidc.Flow, _, c *string) { *c = "not-a-code" }, err: oidc.ErrIdentity, want: "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := oidctest.New(t, clientID, clientSecret)
			p.LogIn(an)
			p.Tamper(tc.tamper)
			if tc.foreign {
				p.SignWithForeignKey(t)
			}
			c := newClient(t, p, tc.claim)
			authURL, flow := c.Begin(time.Now())
			// The flow survives its trip through the cookie.
			flow, err := oidc.DecodeFlow(flow.Encode())
			if err != nil {
				t.Fatal(err)
			}
			state, code := authorize(t, authURL)
			if tc.alter != nil {
				tc.alter(&flow, &state, &code)
			}
			id, err := c.Finish(context.Background(), flow, state, code, time.Now())
			t.Logf("Finish: %v", err)
			if tc.err == nil {
				if err != nil || id.Username != tc.want || id.Subject != "248289761001" {
					t.Fatalf("Finish: %+v %v", id, err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), clientSecret) {
				t.Fatalf("Finish: %v, want %v with %q", err, tc.err, tc.want)
			}
		})
	}
}

func TestCodeUsedOnce(t *testing.T) {
	p := oidctest.New(t, clientID, clientSecret)
	p.LogIn(map[string]any{"sub": "1", "preferred_username": "an"})
	c := newClient(t, p, "")
	authURL, flow := c.Begin(time.Now())
	state, code := authorize(t, authURL)
	if _, err := c.Finish(context.Background(), flow, state, code, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(context.Background(), flow, state, code, time.Now()); !errors.Is(err, oidc.ErrIdentity) {
		t.Fatalf("replayed code: %v", err)
	}
}

func TestDecodeFlowRefusesGarbage(t *testing.T) {
	for _, s := range []string{"", "not base64!", "e30", oidc.Flow{State: "s"}.Encode()} {
		if _, err := oidc.DecodeFlow(s); !errors.Is(err, oidc.ErrFlow) {
			t.Errorf("DecodeFlow(%q): %v", s, err)
		}
	}
}

// TestLoginThroughProvider maps what the provider vouches for onto vanthu
// accounts: an existing user gets a session like a password login, audited
// with the method; an unknown or disabled one gets none, and no account is
// made.
func TestLoginThroughProvider(t *testing.T) {
	ctx := context.Background()
	dbURL := testharness.Postgres(t)
	if err := storage.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	svc := &accounts.Service{DB: db}
	op := accounts.Operator("test")
	org, err := svc.CreateOrganization(ctx, op, storage.Organization{Code: "UBND", Name: "Ủy ban nhân dân xã A"})
	if err != nil {
		t.Fatal(err)
	}
	an, err := svc.CreateUser(ctx, op, accounts.NewUser{Username: "an", FullName: "Nguyễn Văn An", OrganizationID: org.ID, Roles: []string{"signer"}})
	if err != nil {
		t.Fatal(err)
	}
	users, _ := storage.CountUsers(ctx, db.Pool)

	p := oidctest.New(t, clientID, clientSecret)
	c := newClient(t, p, "")
	login := func(username string) (string, accounts.Principal, error) {
		p.LogIn(map[string]any{"sub": "s-" + username, "preferred_username": username})
		authURL, flow := c.Begin(time.Now())
		state, code := authorize(t, authURL)
		id, err := c.Finish(ctx, flow, state, code, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return svc.LoginExternal(ctx, id.Username, "10.0.0.7", "oidc")
	}
	secret, p1, err := login("AN")
	if err != nil || p1.ID != an.ID {
		t.Fatalf("login as an: %+v %v", p1, err)
	}
	if got, err := svc.AuthenticateSession(ctx, secret); err != nil || got.ID != an.ID {
		t.Fatalf("the session opened through the provider: %+v %v", got, err)
	}
	if _, _, err := login("khach"); !errors.Is(err, accounts.ErrNoAccount) {
		t.Fatalf("unknown user: %v", err)
	}
	if n, _ := storage.CountUsers(ctx, db.Pool); n != users {
		t.Fatalf("%d users after logins, %d before: an account was made", n, users)
	}
	entries, err := audit.Entries(ctx, db.Pool, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "login.") {
			got = append(got, e.Action+" "+e.Object+" "+string(e.Details))
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "login.success user:"+an.ID) || !strings.Contains(got[0], `"method": "oidc"`) && !strings.Contains(got[0], `"method":"oidc"`) ||
		!strings.HasPrefix(got[1], "login.failure user:unknown") || !strings.Contains(got[1], "khach") {
		t.Fatalf("audit: %q", got)
	}
}
