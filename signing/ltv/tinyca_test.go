package ltv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"
)

// tinyCA is a throwaway two-level PKI (root → issuing CA → leaves) with a real
// OCSP responder and real CRLs over loopback HTTP. It exists so the collector
// can be tested before the shared dev PKI lands; it signs real responses, it
// does not fake them.
type tinyCA struct {
	t       *testing.T
	srv     *httptest.Server
	root    *x509.Certificate
	rootKey crypto.Signer
	ca      *x509.Certificate
	caKey   crypto.Signer
	// responder is a delegated OCSP responder issued by ca.
	responder    *x509.Certificate
	responderKey crypto.Signer
	// tsa is an RFC 3161 time-stamping unit issued by ca.
	tsa    *x509.Certificate
	tsaKey crypto.Signer
	// tsaDown makes the TSA answer 503.
	tsaDown bool

	mu      sync.Mutex
	revoked map[string]time.Time // serial → revocation time, issued by ca
	// ocspBroken makes the responder answer garbage; crlDown makes the CRL
	// endpoint answer 503.
	ocspBroken bool
	crlDown    bool
	serial     int64
}

func newTinyCA(t *testing.T) *tinyCA {
	t.Helper()
	ca := &tinyCA{t: t, revoked: map[string]time.Time{}, serial: 100}
	mux := http.NewServeMux()
	ca.srv = httptest.NewServer(mux)
	t.Cleanup(ca.srv.Close)

	ca.rootKey = newKey(t)
	ca.root = ca.issue(nil, nil, ca.rootKey, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Tiny Root"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	})
	ca.caKey = newKey(t)
	ca.ca = ca.issue(ca.root, ca.rootKey, ca.caKey, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Tiny Issuing CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		CRLDistributionPoints: []string{ca.srv.URL + "/crl/root"},
		IssuingCertificateURL: []string{ca.srv.URL + "/cert/root"},
	})
	ca.responderKey = newKey(t)
	ca.responder = ca.issue(ca.ca, ca.caKey, ca.responderKey, &x509.Certificate{
		Subject:         pkix.Name{CommonName: "Tiny OCSP Responder"},
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: idPKIXOCSPNoCheck, Value: []byte{0x05, 0x00}}},
	})

	ca.tsaKey = newKey(t)
	ca.tsa = ca.issue(ca.ca, ca.caKey, ca.tsaKey, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Tiny TSA"},
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		OCSPServer:            []string{ca.srv.URL + "/ocsp"},
		CRLDistributionPoints: []string{ca.srv.URL + "/crl/ca"},
	})
	mux.HandleFunc("/tsa", ca.serveTSA)
	mux.HandleFunc("/cert/root", func(w http.ResponseWriter, r *http.Request) { w.Write(ca.root.Raw) })
	mux.HandleFunc("/cert/ca", func(w http.ResponseWriter, r *http.Request) { w.Write(ca.ca.Raw) })
	mux.HandleFunc("/crl/root", func(w http.ResponseWriter, r *http.Request) {
		ca.serveCRL(w, ca.root, ca.rootKey, nil)
	})
	mux.HandleFunc("/crl/ca", func(w http.ResponseWriter, r *http.Request) {
		ca.mu.Lock()
		rev := map[string]time.Time{}
		for k, v := range ca.revoked {
			rev[k] = v
		}
		ca.mu.Unlock()
		ca.serveCRL(w, ca.ca, ca.caKey, rev)
	})
	mux.HandleFunc("/ocsp", ca.serveOCSP)
	return ca
}

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (ca *tinyCA) issue(parent *x509.Certificate, parentKey, key crypto.Signer, tmpl *x509.Certificate) *x509.Certificate {
	ca.t.Helper()
	ca.mu.Lock()
	ca.serial++
	tmpl.SerialNumber = big.NewInt(ca.serial)
	ca.mu.Unlock()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		ca.t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		ca.t.Fatal(err)
	}
	return c
}

// leaf issues an end-entity certificate from the issuing CA with OCSP and CRL
// pointers.
func (ca *tinyCA) leaf(cn string) (*x509.Certificate, crypto.Signer) {
	key := newKey(ca.t)
	c := ca.issue(ca.ca, ca.caKey, key, &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		OCSPServer:            []string{ca.srv.URL + "/ocsp"},
		CRLDistributionPoints: []string{ca.srv.URL + "/crl/ca"},
		IssuingCertificateURL: []string{ca.srv.URL + "/cert/ca"},
	})
	return c, key
}

func (ca *tinyCA) revoke(c *x509.Certificate) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.revoked[c.SerialNumber.String()] = time.Now().Add(-time.Minute).Truncate(time.Second)
}

func (ca *tinyCA) serveCRL(w http.ResponseWriter, issuer *x509.Certificate, key crypto.Signer, revoked map[string]time.Time) {
	ca.mu.Lock()
	down := ca.crlDown
	ca.mu.Unlock()
	if down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	var entries []x509.RevocationListEntry
	for s, at := range revoked {
		n, _ := new(big.Int).SetString(s, 10)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: at})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(time.Now().UnixNano()),
		ThisUpdate:                time.Now().Add(-time.Minute),
		NextUpdate:                time.Now().Add(time.Hour),
		RevokedCertificateEntries: entries,
	}, issuer, key)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

func (ca *tinyCA) serveOCSP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ca.mu.Lock()
	broken := ca.ocspBroken
	ca.mu.Unlock()
	if broken {
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write([]byte("this is not DER"))
		return
	}
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	tmpl := ocsp.Response{
		SerialNumber: req.SerialNumber,
		Status:       ocsp.Good,
		ThisUpdate:   time.Now().Add(-time.Minute),
		NextUpdate:   time.Now().Add(time.Hour),
		Certificate:  ca.responder,
	}
	ca.mu.Lock()
	if at, ok := ca.revoked[req.SerialNumber.String()]; ok {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at, ocsp.KeyCompromise
	}
	ca.mu.Unlock()
	der, err := ocsp.CreateResponse(ca.ca, ca.responder, tmpl, ca.responderKey)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

func (ca *tinyCA) serveTSA(w http.ResponseWriter, r *http.Request) {
	ca.mu.Lock()
	down := ca.tsaDown
	ca.mu.Unlock()
	if down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              time.Now().UTC().Truncate(time.Second),
		Nonce:             req.Nonce,
		Policy:            asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1},
		AddTSACertificate: req.Certificates,
		Certificates:      []*x509.Certificate{ca.ca},
	}
	der, err := ts.CreateResponseWithOpts(ca.tsa, ca.tsaKey, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(der)
}
