package devpki_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
)

// pool shares generated keys between the hierarchies of this test binary.
var pool devpki.KeyPool

// serve creates a PKI in a temporary directory and serves it on a loopback
// port for the duration of the test.
func serve(t *testing.T) *devpki.PKI {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	if err := devpki.Init(dir, "http://"+ln.Addr().String(), devpki.Options{ECDSA: true, Keys: &pool}); err != nil {
		t.Fatal(err)
	}
	p, err := devpki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return p
}

func post(t *testing.T, u, ct string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(u, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func mustCert(t *testing.T, p *devpki.PKI, name string) *x509.Certificate {
	t.Helper()
	c, err := p.Cert(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHierarchyProfiles(t *testing.T) {
	p := serve(t)
	base := p.URL()
	now := time.Now()

	info, err := os.Stat(p.PasswordPath())
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("p12-password mode %v, want 0600", info.Mode().Perm())
	}
	rootPEM, err := os.ReadFile(filepath.Join(p.Dir(), "root-ca.pem"))
	if err != nil || !bytes.Contains(rootPEM, []byte("BEGIN CERTIFICATE")) {
		t.Fatalf("root-ca.pem: %v", err)
	}

	tests := []struct {
		name      string
		cn        string
		wantValid bool
		eku       []x509.ExtKeyUsage
	}{
		{devpki.Official, "Nguyễn Văn An", true, nil},
		{devpki.Deputy, "Trần Thị Bình", true, nil},
		{devpki.Seal, "Ủy ban nhân dân tỉnh Mẫu", true, nil},
		{devpki.Revoked, "Lê Văn Cường", true, nil},
		{devpki.Expired, "Phạm Thị Dung", false, nil},
		{devpki.OfficialEC, "Nguyễn Văn An", true, nil},
		{devpki.TSA, "vanthu dev TSA", true, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}},
		{devpki.OCSP, "vanthu dev OCSP responder", true, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCert(t, p, tc.name)
			if c.Subject.CommonName != tc.cn {
				t.Errorf("CN %q, want %q", c.Subject.CommonName, tc.cn)
			}
			if valid := now.After(c.NotBefore) && now.Before(c.NotAfter); valid != tc.wantValid {
				t.Errorf("valid now = %v, want %v (%v..%v)", valid, tc.wantValid, c.NotBefore, c.NotAfter)
			}
			if c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
				t.Errorf("key usage %v lacks digitalSignature", c.KeyUsage)
			}
			if len(c.OCSPServer) != 1 || c.OCSPServer[0] != base+"/ocsp" {
				t.Errorf("OCSP AIA %v", c.OCSPServer)
			}
			if len(c.CRLDistributionPoints) != 1 || c.CRLDistributionPoints[0] != base+"/crl/issuing.crl" {
				t.Errorf("CRL DP %v", c.CRLDistributionPoints)
			}
			if len(tc.eku) > 0 && (len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != tc.eku[0]) {
				t.Errorf("EKU %v, want %v", c.ExtKeyUsage, tc.eku)
			}
			// The whole p12 opens with the PKI's password and carries the chain.
			data, err := os.ReadFile(p.P12Path(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			k, err := keys.DecodePKCS12(data, p.Password())
			if err != nil {
				t.Fatal(err)
			}
			if !k.Chain()[0].Equal(c) || len(k.Chain()) != 3 {
				t.Errorf("p12 chain has %d certificates", len(k.Chain()))
			}
			opts := x509.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
			if !tc.wantValid {
				opts.CurrentTime = c.NotAfter.Add(-time.Hour)
			}
			if _, err := c.Verify(opts); err != nil {
				t.Errorf("chain to root: %v", err)
			}
		})
	}

	// The TSA's EKU must be critical (RFC 3161 §2.3) and the OCSP responder
	// must carry id-pkix-ocsp-nocheck.
	extOf := func(c *x509.Certificate, oid asn1.ObjectIdentifier) (found, critical bool) {
		for _, e := range c.Extensions {
			if e.Id.Equal(oid) {
				return true, e.Critical
			}
		}
		return false, false
	}
	if found, crit := extOf(mustCert(t, p, devpki.TSA), asn1.ObjectIdentifier{2, 5, 29, 37}); !found || !crit {
		t.Errorf("TSA EKU found=%v critical=%v, want critical", found, crit)
	}
	if found, _ := extOf(mustCert(t, p, devpki.OCSP), asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}); !found {
		t.Error("OCSP responder lacks id-pkix-ocsp-nocheck")
	}
	if got := p.Issuing().CRLDistributionPoints; len(got) != 1 || got[0] != base+"/crl/root.crl" {
		t.Errorf("issuing CA CRL DP %v", got)
	}
	if !p.Root().IsCA || !bytes.Equal(p.Root().RawIssuer, p.Root().RawSubject) {
		t.Error("root is not a self-signed CA")
	}

	// Keys for signing come out with the chain below the root and sign.
	for _, name := range []string{devpki.Official, devpki.Expired, devpki.OfficialEC} {
		k, err := p.Key(name)
		if err != nil {
			t.Fatalf("Key(%s): %v", name, err)
		}
		if len(k.Chain()) != 2 {
			t.Errorf("Key(%s) chain length %d, want 2", name, len(k.Chain()))
		}
		if _, err := k.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); err != nil {
			t.Errorf("Key(%s).Sign: %v", name, err)
		}
	}
	if _, err := p.Key(devpki.RootCA); err == nil {
		t.Error("Key(root-ca) handed out the root key")
	}
}

func TestInitRefusesExistingPKIAndBadURL(t *testing.T) {
	p := serve(t)
	if err := devpki.Init(p.Dir(), "http://127.0.0.1:1", devpki.Options{Keys: &pool}); err == nil {
		t.Error("Init over an existing PKI succeeded")
	}
	if err := devpki.Init(t.TempDir(), "127.0.0.1:1", devpki.Options{Keys: &pool}); err == nil {
		t.Error("Init with a URL without scheme succeeded")
	}
}

func ocspRequest(t *testing.T, cert, issuer *x509.Certificate, h crypto.Hash) []byte {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestOCSPOverHTTP(t *testing.T) {
	p := serve(t)
	issuing, root := p.Issuing(), p.Root()
	responder := mustCert(t, p, devpki.OCSP)

	// A certificate this PKI never issued, under the issuing CA's name.
	stranger := *mustCert(t, p, devpki.Official)
	stranger.SerialNumber = big.NewInt(424242)

	tests := []struct {
		name       string
		cert       *x509.Certificate
		issuer     *x509.Certificate
		hash       crypto.Hash
		get        bool
		wantStatus int
		delegated  bool
	}{
		{"official good", mustCert(t, p, devpki.Official), issuing, crypto.SHA1, false, ocsp.Good, true},
		{"official good sha256 GET", mustCert(t, p, devpki.Official), issuing, crypto.SHA256, true, ocsp.Good, true},
		{"revoked", mustCert(t, p, devpki.Revoked), issuing, crypto.SHA1, false, ocsp.Revoked, true},
		{"revoked GET", mustCert(t, p, devpki.Revoked), issuing, crypto.SHA1, true, ocsp.Revoked, true},
		{"expired still known", mustCert(t, p, devpki.Expired), issuing, crypto.SHA1, false, ocsp.Good, true},
		{"tsa", mustCert(t, p, devpki.TSA), issuing, crypto.SHA1, false, ocsp.Good, true},
		{"unknown serial", &stranger, issuing, crypto.SHA1, false, ocsp.Unknown, true},
		{"issuing CA answered by root", issuing, root, crypto.SHA1, false, ocsp.Good, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der := ocspRequest(t, tc.cert, tc.issuer, tc.hash)
			var resp *http.Response
			var body []byte
			if tc.get {
				u := p.OCSPURL() + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(der))
				resp, body = get(t, u)
			} else {
				resp, body = post(t, p.OCSPURL(), "application/ocsp-request", der)
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
				t.Fatalf("HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			// ParseResponseForCert checks the signature, and that a
			// delegated responder certificate is signed by the issuer.
			r, err := ocsp.ParseResponseForCert(body, tc.cert, tc.issuer)
			if err != nil {
				t.Fatalf("parse/verify response: %v", err)
			}
			if r.Status != tc.wantStatus {
				t.Errorf("status %d, want %d", r.Status, tc.wantStatus)
			}
			if r.SerialNumber.Cmp(tc.cert.SerialNumber) != 0 {
				t.Errorf("serial %v, want %v", r.SerialNumber, tc.cert.SerialNumber)
			}
			if tc.delegated {
				if r.Certificate == nil || !r.Certificate.Equal(responder) {
					t.Fatal("response does not carry the delegated responder certificate")
				}
				if err := r.CheckSignatureFrom(responder); err != nil {
					t.Errorf("signature with responder cert: %v", err)
				}
			} else if err := r.CheckSignatureFrom(root); err != nil {
				t.Errorf("signature with root: %v", err)
			}
			if tc.wantStatus == ocsp.Revoked && (r.RevokedAt.IsZero() || r.RevocationReason != ocsp.KeyCompromise) {
				t.Errorf("revoked at %v reason %d", r.RevokedAt, r.RevocationReason)
			}
			if !r.NextUpdate.After(time.Now()) {
				t.Errorf("nextUpdate %v is not in the future", r.NextUpdate)
			}
		})
	}

	t.Run("GET with unescaped base64", func(t *testing.T) {
		// Some clients send the base64 as is; "/" and "+" must survive,
		// and a "//" must not turn into a redirect.
		der := ocspRequest(t, mustCert(t, p, devpki.Official), issuing, crypto.SHA1)
		enc := base64.StdEncoding.EncodeToString(der)
		for _, path := range []string{"/ocsp/" + enc, "/ocsp/" + strings.ReplaceAll(enc, "/", "%2F")} {
			resp, body := get(t, p.URL()+path)
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != strings.ReplaceAll(path, "%2F", "/") {
				t.Fatalf("HTTP %d at %s", resp.StatusCode, resp.Request.URL)
			}
			if r, err := ocsp.ParseResponseForCert(body, mustCert(t, p, devpki.Official), issuing); err != nil || r.Status != ocsp.Good {
				t.Errorf("%s: %v", path, err)
			}
		}
		// A "//" inside the encoded request reaches the responder (which
		// then finds no valid base64) instead of being redirected.
		resp, _ := get(t, p.URL()+"/ocsp/AA//BB")
		if resp.StatusCode != http.StatusBadRequest || resp.Request.URL.Path != "/ocsp/AA//BB" {
			t.Errorf("HTTP %d at %s, want 400 without redirect", resp.StatusCode, resp.Request.URL.Path)
		}
	})
	t.Run("foreign issuer unauthorized", func(t *testing.T) {
		der := ocspRequest(t, mustCert(t, p, devpki.Official), mustCert(t, p, devpki.Seal), crypto.SHA1)
		_, body := post(t, p.OCSPURL(), "application/ocsp-request", der)
		_, err := ocsp.ParseResponse(body, nil)
		var re ocsp.ResponseError
		if !errors.As(err, &re) || re.Status != ocsp.Unauthorized {
			t.Errorf("got %v, want unauthorized", err)
		}
	})
	t.Run("garbage malformed", func(t *testing.T) {
		_, body := post(t, p.OCSPURL(), "application/ocsp-request", []byte("not der"))
		_, err := ocsp.ParseResponse(body, nil)
		var re ocsp.ResponseError
		if !errors.As(err, &re) || re.Status != ocsp.Malformed {
			t.Errorf("got %v, want malformed", err)
		}
	})
	t.Run("wrong content type", func(t *testing.T) {
		resp, _ := post(t, p.OCSPURL(), "text/plain", []byte("x"))
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("HTTP %d, want 415", resp.StatusCode)
		}
	})
}

func TestRevokeShowsInOCSPAndCRL(t *testing.T) {
	p := serve(t)
	deputy := mustCert(t, p, devpki.Deputy)
	der := ocspRequest(t, deputy, p.Issuing(), crypto.SHA1)
	_, body := post(t, p.OCSPURL(), "application/ocsp-request", der)
	if r, err := ocsp.ParseResponseForCert(body, deputy, p.Issuing()); err != nil || r.Status != ocsp.Good {
		t.Fatalf("before revocation: %v %v", r, err)
	}
	if err := p.Revoke(devpki.Deputy); err != nil {
		t.Fatal(err)
	}
	_, body = post(t, p.OCSPURL(), "application/ocsp-request", der)
	if r, err := ocsp.ParseResponseForCert(body, deputy, p.Issuing()); err != nil || r.Status != ocsp.Revoked {
		t.Fatalf("after revocation: %v %v", r, err)
	}
	// The revocation survives a reload from disk.
	again, err := devpki.Load(p.Dir())
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := again.CRL(devpki.IssuingCA, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	if !listed(crl, deputy.SerialNumber) {
		t.Error("reloaded CRL does not list the deputy")
	}
}

func listed(crl *x509.RevocationList, serial *big.Int) bool {
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return true
		}
	}
	return false
}

func TestCRLOverHTTP(t *testing.T) {
	p := serve(t)
	tests := []struct {
		path       string
		issuer     *x509.Certificate
		wantListed []*x509.Certificate
		notListed  []*x509.Certificate
	}{
		{"/crl/issuing.crl", p.Issuing(), []*x509.Certificate{mustCert(t, p, devpki.Revoked)},
			[]*x509.Certificate{mustCert(t, p, devpki.Official), mustCert(t, p, devpki.Expired)}},
		{"/crl/root.crl", p.Root(), nil, []*x509.Certificate{p.Issuing()}},
	}
	var lastNumber *big.Int
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, p.URL()+tc.path)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pkix-crl" {
				t.Fatalf("HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			crl, err := x509.ParseRevocationList(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(tc.issuer); err != nil {
				t.Errorf("CRL signature: %v", err)
			}
			if !bytes.Equal(crl.RawIssuer, tc.issuer.RawSubject) {
				t.Error("CRL issuer name differs from the CA's subject")
			}
			for _, c := range tc.wantListed {
				if !listed(crl, c.SerialNumber) {
					t.Errorf("%s not listed", c.Subject.CommonName)
				}
			}
			for _, c := range tc.notListed {
				if listed(crl, c.SerialNumber) {
					t.Errorf("%s listed", c.Subject.CommonName)
				}
			}
			if !crl.NextUpdate.After(time.Now()) || crl.Number == nil {
				t.Errorf("nextUpdate %v number %v", crl.NextUpdate, crl.Number)
			}
			if lastNumber != nil && crl.Number.Cmp(lastNumber) <= 0 {
				t.Errorf("CRL number %v not above previous %v", crl.Number, lastNumber)
			}
			lastNumber = crl.Number
		})
	}
	if resp, _ := get(t, p.URL()+"/crl/other.crl"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown CRL: HTTP %d", resp.StatusCode)
	}
	// AIA caIssuers serves the issuing CA for path building.
	resp, body := get(t, mustCert(t, p, devpki.Official).IssuingCertificateURL[0])
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, p.Issuing().Raw) {
		t.Errorf("caIssuers: HTTP %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestTSAOverHTTP(t *testing.T) {
	p := serve(t)
	tsaCert := mustCert(t, p, devpki.TSA)
	content := []byte("Quyết định số 05/QĐ-UBND")
	tests := []struct {
		name  string
		hash  crypto.Hash
		certs bool
		nonce *big.Int
	}{
		{"sha256 with certs and nonce", crypto.SHA256, true, big.NewInt(987654321)},
		{"sha384 with certs", crypto.SHA384, true, nil},
		{"sha512 without certs", crypto.SHA512, false, big.NewInt(7)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := timestamp.CreateRequest(bytes.NewReader(content), &timestamp.RequestOptions{Hash: tc.hash, Certificates: tc.certs, Nonce: tc.nonce})
			if err != nil {
				t.Fatal(err)
			}
			resp, body := post(t, p.TSAURL(), "application/timestamp-query", req)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
				t.Fatalf("HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			ts, err := timestamp.ParseResponse(body)
			if err != nil {
				t.Fatalf("parse response: %v", err)
			}
			h := tc.hash.New()
			h.Write(content)
			if ts.HashAlgorithm != tc.hash || !bytes.Equal(ts.HashedMessage, h.Sum(nil)) {
				t.Errorf("imprint %v %x does not match", ts.HashAlgorithm, ts.HashedMessage)
			}
			if (tc.nonce == nil) != (ts.Nonce == nil) || (tc.nonce != nil && ts.Nonce.Cmp(tc.nonce) != 0) {
				t.Errorf("nonce %v, want %v", ts.Nonce, tc.nonce)
			}
			if d := time.Since(ts.Time); d < -2*time.Second || d > time.Minute {
				t.Errorf("genTime %v is not now", ts.Time)
			}
			if !tc.certs {
				if len(ts.Certificates) != 0 {
					t.Errorf("%d certificates included though not requested", len(ts.Certificates))
				}
				return
			}
			if len(ts.Certificates) == 0 || !ts.Certificates[0].Equal(tsaCert) {
				t.Fatal("TSA certificate not included first")
			}
			inter := x509.NewCertPool()
			for _, c := range ts.Certificates[1:] {
				inter.AddCert(c)
			}
			if _, err := ts.Certificates[0].Verify(x509.VerifyOptions{
				Roots: p.Roots(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
			}); err != nil {
				t.Errorf("TSA chain to root: %v", err)
			}
		})
	}

	t.Run("sha1 rejected", func(t *testing.T) {
		req, err := timestamp.CreateRequest(bytes.NewReader(content), &timestamp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			t.Fatal(err)
		}
		_, body := post(t, p.TSAURL(), "application/timestamp-query", req)
		_, err = timestamp.ParseResponse(body)
		if err == nil || !strings.Contains(err.Error(), "rejected") {
			t.Errorf("got %v, want a rejection", err)
		}
	})
	t.Run("garbage rejected", func(t *testing.T) {
		resp, body := post(t, p.TSAURL(), "application/timestamp-query", []byte("not a TimeStampReq"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		if _, err := timestamp.ParseResponse(body); err == nil || !strings.Contains(err.Error(), "rejected") {
			t.Errorf("got %v, want a rejection", err)
		}
	})
	t.Run("wrong content type", func(t *testing.T) {
		resp, _ := post(t, p.TSAURL(), "application/octet-stream", []byte{0x30, 0})
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("HTTP %d, want 415", resp.StatusCode)
		}
	})
}
