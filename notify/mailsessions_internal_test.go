package notify

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
)

// countingProxy forwards connections to addr and counts them; drop closes
// every connection forwarded so far, as a server ending idle sessions.
type countingProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCountingProxy(t *testing.T, addr string) *countingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.drop() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *countingProxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

func (p *countingProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestMailSessionsKept: e-mails sent one after another go through one
// kept SMTP session, not a connection each; when the server has closed
// the kept session, the next e-mail goes through a new one, and nothing
// is lost.
func TestMailSessionsKept(t *testing.T) {
	smtpd := testharness.SMTP(t)
	proxy := newCountingProxy(t, smtpd.Addr)
	c := MailConfig{Addr: proxy.ln.Addr().String(), From: "vanthu@xa.gov.vn"}
	keep := newMailSessions(2)
	defer keep.close()
	send := func(i int) {
		t.Helper()
		if err := c.sendKept(t.Context(), keep, message{To: "head@xa.gov.vn", Subject: "s", Body: "b", MessageID: "<m@vanthu>"}); err != nil {
			t.Fatalf("mail %d: %v", i, err)
		}
	}
	for i := range 5 {
		send(i)
	}
	if got, n := len(smtpd.Mails()), proxy.accepted(); got != 5 || n != 1 {
		t.Fatalf("%d mails through %d connections, want 5 through 1", got, n)
	}
	proxy.drop()
	send(5)
	if got, n := len(smtpd.Mails()), proxy.accepted(); got != 6 || n != 2 {
		t.Fatalf("after the session was closed: %d mails through %d connections, want 6 through 2", got, n)
	}
}
