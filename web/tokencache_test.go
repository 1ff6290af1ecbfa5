package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
	"github.com/vanthu/vanthu/web"
)

// tokenLookup is how storage.UserByToken's statement begins, as
// testharness.RoundTrips lists it.
const tokenLookup = "SELECT t.id, t.user_id, t.name, t.scopes, t.created_at,"

// TestTokenCacheAPI: as serve runs, a token's second request asks the
// database nothing about the token; revoked through the API or its holder
// disabled, the token's very next request is 401; a new role is seen by
// the very next request.
func TestTokenCacheAPI(t *testing.T) {
	e := newEnv(t, 1<<20)
	ctx := context.Background()
	vp := e.office.units["VP"].ID
	admin := e.member(e.office.org.ID, "quantri", []string{storage.RoleAdmin}, vp)
	holders := map[string]member{}
	for _, name := range []string{"thuhoi", "vohieu", "doivaitro"} {
		holders[name] = e.member(e.office.org.ID, name, []string{storage.RoleDrafter}, vp)
	}
	// A Service of its own whose statements are counted, its cache
	// started after every user and token above is made: no notification
	// of their making is still on its way.
	pool, trips := testharness.TracedPool(t, e.db.Pool)
	acc := &accounts.Service{DB: &storage.DB{Pool: pool}, Keystore: e.accounts.Keystore}
	cacheCtx, stop := context.WithCancel(ctx)
	wait := acc.StartTokenCache(cacheCtx)
	t.Cleanup(func() {
		stop()
		wait()
	})
	e.configure(func(s *web.Server) { s.Accounts = acc })

	// tokenQueries sends a request with token and counts the questions
	// about tokens it asked.
	tokenQueries := func(token, method, path string) (int, int) {
		t.Helper()
		trips.Reset()
		resp, _ := send(t, e.url, token, method, path, nil, "")
		return resp.StatusCode, strings.Count(trips.String(), tokenLookup)
	}
	for _, h := range holders {
		for i, want := range []int{1, 0, 0} {
			if status, n := tokenQueries(h.token, "GET", "/api/v1/documents"); status != http.StatusOK || n != want {
				t.Fatalf("%s, request %d: %d, %d token queries, want %d", h.user.Username, i+1, status, n, want)
			}
		}
	}

	tokens, err := e.accounts.Tokens(ctx, operator, holders["thuhoi"].user.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens: %v %v", tokens, err)
	}
	// Listing another's tokens is an administrator's right.
	probe := "/api/v1/users/" + admin.user.ID + "/tokens"
	for _, h := range holders {
		if status, n := tokenQueries(h.token, "GET", probe); status != http.StatusForbidden || n != 0 {
			t.Fatalf("%s lists another's tokens: %d, %d token queries", h.user.Username, status, n)
		}
	}
	for _, tc := range []struct {
		name, method, path, body string
		holder                   string
		status                   int
	}{
		{"token revoked", "DELETE", "/api/v1/tokens/" + tokens[0].ID, "", "thuhoi", http.StatusUnauthorized},
		{"holder disabled", "POST", "/api/v1/users/" + holders["vohieu"].user.ID + "/disable", "", "vohieu", http.StatusUnauthorized},
		// The holder, an administrator now, may list another's tokens.
		{"roles changed", "PUT", "/api/v1/users/" + holders["doivaitro"].user.ID + "/roles", `{"roles": ["admin"]}`, "doivaitro", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := send(t, e.url, admin.token, tc.method, tc.path, strings.NewReader(tc.body), "application/json")
			if resp.StatusCode >= 300 {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, out)
			}
			if status, n := tokenQueries(holders[tc.holder].token, "GET", probe); status != tc.status || n != 1 {
				t.Fatalf("next request: %d, %d token queries; want %d, 1", status, n, tc.status)
			}
		})
	}
}
