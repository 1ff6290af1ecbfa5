package accounts

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vanthu/vanthu/storage"
)

// Bounds of the token cache. The lifetime is a second guard only: what
// keeps the cache exact is the notification of every change (migration
// 00027); a token's own expiry ends its entry earlier.
const (
	tokenCacheEntries = 10_000
	tokenCacheTTL     = time.Minute
)

// How long the listener waits before connecting again after losing its
// connection, doubling up to the most.
const (
	listenRetryFirst = 250 * time.Millisecond
	listenRetryMost  = 30 * time.Second
)

// listenerName is the listener connection's application_name, so that an
// operator looking at pg_stat_activity knows it.
const listenerName = "vanthu token cache"

// tokenCache owns the principals of the API tokens this process has
// authenticated (AuthenticateToken), keyed by the SHA-256 of the token,
// never the token, and the listener that keeps them exact: a connection of
// its own, outside the pool, LISTENing on storage.AuthChangedChannel, every
// notification of which empties the cache. The cache is used only while
// that connection listens; losing it empties the cache and every request
// goes to the database, as it does when no listener was started.
//
// A lookup takes the generation before asking the database and stores
// its answer only if nothing emptied the cache since, so an answer read
// before a change is never kept after the change's notification.
// The methods of a nil *tokenCache keep nothing.
type tokenCache struct {
	max int
	ttl time.Duration

	mu         sync.Mutex
	entries    map[[sha256.Size]byte]cachedToken
	generation uint64
	listening  bool
	pid        uint32 // the listening connection's backend

	connects      atomic.Uint64
	notifications atomic.Uint64
}

type cachedToken struct {
	p     Principal
	until time.Time
}

func newTokenCache(max int, ttl time.Duration) *tokenCache {
	return &tokenCache{max: max, ttl: ttl, entries: map[[sha256.Size]byte]cachedToken{}}
}

// get returns the principal kept for key, if the cache is in use and the
// entry has not expired at now. The principal's slices are the caller's.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (Principal, bool) {
	if c == nil {
		return Principal{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.listening {
		return Principal{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return Principal{}, false
	}
	p := e.p
	p.Roles, p.UnitIDs, p.Scopes = slices.Clone(p.Roles), slices.Clone(p.UnitIDs), slices.Clone(p.Scopes)
	return p, true
}

// begin is called before a lookup in the database: it returns the
// generation its answer is stored under, and whether it may be stored at
// all (not while nothing listens).
func (c *tokenCache) begin() (generation uint64, keep bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation, c.listening
}

// put keeps p for key until the earlier of expires (the token's expiry,
// nil for none) and now plus the lifetime, unless the cache was emptied
// since begin returned generation. A full cache starts again empty.
func (c *tokenCache) put(key [sha256.Size]byte, generation uint64, p Principal, expires *time.Time, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if expires != nil && expires.Before(until) {
		until = *expires
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || generation != c.generation {
		return
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[key] = cachedToken{p: p, until: until}
}

// invalidate empties the cache; a lookup under way when it does keeps
// nothing.
func (c *tokenCache) invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
}

func (c *tokenCache) clearLocked() {
	c.generation++
	clear(c.entries)
}

// setListening starts or stops using the cache, emptying it either way:
// notifications sent while nothing listened are lost.
func (c *tokenCache) setListening(on bool, pid uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	c.listening, c.pid = on, pid
}

// TokenCacheStats is what the token cache of a Service is doing.
type TokenCacheStats struct {
	// Listening is whether the cache is in use: its listener is connected.
	Listening bool
	// ListenerPID is the backend of the listener's connection (0 when not
	// listening).
	ListenerPID uint32
	// Connects counts the times the listener connected and listened.
	Connects uint64
	// Notifications counts the notifications handled, each of which
	// emptied the cache.
	Notifications uint64
	// Entries is the number of principals kept.
	Entries int
}

// TokenCacheStats reports the token cache's state (the zero value when
// StartTokenCache was not called).
func (s *Service) TokenCacheStats() TokenCacheStats {
	c := s.tokens
	if c == nil {
		return TokenCacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return TokenCacheStats{Listening: c.listening, ListenerPID: c.pid, Connects: c.connects.Load(),
		Notifications: c.notifications.Load(), Entries: len(c.entries)}
}

// StartTokenCache keeps the principals of API tokens in memory, so that a
// request with a token seen lately does not ask the database who holds
// it. It connects to the database of s.DB (a connection of its own, not
// one of the pool's) and listens for changes to tokens and users; the
// cache is used only while it listens. It returns once the first attempt
// to listen succeeded or failed (failing, it tries again later, and
// requests go to the database meanwhile). The cache is used until ctx
// ends; wait returns once the listener's connection is closed. A Service
// whose cache was not started asks the database on every request.
//
// It is called once, before the Service serves anyone.
func (s *Service) StartTokenCache(ctx context.Context) (wait func()) {
	if s.tokens != nil {
		return func() {} // started already
	}
	c := newTokenCache(tokenCacheEntries, tokenCacheTTL)
	s.tokens = c
	cfg := s.DB.Pool.Config().ConnConfig
	// Its statements are the listener's own, not the requests' (whose
	// round trips a tracer counts).
	cfg.Tracer = nil
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = listenerName
	conn, err := c.connect(ctx, cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(ctx, cfg, conn, err)
	}()
	return func() { <-done }
}

// connect opens the listener's connection and listens; the cache is in
// use from then on.
func (c *tokenCache) connect(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("token cache: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+storage.AuthChangedChannel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("token cache: listen: %w", err)
	}
	c.setListening(true, conn.PgConn().PID())
	c.connects.Add(1)
	return conn, nil
}

// run receives notifications on conn (nil when connecting failed with
// err), connecting again with a growing pause whenever the connection is
// lost, until ctx ends.
func (c *tokenCache) run(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, err error) {
	retry := listenRetryFirst
	for {
		if conn != nil {
			slog.Info("token cache in use: listening for changes to API tokens and users")
			retry = listenRetryFirst
			err = c.receive(ctx, conn)
			c.setListening(false, 0)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			conn.Close(closeCtx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		slog.Warn("token cache not in use: every API request asks the database", "err", err, "retry_in", retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		retry = min(2*retry, listenRetryMost)
		conn, err = c.connect(ctx, cfg)
	}
}

// receive empties the cache at every notification until the connection
// fails or ctx ends.
func (c *tokenCache) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("token cache: wait for notification: %w", err)
		}
		c.invalidate()
		c.notifications.Add(1)
	}
}
