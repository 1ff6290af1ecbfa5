package testharness

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/signing/devpki"
)

func TestDevPKIServesItsOwnURL(t *testing.T) {
	a, b := DevPKI(t), DevPKI(t)
	if a.URL() == b.URL() || a.Dir() == b.Dir() {
		t.Fatalf("two PKIs share %s / %s", a.URL(), a.Dir())
	}
	official, err := a.Cert(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	if official.OCSPServer[0] != a.OCSPURL() {
		t.Errorf("certificate names %s, server is %s", official.OCSPServer[0], a.OCSPURL())
	}
	// Keys are shared from the pool, certificates are not.
	bOfficial, _ := b.Cert(devpki.Official)
	if bOfficial.Equal(official) {
		t.Error("two PKIs share a certificate")
	}

	req, err := ocsp.CreateRequest(official, a.Issuing(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(a.OCSPURL(), "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	r, err := ocsp.ParseResponseForCert(body.Bytes(), official, a.Issuing())
	if err != nil || r.Status != ocsp.Good {
		t.Fatalf("OCSP: %v %v", r, err)
	}

	tsq, err := timestamp.CreateRequest(strings.NewReader("x"), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(b.TSAURL(), "application/timestamp-query", bytes.NewReader(tsq))
	if err != nil {
		t.Fatal(err)
	}
	body.Reset()
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	ts, err := timestamp.ParseResponse(body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	tsa, _ := b.Cert(devpki.TSA)
	if !ts.Certificates[0].Equal(tsa) {
		t.Error("timestamp not from the second PKI's TSA")
	}
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: b.Roots(), Intermediates: b.Intermediates(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Errorf("TSA chain: %v", err)
	}
}

func TestSoftHSMTokenAndImport(t *testing.T) {
	tok := SoftHSM(t)
	if os.Getenv("SOFTHSM2_CONF") != tok.ConfigPath {
		t.Errorf("SOFTHSM2_CONF=%q, want %q", os.Getenv("SOFTHSM2_CONF"), tok.ConfigPath)
	}
	p := DevPKI(t)
	k, err := p.Key(devpki.Seal)
	if err != nil {
		t.Fatal(err)
	}
	uri := ImportKey(t, tok, k, k.Chain(), "seal", []byte{0x0a, 0xff})
	for _, want := range []string{"token=" + tok.TokenLabel, "object=seal", "id=%0A%FF", "module-path=" + tok.ModulePath, "pin-source=file:", "x-chain-file="} {
		if !strings.Contains(uri, want) {
			t.Errorf("URI %s lacks %s", uri, want)
		}
	}
	if strings.Contains(uri, tok.PIN) {
		t.Error("URI carries the PIN itself")
	}
	pin, err := os.ReadFile(tok.PINFile)
	if err != nil || strings.TrimSpace(string(pin)) != tok.PIN {
		t.Errorf("PIN file: %v", err)
	}
	out := runTool(t, "softhsm2-util", "--show-slots")
	if !strings.Contains(out, tok.TokenLabel) {
		t.Errorf("softhsm2-util does not list token %s:\n%s", tok.TokenLabel, out)
	}
}

// runTool runs a tool with the test's environment and returns its output.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
	return string(out)
}
