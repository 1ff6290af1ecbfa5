package accounts

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/vanthu/vanthu/storage"
)

// TestTokenCacheRules: what the cache keeps and serves, driven step by
// step: nothing while not listening, nothing stored by a lookup that began
// before a notification (the race between a lookup and a revocation), an
// entry ends at the token's expiry or the lifetime, whichever is first,
// a full cache starts again empty, and what it serves is the caller's.
func TestTokenCacheRules(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	key := sha256.Sum256([]byte("vt_một"))
	p := Principal{User: storage.User{ID: "u1", Roles: []string{storage.RoleDrafter}}, TokenID: "t1", Scopes: []string{"*"}}
	soon := now.Add(10 * time.Second)
	late := now.Add(time.Hour)

	for _, tc := range []struct {
		name string
		// steps run on a listening cache between begin and put.
		between   func(c *tokenCache)
		listening bool
		expires   *time.Time
		at        time.Time // when the entry is asked for
		kept      bool
	}{
		{name: "kept", listening: true, at: now.Add(time.Second), kept: true},
		{name: "not listening: nothing kept", listening: false, at: now.Add(time.Second)},
		{name: "notification during the lookup", listening: true, at: now.Add(time.Second),
			between: func(c *tokenCache) { c.invalidate() }},
		{name: "listener lost during the lookup", listening: true, at: now.Add(time.Second),
			between: func(c *tokenCache) { c.setListening(false, 0) }},
		{name: "listener lost and back during the lookup", listening: true, at: now.Add(time.Second),
			between: func(c *tokenCache) { c.setListening(false, 0); c.setListening(true, 7) }},
		{name: "token expires before the lifetime", listening: true, expires: &soon, at: soon},
		{name: "token expires before the lifetime, asked before", listening: true, expires: &soon, at: soon.Add(-time.Nanosecond), kept: true},
		{name: "lifetime ends before the token", listening: true, expires: &late, at: now.Add(time.Minute)},
		{name: "lifetime not over", listening: true, expires: &late, at: now.Add(time.Minute - time.Nanosecond), kept: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTokenCache(10, time.Minute)
			c.setListening(tc.listening, 1)
			generation, keep := c.begin()
			if keep != tc.listening {
				t.Fatalf("begin: keep %v, listening %v", keep, tc.listening)
			}
			if tc.between != nil {
				tc.between(c)
			}
			c.put(key, generation, p, tc.expires, now)
			got, ok := c.get(key, tc.at)
			if ok != tc.kept {
				t.Fatalf("served %v, want %v", ok, tc.kept)
			}
			if ok && (got.ID != p.ID || got.TokenID != p.TokenID || len(got.Roles) != 1) {
				t.Fatalf("served %+v", got)
			}
		})
	}

	t.Run("a notification empties it", func(t *testing.T) {
		c := newTokenCache(10, time.Minute)
		c.setListening(true, 1)
		g, _ := c.begin()
		c.put(key, g, p, nil, now)
		c.invalidate()
		if _, ok := c.get(key, now); ok {
			t.Fatal("served after a notification")
		}
	})

	t.Run("bounded", func(t *testing.T) {
		c := newTokenCache(3, time.Minute)
		c.setListening(true, 1)
		for i := range 7 {
			g, _ := c.begin()
			c.put(sha256.Sum256([]byte{byte(i)}), g, p, nil, now)
			if n := len(c.entries); n > 3 || n != i%3+1 {
				t.Fatalf("after %d puts: %d entries", i+1, n)
			}
		}
		if _, ok := c.get(sha256.Sum256([]byte{6}), now); !ok {
			t.Fatal("the last one stored is not kept")
		}
	})

	t.Run("what it serves is the caller's", func(t *testing.T) {
		c := newTokenCache(10, time.Minute)
		c.setListening(true, 1)
		g, _ := c.begin()
		c.put(key, g, p, nil, now)
		got, _ := c.get(key, now)
		got.Roles[0], got.Scopes[0] = storage.RoleAdmin, "x"
		again, _ := c.get(key, now)
		if again.Roles[0] != storage.RoleDrafter || again.Scopes[0] != "*" {
			t.Fatalf("a caller changed the kept principal: %+v", again)
		}
	})

	t.Run("nil keeps nothing", func(t *testing.T) {
		var c *tokenCache
		g, keep := c.begin()
		c.put(key, g, p, nil, now)
		c.invalidate()
		if _, ok := c.get(key, now); ok || keep {
			t.Fatal("a nil cache kept something")
		}
	})
}
