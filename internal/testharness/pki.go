package testharness

import (
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/vanthu/vanthu/signing/devpki"
)

// pkiKeys keeps the dev PKI's generated keys for the life of the test binary:
// RSA key generation is the slow part, and every test still gets its own
// certificates (which name its own responder URL) and its own state.
var pkiKeys devpki.KeyPool

// DevPKI creates a development PKI (with the ECDSA signer) in t.TempDir() and
// serves its OCSP, CRL, TSA and CA-certificate responders on a loopback port
// until the test ends. The certificates point at that server: p.URL() is its
// base URL, p.OCSPURL() and p.TSAURL() its responders.
func DevPKI(t testing.TB) *devpki.PKI {
	t.Helper()
	// Listen first, so the certificates can name the real address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dev PKI listener: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "devpki")
	if err := devpki.Init(dir, "http://"+ln.Addr().String(), devpki.Options{ECDSA: true, Keys: &pkiKeys}); err != nil {
		ln.Close()
		t.Fatalf("dev PKI init: %v", err)
	}
	p, err := devpki.Load(dir)
	if err != nil {
		ln.Close()
		t.Fatalf("dev PKI load: %v", err)
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		// Close, not Shutdown: a client's transport may have dialled a
		// connection it never sent a request on (it raced another dial),
		// and Shutdown waits up to five seconds for such a connection
		// before counting it idle. The test is over; nothing in flight
		// needs a graceful end.
		if err := srv.Close(); err != nil {
			t.Errorf("dev PKI server close: %v", err)
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("dev PKI server: %v", err)
		}
	})
	return p
}
