package web

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Limits keep slow or numerous connections from holding the service's file
// descriptors and goroutines: a client must send its headers within
// HeaderTimeout and its body at a minimum rate (at least BodyMinBytes in
// every BodyWindow, with no total deadline, so a large upload on a slow but
// steady link goes through), may idle IdleTimeout between requests, and may
// hold at most ConnsPerClient connections at once.
type Limits struct {
	HeaderTimeout  time.Duration
	MaxHeaderBytes int
	BodyWindow     time.Duration
	BodyMinBytes   int64
	IdleTimeout    time.Duration
	ConnsPerClient int
}

// DefaultLimits are the limits of `vanthu serve`: a body must bring 8 KiB
// in every 30 s (about 270 bytes a second, a poor mobile link's share).
var DefaultLimits = Limits{
	HeaderTimeout:  10 * time.Second,
	MaxHeaderBytes: 64 << 10,
	BodyWindow:     30 * time.Second,
	BodyMinBytes:   8 << 10,
	IdleTimeout:    2 * time.Minute,
	ConnsPerClient: 100,
}

// NewHTTPServer is the http.Server for h with the header and idle limits of
// l; h should come from Server.Handler (which enforces the body rate, with
// the Server's BodyLimits).
func NewHTTPServer(h http.Handler, l Limits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.HeaderTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		IdleTimeout:       l.IdleTimeout,
	}
}

// errBodyTooSlow is a request body that fell below the minimum rate.
var errBodyTooSlow = errors.New("the request body arrived too slowly")

// bodyProgress makes each request body keep a minimum rate: the connection's
// read deadline starts one window ahead and moves a window on each time
// the body has brought the window's bytes. Only requests with a body get a
// deadline: one left on a bodiless request would cancel its context when it
// expired (net/http watches the idle connection while a handler runs).
func bodyProgress(l Limits) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l.BodyWindow <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
				rc := http.NewResponseController(w)
				if err := rc.SetReadDeadline(time.Now().Add(l.BodyWindow)); err == nil {
					r.Body = &progressReader{ReadCloser: r.Body, rc: rc, limits: l}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

type progressReader struct {
	io.ReadCloser
	rc     *http.ResponseController
	limits Limits
	got    int64 // bytes since the deadline last moved
	done   bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.got += int64(n)
	switch {
	case errors.Is(err, io.EOF) && !p.done:
		// The whole body is in: no deadline while the handler works.
		p.done = true
		_ = p.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, errBodyTooSlow
	case err == nil && p.got >= p.limits.BodyMinBytes:
		p.got = 0
		_ = p.rc.SetReadDeadline(time.Now().Add(p.limits.BodyWindow))
	}
	return n, err
}

// LimitListener closes, as soon as it is accepted, a connection from an
// address that already holds max connections (max <= 0: no limit). The
// exempt prefixes (trusted reverse proxies, which carry many clients on
// their connections) are not counted.
func LimitListener(ln net.Listener, max int, exempt []netip.Prefix) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, exempt: exempt, open: map[netip.Addr]int{}}
}

type limitListener struct {
	net.Listener
	max    int
	exempt []netip.Prefix
	mu     sync.Mutex
	open   map[netip.Addr]int
	warned time.Time
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			return c, nil // not TCP/IP: nothing to count by
		}
		addr := ap.Addr().Unmap()
		if l.isExempt(addr) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[addr] >= l.max {
			warn := time.Since(l.warned) > time.Minute
			if warn {
				l.warned = time.Now()
			}
			l.mu.Unlock()
			if warn {
				slog.Warn("refusing connections beyond the per-client limit", "client", addr.String(), "limit", l.max)
			}
			c.Close()
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *limitListener) isExempt(a netip.Addr) bool {
	for _, p := range l.exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (l *limitListener) release(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a]--; l.open[a] <= 0 {
		delete(l.open, a)
	}
}

// countedConn gives its slot back once, on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
