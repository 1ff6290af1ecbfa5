package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00::/64")}
	cases := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies configured: the header is ignored", nil, "10.0.0.5:4000", []string{"203.0.113.9"}, "10.0.0.5"},
		{"untrusted peer: the header is ignored", proxies, "198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"trusted proxy: the client it saw", proxies, "10.0.0.5:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a forged hop left of the real client is not believed", proxies, "10.0.0.5:4000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", proxies, "10.0.0.5:4000", []string{"203.0.113.9, 10.0.0.7", "10.0.0.6"}, "203.0.113.9"},
		{"trusted proxy without the header", proxies, "10.0.0.5:4000", nil, "10.0.0.5"},
		{"a malformed hop stops the walk", proxies, "10.0.0.5:4000", []string{"203.0.113.9, bogus"}, "10.0.0.5"},
		{"IPv6 proxy and client", proxies, "[fd00::1]:4000", []string{"2001:db8::42"}, "2001:db8::42"},
		{"IPv4-mapped IPv6 client", proxies, "10.0.0.5:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"every hop trusted: the first one", proxies, "10.0.0.5:4000", []string{"10.0.0.9"}, "10.0.0.9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/session", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			s := &Server{TrustedProxies: c.trusted}
			if got := s.clientAddress(r); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
