package accounts_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/storage"
)

// cachedOffice is an office whose tokens are authenticated by a Service
// with its token cache started, on a pool whose statements are counted.
type cachedOffice struct {
	*office
	cached *accounts.Service
	trips  *testharness.RoundTrips
	now    time.Time
}

// newCachedOffice starts the cache after the office is made and tokens
// issues the test's tokens, so that no notification of their making is
// still on its way when the test starts.
func newCachedOffice(t *testing.T, tokens func(o *office)) *cachedOffice {
	t.Helper()
	o := newOffice(t)
	tokens(o)
	pool, trips := testharness.TracedPool(t, o.db.Pool)
	c := &cachedOffice{office: o, trips: trips, now: time.Now()}
	c.cached = &accounts.Service{DB: &storage.DB{Pool: pool}, Now: func() time.Time { return c.now }}
	ctx, cancel := context.WithCancel(context.Background())
	wait := c.cached.StartTokenCache(ctx)
	t.Cleanup(func() {
		cancel()
		wait()
	})
	if !c.cached.TokenCacheStats().Listening {
		t.Fatal("the token cache does not listen")
	}
	return c
}

// authenticate authenticates token with the cached Service and returns
// the statements it sent.
func (c *cachedOffice) authenticate(t *testing.T, token string) (accounts.Principal, error, int) {
	t.Helper()
	c.trips.Reset()
	p, err := c.cached.AuthenticateToken(context.Background(), token)
	_, statements := c.trips.Counts()
	return p, err, statements
}

// waitFor polls the cache's state until ok says yes; it fails the test
// after a minute, which only a broken listener takes.
func (c *cachedOffice) waitFor(t *testing.T, what string, ok func(accounts.TokenCacheStats) bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(c.cached.TokenCacheStats()); {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s: %+v", what, c.cached.TokenCacheStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func issue(t *testing.T, o *office, role string, expires *time.Time) string {
	t.Helper()
	token, _, err := o.svc.IssueToken(context.Background(), accounts.Operator("test"), o.users[role].ID, "test", nil, expires)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestTokenCacheSecondLookupAsksNothing: the first request with a token
// asks the database who holds it, the next ones do not; an unknown token is
// asked every time (refusals are not kept).
func TestTokenCacheSecondLookupAsksNothing(t *testing.T) {
	var token string
	c := newCachedOffice(t, func(o *office) { token = issue(t, o, storage.RoleDrafter, nil) })
	for i, want := range []int{1, 0, 0} {
		p, err, statements := c.authenticate(t, token)
		if err != nil || p.ID != c.users[storage.RoleDrafter].ID || statements != want {
			t.Fatalf("lookup %d: %v %q, %d statements, want %d", i+1, err, p.Username, statements, want)
		}
	}
	for i := range 2 {
		if _, err, statements := c.authenticate(t, "vt_khongco"); !errors.Is(err, accounts.ErrUnauthenticated) || statements != 1 {
			t.Fatalf("unknown token, lookup %d: %v, %d statements", i+1, err, statements)
		}
	}
	if n := c.cached.TokenCacheStats().Entries; n != 1 {
		t.Fatalf("%d entries kept, want 1", n)
	}
}

// TestTokenCacheChangedInProcess: a token revoked, its user disabled or
// their roles changed through the Service that keeps the cache is seen by
// the very next request, before any notification arrives.
func TestTokenCacheChangedInProcess(t *testing.T) {
	op := accounts.Operator("test")
	for _, tc := range []struct {
		name   string
		change func(c *cachedOffice, tokenID string) error
		// roles is what the next request sees; nil: it is refused.
		roles []string
	}{
		{"token revoked", func(c *cachedOffice, tokenID string) error {
			return c.cached.RevokeToken(context.Background(), op, tokenID)
		}, nil},
		{"user disabled", func(c *cachedOffice, _ string) error {
			_, err := c.cached.SetDisabled(context.Background(), op, c.users[storage.RoleDrafter].ID, true)
			return err
		}, nil},
		{"roles changed", func(c *cachedOffice, _ string) error {
			_, err := c.cached.SetRoles(context.Background(), op, c.users[storage.RoleDrafter].ID, []string{storage.RoleClerk})
			return err
		}, []string{storage.RoleClerk}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var token string
			c := newCachedOffice(t, func(o *office) { token = issue(t, o, storage.RoleDrafter, nil) })
			p, err := c.cached.AuthenticateToken(context.Background(), token)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.change(c, p.TokenID); err != nil {
				t.Fatal(err)
			}
			p, err, statements := c.authenticate(t, token)
			if statements != 1 {
				t.Errorf("the next lookup sent %d statements, want 1", statements)
			}
			if tc.roles == nil {
				if !errors.Is(err, accounts.ErrUnauthenticated) {
					t.Fatalf("next request: %v, want refused", err)
				}
				return
			}
			if err != nil || !slices.Equal(p.Roles, tc.roles) {
				t.Fatalf("next request: %v, roles %v, want %v", err, p.Roles, tc.roles)
			}
		})
	}
}

// TestTokenCacheChangedBySQL: a change made by plain SQL on another
// connection, as another process makes it, is seen by the first request
// after its notification is handled.
func TestTokenCacheChangedBySQL(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  string // $1 is the token's id when onToken, else its user's
		// onToken: the statement changes the token's row.
		onToken bool
		// roles and units are what the next request sees; refused: nothing.
		refused bool
		roles   []string
		units   int
	}{
		{name: "token revoked", sql: "UPDATE api_tokens SET revoked_at = now() WHERE id = $1", onToken: true, refused: true},
		{name: "token deleted", sql: "DELETE FROM api_tokens WHERE id = $1", onToken: true, refused: true},
		{name: "token expired", sql: "UPDATE api_tokens SET expires_at = now() WHERE id = $1", onToken: true, refused: true},
		{name: "user disabled", sql: "UPDATE users SET disabled_at = now() WHERE id = $1", refused: true},
		{name: "role removed", sql: "DELETE FROM user_roles WHERE user_id = $1 AND role = 'drafter'", roles: []string{}, units: 1},
		{name: "role added", sql: "INSERT INTO user_roles (user_id, role) VALUES ($1, 'clerk')",
			roles: []string{storage.RoleClerk, storage.RoleDrafter}, units: 1},
		{name: "unit removed", sql: "DELETE FROM user_units WHERE user_id = $1", roles: []string{storage.RoleDrafter}, units: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var token string
			c := newCachedOffice(t, func(o *office) { token = issue(t, o, storage.RoleDrafter, nil) })
			ctx := context.Background()
			p, err := c.cached.AuthenticateToken(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if _, err, statements := c.authenticate(t, token); err != nil || statements != 0 {
				t.Fatalf("before the change: %v, %d statements", err, statements)
			}
			before := c.cached.TokenCacheStats().Notifications
			row := p.ID
			if tc.onToken {
				row = p.TokenID
			}
			if _, err := c.db.Pool.Exec(ctx, tc.sql, row); err != nil {
				t.Fatal(err)
			}
			c.waitFor(t, "the notification", func(s accounts.TokenCacheStats) bool { return s.Notifications > before })
			got, err, statements := c.authenticate(t, token)
			if statements != 1 {
				t.Errorf("the next lookup sent %d statements, want 1", statements)
			}
			if tc.refused {
				if !errors.Is(err, accounts.ErrUnauthenticated) {
					t.Fatalf("next request: %v, want refused", err)
				}
				return
			}
			if err != nil || !slices.Equal(got.Roles, tc.roles) || len(got.UnitIDs) != tc.units {
				t.Fatalf("next request: %v, roles %v units %v, want %v and %d", err, got.Roles, got.UnitIDs, tc.roles, tc.units)
			}
		})
	}
}

// TestTokenCacheListenerLost: while the listener's connection is gone
// every lookup asks the database (a change then would not be told); once
// it listens again the cache is used again.
func TestTokenCacheListenerLost(t *testing.T) {
	var token string
	c := newCachedOffice(t, func(o *office) { token = issue(t, o, storage.RoleDrafter, nil) })
	ctx := context.Background()
	if _, err := c.cached.AuthenticateToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	pid := c.cached.TokenCacheStats().ListenerPID
	var killed bool
	if err := c.db.Pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the listener's backend %d: %v %v", pid, killed, err)
	}
	// The lookups below may come before the listener notices: they must
	// ask the database only once it has (and every time then).
	c.waitFor(t, "the listener to notice", func(s accounts.TokenCacheStats) bool { return !s.Listening || s.Connects > 1 })
	if s := c.cached.TokenCacheStats(); !s.Listening {
		for i := range 2 {
			if _, err, statements := c.authenticate(t, token); err != nil || statements != 1 {
				t.Fatalf("lookup %d while not listening: %v, %d statements", i+1, err, statements)
			}
		}
	}
	c.waitFor(t, "the listener to reconnect", func(s accounts.TokenCacheStats) bool { return s.Listening && s.Connects == 2 })
	if s := c.cached.TokenCacheStats(); s.ListenerPID == pid || s.Entries != 0 {
		t.Fatalf("after reconnecting: %+v", s)
	}
	for i, want := range []int{1, 0} {
		if _, err, statements := c.authenticate(t, token); err != nil || statements != want {
			t.Fatalf("lookup %d after reconnecting: %v, %d statements, want %d", i+1, err, statements, want)
		}
	}
}

// TestTokenCacheTokenExpires: an entry ends at the earlier of the
// token's expiry and the cache's lifetime, though nothing told the cache.
func TestTokenCacheTokenExpires(t *testing.T) {
	expires := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	var token string
	c := newCachedOffice(t, func(o *office) { token = issue(t, o, storage.RoleDrafter, &expires) })
	for _, step := range []struct {
		name       string
		now        time.Time
		statements int
	}{
		{"first", c.now, 1},
		{"kept", c.now, 0},
		{"after the lifetime", c.now.Add(2 * time.Minute), 1},
		{"kept again", c.now.Add(2 * time.Minute), 0},
		{"a second before the token's expiry", expires.Add(-time.Second), 1},
		{"at the token's expiry", expires, 1},
		{"never kept past its expiry", expires, 1},
	} {
		c.now = step.now
		// The database's clock has not reached the expiry: it answers.
		if _, err, statements := c.authenticate(t, token); err != nil || statements != step.statements {
			t.Fatalf("%s: %v, %d statements, want %d", step.name, err, statements, step.statements)
		}
	}
}
