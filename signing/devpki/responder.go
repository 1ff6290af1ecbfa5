package devpki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // OCSP CertIDs use SHA-1 by default (RFC 6960); not a security use here.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"
)

// maxRequest bounds request bodies: OCSP and timestamp requests are a few
// hundred bytes.
const maxRequest = 64 << 10

// Handler serves the PKI's responders:
//
//	POST /ocsp, GET /ocsp/{base64}   RFC 6960 OCSP
//	GET  /crl/issuing.crl, /crl/root.crl   DER CRLs
//	POST /tsa                         RFC 3161 timestamps
//	GET  /ca/root-ca.cer, /ca/issuing-ca.cer   DER certificates (AIA caIssuers)
func (p *PKI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ocsp", p.serveOCSPPost)
	mux.HandleFunc("POST /ocsp/", p.serveOCSPPost)
	mux.HandleFunc("GET /crl/{name}", p.serveCRL)
	mux.HandleFunc("POST /tsa", p.serveTSA)
	mux.HandleFunc("GET /ca/{name}", p.serveCA)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// OCSP GET requests carry base64, which some clients do not
		// URL-encode; ServeMux would "clean" a "//" in it into a redirect.
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.EscapedPath(), "/ocsp/") {
			p.serveOCSPGet(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (p *PKI) serveOCSPPost(w http.ResponseWriter, r *http.Request) {
	if ct := mediaType(r.Header.Get("Content-Type")); ct != "application/ocsp-request" {
		http.Error(w, "content type must be application/ocsp-request", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.answerOCSP(w, r, body)
}

// serveOCSPGet handles RFC 6960 appendix A.1 GET requests: the DER request,
// base64-encoded, then URL-encoded, as the last path element(s).
func (p *PKI) serveOCSPGet(w http.ResponseWriter, r *http.Request) {
	enc := strings.TrimPrefix(r.URL.EscapedPath(), "/ocsp/")
	unesc, err := url.PathUnescape(enc)
	if err != nil {
		http.Error(w, "bad OCSP GET encoding", http.StatusBadRequest)
		return
	}
	der, err := base64.StdEncoding.DecodeString(unesc)
	if err != nil {
		http.Error(w, "bad OCSP GET encoding", http.StatusBadRequest)
		return
	}
	p.answerOCSP(w, r, der)
}

func (p *PKI) answerOCSP(w http.ResponseWriter, r *http.Request, der []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		_, _ = w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	resp, err := p.ocspResponse(req, time.Now())
	if err != nil {
		slog.WarnContext(r.Context(), "devpki ocsp", "serial", req.SerialNumber.Text(16), "err", err)
		_, _ = w.Write(resp) // an OCSP error response, never empty
		return
	}
	w.Header().Set("Cache-Control", "max-age=60")
	_, _ = w.Write(resp)
}

// ocspResponse answers one request. Certificates issued by the issuing CA are
// answered by the delegated responder; the issuing CA itself by the root
// directly (a CA is always authorised for its own certificates).
func (p *PKI) ocspResponse(req *ocsp.Request, now time.Time) ([]byte, error) {
	var issuerName string
	for _, name := range []string{IssuingCA, RootCA} {
		if issuerMatches(req, p.ids[name].cert) {
			issuerName = name
			break
		}
	}
	if issuerName == "" {
		return ocsp.UnauthorizedErrorResponse, errors.New("unknown issuer")
	}
	issuer := p.ids[issuerName]
	responderCert, responderKey := issuer.cert, issuer.key
	var included *x509.Certificate
	if issuerName == IssuingCA {
		ocspID := p.ids[OCSP]
		responderCert, responderKey, included = ocspID.cert, ocspID.key, ocspID.cert
	}

	tmpl := ocsp.Response{
		Status:       ocsp.Unknown,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now.Add(-time.Minute).UTC().Truncate(time.Second),
		NextUpdate:   now.Add(time.Hour).UTC().Truncate(time.Second),
		Certificate:  included,
		IssuerHash:   req.HashAlgorithm,
	}
	if p.issued(issuerName, req.SerialNumber) {
		tmpl.Status = ocsp.Good
	}
	if rev, ok := p.revocation(issuerName, req.SerialNumber); ok {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = rev.Time
		tmpl.RevocationReason = rev.Reason
	}
	resp, err := ocsp.CreateResponse(issuer.cert, responderCert, tmpl, responderKey)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, fmt.Errorf("sign OCSP response: %w", err)
	}
	return resp, nil
}

func issuerMatches(req *ocsp.Request, issuer *x509.Certificate) bool {
	var h interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	switch req.HashAlgorithm {
	case crypto.SHA1:
		h = sha1.New() //nolint:gosec
	case crypto.SHA256:
		h = sha256.New()
	case crypto.SHA384:
		h = sha512.New384()
	case crypto.SHA512:
		h = sha512.New()
	default:
		return false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h.Write(spki.PublicKey.RightAlign())
	keyHash := h.Sum(nil)
	if !bytes.Equal(keyHash, req.IssuerKeyHash) {
		return false
	}
	switch req.HashAlgorithm {
	case crypto.SHA1:
		h = sha1.New() //nolint:gosec
	case crypto.SHA256:
		h = sha256.New()
	case crypto.SHA384:
		h = sha512.New384()
	case crypto.SHA512:
		h = sha512.New()
	}
	h.Write(issuer.RawSubject)
	return bytes.Equal(h.Sum(nil), req.IssuerNameHash)
}

// issued reports whether this PKI issued serial under the named issuer.
func (p *PKI) issued(issuerName string, serial *big.Int) bool {
	for _, id := range p.ids {
		if len(id.chain) < 2 || serial.Cmp(id.cert.SerialNumber) != 0 {
			continue
		}
		if bytes.Equal(id.chain[1].Raw, p.ids[issuerName].cert.Raw) {
			return true
		}
	}
	return false
}

func (p *PKI) revocation(issuerName string, serial *big.Int) (revocation, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	hex := serial.Text(16)
	for _, r := range p.state.Revoked {
		if r.Issuer == issuerName && r.Serial == hex {
			return r, true
		}
	}
	return revocation{}, false
}

func (p *PKI) serveCRL(w http.ResponseWriter, r *http.Request) {
	var issuerName string
	switch r.PathValue("name") {
	case "issuing.crl":
		issuerName = IssuingCA
	case "root.crl":
		issuerName = RootCA
	default:
		http.NotFound(w, r)
		return
	}
	der, err := p.CRL(issuerName, time.Now())
	if err != nil {
		slog.ErrorContext(r.Context(), "devpki crl", "issuer", issuerName, "err", err)
		http.Error(w, "cannot issue CRL", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	_, _ = w.Write(der)
}

// CRL issues a fresh DER CRL for the issuing CA ("issuing-ca") or the root
// ("root-ca"), listing every revocation recorded in the state.
func (p *PKI) CRL(issuerName string, now time.Time) ([]byte, error) {
	issuer, ok := p.ids[issuerName]
	if !ok || (issuerName != IssuingCA && issuerName != RootCA) {
		return nil, fmt.Errorf("devpki: %q issues no CRL", issuerName)
	}
	p.mu.Lock()
	// CRL numbers must increase (RFC 5280 §5.2.3); milliseconds since Load,
	// bumped on collisions, do without persisting a counter.
	num := time.Now().UnixMilli()
	if num <= p.crlNum {
		num = p.crlNum + 1
	}
	p.crlNum = num
	var entries []x509.RevocationListEntry
	for _, rev := range p.state.Revoked {
		if rev.Issuer != issuerName {
			continue
		}
		serial, ok := new(big.Int).SetString(rev.Serial, 16)
		if !ok {
			continue
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: rev.Time, ReasonCode: rev.Reason})
	}
	p.mu.Unlock()
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(num),
		ThisUpdate:                now.Add(-time.Minute).UTC().Truncate(time.Second),
		NextUpdate:                now.Add(24 * time.Hour).UTC().Truncate(time.Second),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer.cert, issuer.key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return der, nil
}

func (p *PKI) serveCA(w http.ResponseWriter, r *http.Request) {
	var name string
	switch r.PathValue("name") {
	case RootCA + ".cer":
		name = RootCA
	case IssuingCA + ".cer":
		name = IssuingCA
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	_, _ = w.Write(p.ids[name].cert.Raw)
}

func (p *PKI) serveTSA(w http.ResponseWriter, r *http.Request) {
	if ct := mediaType(r.Header.Get("Content-Type")); ct != "application/timestamp-query" {
		http.Error(w, "content type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := p.Timestamp(body, time.Now())
	if err != nil {
		slog.WarnContext(r.Context(), "devpki tsa", "err", err)
	}
	if resp == nil {
		http.Error(w, "cannot issue timestamp", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}

// Timestamp answers a DER RFC 3161 TimeStampReq. A request the TSA refuses
// gets a rejection response (and a non-nil error saying why); only a failure
// to produce any response returns nil bytes.
func (p *PKI) Timestamp(reqDER []byte, now time.Time) ([]byte, error) {
	reject := func(fi timestamp.FailureInfo, why error) ([]byte, error) {
		resp, err := timestamp.CreateErrorResponse(timestamp.Rejection, fi)
		if err != nil {
			return nil, fmt.Errorf("%v; encode rejection: %w", why, err)
		}
		return resp, why
	}
	req, err := timestamp.ParseRequest(reqDER)
	if err != nil {
		return reject(timestamp.BadDataFormat, fmt.Errorf("parse timestamp request: %w", err))
	}
	switch req.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return reject(timestamp.BadAlgorithm, fmt.Errorf("imprint hash %v not accepted", req.HashAlgorithm))
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return reject(timestamp.BadDataFormat, errors.New("imprint length does not match its hash algorithm"))
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(oidDevTSAPolicy) {
		return reject(timestamp.UnacceptedPolicy, fmt.Errorf("policy %v not offered", req.TSAPolicyOID))
	}
	tsa := p.ids[TSA]
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              now.UTC(),
		Accuracy:          time.Second,
		Nonce:             req.Nonce,
		Policy:            oidDevTSAPolicy,
		AddTSACertificate: req.Certificates,
	}
	if req.Certificates {
		// With the issuing CA too, a verifier can build the path to the
		// root from the token alone.
		ts.Certificates = []*x509.Certificate{p.ids[IssuingCA].cert}
	}
	resp, err := ts.CreateResponseWithOpts(tsa.cert, tsa.key, crypto.SHA256)
	if err != nil {
		return reject(timestamp.SystemFailure, fmt.Errorf("sign timestamp: %w", err))
	}
	return resp, nil
}

func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
