package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWebhookClientRefusesPrivateAtConnect: the webhook client checks the
// address it connects to, not the URL it was given: a name that resolves
// to loopback, the IPv6 and IPv4-mapped forms of loopback, NAT64 and the
// decimal, octal and hex spellings of 127.0.0.1 never reach a server on
// this host; a redirect is never followed. The same server is reached when
// an administrator allowed private addresses, so the refusals are the
// check's and not a closed port's.
func TestWebhookClientRefusesPrivateAtConnect(t *testing.T) {
	var hits, redirected atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirected.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, target.URL+"/metadata", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	c := webhookClient()
	post := func(ctx context.Context, url string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[64:ff9b::7f00:1]",
		"[::127.0.0.1]", "0.0.0.0", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1"} {
		_, err := post(t.Context(), "http://"+host+":"+port+"/hook")
		if err == nil {
			t.Errorf("%s: delivered", host)
		}
		// A literal or a name that resolves is refused by the check; a
		// spelling the resolver does not read never connects at all.
		if net.ParseIP(strings.Trim(host, "[]")) != nil || host == "localhost" {
			if !errors.Is(err, errPrivateAddress) {
				t.Errorf("%s: %v, want the private-address refusal", host, err)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the private server was reached %d times", n)
	}
	allowed := context.WithValue(t.Context(), allowPrivateKey{}, true)
	resp, err := post(allowed, srv.URL+"/redirect")
	if err != nil {
		t.Fatalf("allowed private endpoint: %v", err)
	}
	if hits.Load() != 1 || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("allowed private endpoint: %d hits, status %d", hits.Load(), resp.StatusCode)
	}
	if n := redirected.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
	// The connection kept alive for the allowed endpoint serves no other.
	if _, err := post(t.Context(), srv.URL+"/hook"); !errors.Is(err, errPrivateAddress) {
		t.Fatalf("after an allowed endpoint, the same server without the allowance: %v, want the private-address refusal", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the private server was reached %d times, want once (allowed)", n)
	}
}

// TestWebhookClientKeepsConnections: deliveries to one endpoint reuse one
// connection instead of dialling for each.
func TestWebhookClientKeepsConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := webhookClient()
	allowed := context.WithValue(t.Context(), allowPrivateKey{}, true)
	for range 5 {
		req, err := http.NewRequestWithContext(allowed, http.MethodPost, srv.URL+"/hook", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 deliveries one after another made %d connections, want 1", n)
	}
}
