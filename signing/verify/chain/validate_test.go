package chain_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/chain/online"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// strangerRoot is a trust anchor nobody in the dev PKI chains to.
func strangerRoot(t *testing.T) *x509.Certificate {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Stranger Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// fetchOCSP asks the dev responder about cert, as a signer embedding
// validation data would.
func fetchOCSP(t *testing.T, pki *devpki.PKI, cert *x509.Certificate) []byte {
	req, err := ocsp.CreateRequest(cert, pki.Issuing(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(pki.OCSPURL(), "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func get(t *testing.T, url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

func TestValidate(t *testing.T) {
	pki := testharness.DevPKI(t)
	anchors := chain.NewStore(pki.Root())
	cert := func(name string) *x509.Certificate {
		c, err := pki.Cert(name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	official, revoked, expired := cert(devpki.Official), cert(devpki.Revoked), cert(devpki.Expired)
	now := time.Now()
	inter := []*x509.Certificate{pki.Issuing()}
	rootCRL := get(t, pki.Issuing().CRLDistributionPoints[0])
	for _, tc := range []struct {
		name   string
		req    chain.Request
		ind    etsi.Indication
		sub    etsi.SubIndication
		source string // revocation source of the signer's certificate, when passed
	}{
		{"valid, online OCSP", chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: now},
			etsi.TotalPassed, etsi.None, "online-ocsp"},
		{"valid, online OCSP through a given fetcher", chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: now,
			Fetcher: online.Fetcher{Client: &http.Client{Timeout: 30 * time.Second}}}, etsi.TotalPassed, etsi.None, "online-ocsp"},
		{"valid offline with embedded OCSP and CRL", chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: now, Offline: true,
			Evidence: chain.Evidence{OCSP: [][]byte{fetchOCSP(t, pki, official)}, CRLs: [][]byte{rootCRL}}}, etsi.TotalPassed, etsi.None, "embedded-ocsp"},
		{"offline without evidence", chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: now, Offline: true},
			etsi.Indeterminate, etsi.TryLater, ""},
		{"revoked, online", chain.Request{Leaf: revoked, Intermediates: inter, Anchors: anchors, At: now},
			etsi.TotalFailed, etsi.Revoked, ""},
		{"revoked, embedded OCSP offline", chain.Request{Leaf: revoked, Intermediates: inter, Anchors: anchors, At: now, Offline: true,
			Evidence: chain.Evidence{OCSP: [][]byte{fetchOCSP(t, pki, revoked)}, CRLs: [][]byte{rootCRL}}}, etsi.TotalFailed, etsi.Revoked, ""},
		{"expired before the validation time", chain.Request{Leaf: expired, Intermediates: inter, Anchors: anchors, At: now},
			etsi.Indeterminate, etsi.OutOfBoundsNoPOE, ""},
		{"validation time before the certificate", chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: official.NotBefore.Add(-time.Hour)},
			etsi.Indeterminate, etsi.NotYetValid, ""},
		{"no anchors", chain.Request{Leaf: official, Intermediates: inter, Anchors: chain.NewStore(), At: now},
			etsi.Indeterminate, etsi.NoCertificateChainFound, ""},
		{"another anchor", chain.Request{Leaf: official, Intermediates: inter, Anchors: chain.NewStore(strangerRoot(t)), At: now},
			etsi.Indeterminate, etsi.NoCertificateChainFound, ""},
		{"issuing CA missing", chain.Request{Leaf: official, Anchors: anchors, At: now},
			etsi.Indeterminate, etsi.NoCertificateChainFound, ""},
		{"signing certificate used as a TSA", chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: now, Usage: chain.Timestamping},
			etsi.Indeterminate, etsi.ChainConstraintsFailure, ""},
		{"no certificate", chain.Request{Anchors: anchors, At: now},
			etsi.Indeterminate, etsi.NoSigningCertificateFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chain.Validate(context.Background(), tc.req)
			if r.Indication != tc.ind || r.Sub != tc.sub {
				t.Fatalf("%s/%s (%s), want %s/%s", r.Indication, r.Sub, r.Detail, tc.ind, tc.sub)
			}
			if tc.ind == etsi.TotalPassed {
				if len(r.Chain) != 3 || !r.Chain[2].Equal(pki.Root()) {
					t.Fatalf("chain of %d to %v", len(r.Chain), r.Chain)
				}
				if len(r.Revocation) == 0 || r.Revocation[0].Source != tc.source || r.Revocation[0].Status != "good" {
					t.Fatalf("revocation %+v, want good from %s", r.Revocation, tc.source)
				}
			}
		})
	}
}

func TestLoadStore(t *testing.T) {
	pki := testharness.DevPKI(t)
	st, err := chain.LoadStore(pki.Dir() + "/root-ca.pem")
	if err != nil || st.Len() != 1 || !st.Certificates()[0].Equal(pki.Root()) {
		t.Fatalf("root-ca.pem: %v, %d anchors", err, st.Len())
	}
	if _, err := chain.LoadStore(pki.Dir() + "/no-such.pem"); err == nil {
		t.Error("a missing trust file was accepted")
	}
	if _, err := chain.LoadStore(pki.PasswordPath()); err == nil {
		t.Error("a file without certificates was accepted as a trust anchor")
	}
}

// refusing is a chain.Fetcher that counts what it is asked and answers
// nothing.
type refusing struct{ ocsp, crl *int }

func (f refusing) OCSP(_ context.Context, url string, _, _ *x509.Certificate) ([]byte, error) {
	*f.ocsp++
	return nil, errors.New(url + ": refused by the test")
}

func (f refusing) CRL(_ context.Context, url string) ([]byte, error) {
	*f.crl++
	return nil, errors.New(url + ": refused by the test")
}

// TestFetcher: the fetcher is asked only when the verification is online
// and the evidence does not answer, once per responder and distribution
// point the certificate names, and what it could not fetch is the reason
// given.
func TestFetcher(t *testing.T) {
	pki := testharness.DevPKI(t)
	official, err := pki.Cert(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	inter := []*x509.Certificate{pki.Issuing()}
	anchors := chain.NewStore(pki.Root())
	evidence := chain.Evidence{OCSP: [][]byte{fetchOCSP(t, pki, official)}, CRLs: [][]byte{get(t, pki.Issuing().CRLDistributionPoints[0])}}
	for _, tc := range []struct {
		name           string
		offline        bool
		evidence       chain.Evidence
		ocsp, crl      int
		ind            etsi.Indication
		detailContains string
	}{
		{"online, no evidence", false, chain.Evidence{}, len(official.OCSPServer), len(official.CRLDistributionPoints), etsi.Indeterminate, "refused by the test"},
		{"online, the evidence answers", false, evidence, 0, 0, etsi.TotalPassed, ""},
		{"offline, no evidence", true, chain.Evidence{}, 0, 0, etsi.Indeterminate, "offline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, c int
			r := chain.Validate(context.Background(), chain.Request{Leaf: official, Intermediates: inter, Anchors: anchors, At: time.Now(),
				Offline: tc.offline, Evidence: tc.evidence, Fetcher: refusing{&o, &c}})
			if r.Indication != tc.ind || !strings.Contains(r.Detail, tc.detailContains) {
				t.Errorf("%s (%s), want %s with %q", r.Indication, r.Detail, tc.ind, tc.detailContains)
			}
			if o != tc.ocsp || c != tc.crl || (!tc.offline && len(tc.evidence.OCSP) == 0 && o == 0) {
				t.Errorf("fetcher asked %d OCSP, %d CRL; want %d, %d", o, c, tc.ocsp, tc.crl)
			}
		})
	}
	if chain.RegisteredFetcher() == nil {
		t.Error("linking chain/online registers no fetcher")
	}
}
