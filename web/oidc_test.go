package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/accounts/oidc"
	"github.com/vanthu/vanthu/accounts/oidc/oidctest"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// oidcOffice is the service with OpenID Connect login against a test
// provider, and one account (an) the provider may vouch for.
type oidcOffice struct {
	url      string
	idp      *oidctest.Provider
	accounts *accounts.Service
}

func newOIDCOffice(t *testing.T) *oidcOffice {
	t.Helper()
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
	if _, err := svc.CreateUser(ctx, op, accounts.NewUser{Username: "an", FullName: "Nguyễn Văn An", OrganizationID: org.ID, Roles: []string{"signer"}}); err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	idp := oidctest.New(t, "vanthu", "client-secret-for-tests")
	client, err := oidc.New(ctx, oidc.Config{Issuer: idp.URL, ClientID: "vanthu", ClientSecret: "client-secret-for-tests",
		RedirectURL: srv.URL + "/api/v1/session/oidc/callback"})
	if err != nil {
		t.Fatal(err)
	}
	h = (&web.Server{DB: db, Accounts: svc, OIDC: client}).Handler()
	return &oidcOffice{url: srv.URL, idp: idp, accounts: svc}
}

// browser keeps cookies and follows redirects, but stops at the page the
// login lands on.
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

func cookie(c *http.Client, rawURL, name string) *http.Cookie {
	u, _ := url.Parse(rawURL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// TestOIDCLogin goes through the routes as a browser does: the start sets
// the flow cookie and sends it to the provider, the callback opens a
// session for an existing account and lands on the home page; unknown
// accounts, tampered tokens, foreign callbacks and the provider's refusals
// get problems and no session.
func TestOIDCLogin(t *testing.T) {
	o := newOIDCOffice(t)
	ctx := context.Background()

	// The start route: a flow cookie only for the OIDC routes, HttpOnly,
	// Lax, and a redirect to the provider.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(o.url + "/api/v1/session/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var flowCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "vanthu_oidc" {
			flowCookie = c
		}
	}
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), o.idp.URL+"/authorize?") || flowCookie == nil ||
		!flowCookie.HttpOnly || flowCookie.SameSite != http.SameSiteLaxMode || flowCookie.Path != "/api/v1/session/oidc" || flowCookie.MaxAge != 600 {
		t.Fatalf("start: %d %s, cookie %+v", resp.StatusCode, resp.Header.Get("Location"), flowCookie)
	}
	for _, p := range []string{"code_challenge_method=S256", "nonce=", "state="} {
		if !strings.Contains(resp.Header.Get("Location"), p) {
			t.Fatalf("authorization URL without %s: %s", p, resp.Header.Get("Location"))
		}
	}

	t.Run("success", func(t *testing.T) {
		o.idp.LogIn(map[string]any{"sub": "1", "preferred_username": "an"})
		b := newBrowser(t)
		resp, err := b.Get(o.url + "/api/v1/session/oidc")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		session := cookie(b, o.url, "vanthu_session")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || session == nil {
			t.Fatalf("callback: %d %q, session cookie %v", resp.StatusCode, resp.Header.Get("Location"), session)
		}
		if p, err := o.accounts.AuthenticateSession(ctx, session.Value); err != nil || p.Username != "an" {
			t.Fatalf("session: %+v %v", p, err)
		}
		if cookie(b, o.url+"/api/v1/session/oidc", "vanthu_oidc") != nil {
			t.Fatal("the flow cookie outlived the callback")
		}
		resp, err = b.Get(o.url + "/api/v1/organizations")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("API with the OIDC session: %d", resp.StatusCode)
		}
	})

	for _, tc := range []struct {
		name   string
		user   map[string]any
		tamper func(map[string]any)
		status int
		slug   string
	}{
		{"unknown user", map[string]any{"sub": "2", "preferred_username": "khach"}, nil, http.StatusForbidden, "no-account"},
		{"wrong nonce", map[string]any{"sub": "1", "preferred_username": "an"}, func(c map[string]any) { c["nonce"] = "x" }, http.StatusUnauthorized, "oidc-refused"},
		{"wrong audience", map[string]any{"sub": "1", "preferred_username": "an"}, func(c map[string]any) { c["aud"] = "other" }, http.StatusUnauthorized, "oidc-refused"},
		{"provider refuses", nil, nil, http.StatusUnauthorized, "oidc-denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o.idp.LogIn(tc.user)
			o.idp.Tamper(tc.tamper)
			defer o.idp.Tamper(nil)
			b := newBrowser(t)
			resp, err := b.Get(o.url + "/api/v1/session/oidc")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			assertProblem(t, resp, tc.status, tc.slug)
			if cookie(b, o.url, "vanthu_session") != nil {
				t.Fatal("a session cookie was set")
			}
		})
	}

	t.Run("callback from another browser", func(t *testing.T) {
		o.idp.LogIn(map[string]any{"sub": "1", "preferred_username": "an"})
		// The victim's browser is handed a callback with the attacker's
		// code and state: without the flow cookie it opens nothing.
		attacker := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasSuffix(req.URL.Path, "/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		resp, err := attacker.Get(o.url + "/api/v1/session/oidc")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = newBrowser(t).Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		assertProblem(t, resp, http.StatusBadRequest, "oidc-flow")
	})
}

func assertProblem(t *testing.T, resp *http.Response, status int, slug string) {
	t.Helper()
	var p struct{ Type, Title, Detail string }
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != status ||
		resp.Header.Get("Content-Type") != "application/problem+json" || !strings.HasSuffix(p.Type, slug) {
		t.Fatalf("%d %s %+v (%v), want %d problem %s", resp.StatusCode, resp.Header.Get("Content-Type"), p, err, status, slug)
	}
	if strings.Contains(p.Detail, "client-secret-for-tests") {
		t.Fatalf("problem holds the client secret: %+v", p)
	}
}
