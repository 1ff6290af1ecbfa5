package ltv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/digitorus/pkcs7"
	"golang.org/x/crypto/ocsp"
)

// Sources selects which kinds of revocation evidence are gathered.
type Sources int

const (
	// SourcesBoth (the default) gathers an OCSP response wherever the
	// certificate names a responder and a CRL wherever it names a
	// distribution point; at least one of the two must exist.
	SourcesBoth Sources = iota
	// SourcesOCSP requires an OCSP response for every certificate.
	SourcesOCSP
	// SourcesCRL requires a CRL for every certificate.
	SourcesCRL
)

func (s Sources) String() string {
	switch s {
	case SourcesBoth:
		return "OCSP and CRL"
	case SourcesOCSP:
		return "OCSP only"
	case SourcesCRL:
		return "CRL only"
	}
	return fmt.Sprintf("Sources(%d)", int(s))
}

// Options configure evidence collection.
type Options struct {
	// HTTPClient is used for every request; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds each HTTP exchange (default 20s). The caller's context
	// still bounds the whole operation.
	Timeout time.Duration
	// Roots are the trust anchors. When set, every chain must end in one of
	// them; when empty, chains go as far as the embedded certificates and AIA
	// caIssuers fetching allow. Trust anchors are configuration, never
	// compiled in.
	Roots []*x509.Certificate
	// Intermediates are extra certificates offered to chain building.
	Intermediates []*x509.Certificate
	// Sources selects OCSP, CRL or both (default both, where available).
	Sources Sources
	// NoAIAFetch disables downloading missing issuers from AIA caIssuers.
	NoAIAFetch bool
	// Now returns the current time (tests); nil means time.Now.
	Now func() time.Time
	// Refresh gathers fresh evidence even for signatures the DSS already
	// has a VRI entry for (before an archive timestamp renewal); by default
	// they are left alone.
	Refresh bool
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
}

// maxChainLength stops chain building on loops and absurd hierarchies.
const maxChainLength = 10

// clockSkew is the tolerance for responders whose clocks run a little ahead.
const clockSkew = 5 * time.Minute

// idPKIXOCSPNoCheck marks a delegated OCSP responder whose own revocation need
// not be checked (RFC 6960 §4.2.2.2.1).
var idPKIXOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// OCSPEvidence is one OCSP response that verified against the certificate's
// issuer (directly or through a delegated responder).
type OCSPEvidence struct {
	Raw      []byte
	Response *ocsp.Response
	// Subject is the certificate the response is about.
	Subject *x509.Certificate
	// URL is where it came from.
	URL string
}

// CRLEvidence is one CRL whose signature verified against the issuer.
type CRLEvidence struct {
	Raw    []byte
	List   *x509.RevocationList
	Issuer *x509.Certificate
	URL    string
}

// Status is the revocation status the gathered evidence shows.
type Status int

const (
	StatusGood Status = iota
	StatusRevoked
	StatusUnknown
)

func (s Status) String() string {
	switch s {
	case StatusGood:
		return "good"
	case StatusRevoked:
		return "revoked"
	}
	return "unknown"
}

// CertStatus is what the evidence says about one certificate.
type CertStatus struct {
	Cert      *x509.Certificate
	Status    Status
	RevokedAt time.Time
	// Reason is the CRL/OCSP revocation reason code when revoked.
	Reason int
}

// Evidence is everything gathered for one or more chains, deduplicated by
// content.
type Evidence struct {
	// Certs are the chain certificates, responder certificates and their
	// chains, in the order first seen.
	Certs []*x509.Certificate
	OCSPs []*OCSPEvidence
	CRLs  []*CRLEvidence
	// Statuses has one entry per certificate whose revocation was checked.
	Statuses []CertStatus

	seen map[[32]byte]bool
}

func (e *Evidence) mark(raw []byte) bool {
	if e.seen == nil {
		e.seen = map[[32]byte]bool{}
	}
	k := sha256.Sum256(raw)
	if e.seen[k] {
		return false
	}
	e.seen[k] = true
	return true
}

func (e *Evidence) addCert(c *x509.Certificate) {
	if e.mark(c.Raw) {
		e.Certs = append(e.Certs, c)
	}
}

func (e *Evidence) addOCSP(o *OCSPEvidence) {
	if e.mark(o.Raw) {
		e.OCSPs = append(e.OCSPs, o)
	}
}

func (e *Evidence) addCRL(c *CRLEvidence) {
	if e.mark(c.Raw) {
		e.CRLs = append(e.CRLs, c)
	}
}

func (e *Evidence) addStatus(s CertStatus) {
	for i, have := range e.Statuses {
		if have.Cert.Equal(s.Cert) {
			if s.Status == StatusRevoked || have.Status == StatusUnknown {
				e.Statuses[i] = s
			}
			return
		}
	}
	e.Statuses = append(e.Statuses, s)
}

// Merge adds o's evidence to e.
func (e *Evidence) Merge(o *Evidence) {
	if o == nil {
		return
	}
	for _, c := range o.Certs {
		e.addCert(c)
	}
	for _, r := range o.OCSPs {
		e.addOCSP(r)
	}
	for _, c := range o.CRLs {
		e.addCRL(c)
	}
	for _, s := range o.Statuses {
		e.addStatus(s)
	}
}

// StatusOf returns the status recorded for c.
func (e *Evidence) StatusOf(c *x509.Certificate) (CertStatus, bool) {
	for _, s := range e.Statuses {
		if s.Cert.Equal(c) {
			return s, true
		}
	}
	return CertStatus{}, false
}

// Collector gathers and checks revocation evidence.
type Collector struct {
	opts Options
	f    fetcher
	log  *slog.Logger

	// Answers are reused within one Collector: a signer's and a TSA's
	// chain usually share CAs, and one CRL per distribution point is both
	// less traffic and a smaller DSS.
	mu        sync.Mutex
	crlCache  map[string]*CRLEvidence    // URL + issuer → CRL
	ocspCache map[[32]byte]*OCSPEvidence // certificate → response
}

// NewCollector returns a Collector for opts.
func NewCollector(opts Options) *Collector {
	l := opts.Logger
	if l == nil {
		l = slog.Default()
	}
	return &Collector{
		opts: opts, f: fetcher{client: opts.HTTPClient, timeout: opts.Timeout}, log: l,
		crlCache: map[string]*CRLEvidence{}, ocspCache: map[[32]byte]*OCSPEvidence{},
	}
}

func (c *Collector) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

func (c *Collector) isRoot(cert *x509.Certificate) bool {
	for _, r := range c.opts.Roots {
		if r.Equal(cert) {
			return true
		}
	}
	return false
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// BuildChain returns leaf followed by its issuers, found among the trust
// anchors, the configured intermediates, pool (typically the CMS's embedded
// certificates) and, failing those, AIA caIssuers downloads. The chain ends
// at a trust anchor or a self-signed certificate; with Roots configured it
// must end at a trust anchor.
func (c *Collector) BuildChain(ctx context.Context, leaf *x509.Certificate, pool []*x509.Certificate) ([]*x509.Certificate, error) {
	if leaf == nil {
		return nil, errors.New("ltv: build chain: no certificate")
	}
	candidates := make([]*x509.Certificate, 0, len(c.opts.Roots)+len(c.opts.Intermediates)+len(pool))
	candidates = append(candidates, c.opts.Roots...) // anchors first: prefer them
	candidates = append(candidates, c.opts.Intermediates...)
	candidates = append(candidates, pool...)

	chain := []*x509.Certificate{leaf}
	cur := leaf
	for !c.isRoot(cur) && !selfSigned(cur) {
		if len(chain) >= maxChainLength {
			return nil, fmt.Errorf("ltv: chain of %q longer than %d certificates", leaf.Subject, maxChainLength)
		}
		issuer := findIssuer(cur, candidates)
		if issuer == nil && !c.opts.NoAIAFetch {
			fetched, err := c.fetchIssuers(ctx, cur)
			if err != nil {
				return nil, err
			}
			candidates = append(candidates, fetched...)
			issuer = findIssuer(cur, fetched)
		}
		if issuer == nil {
			if len(c.opts.Roots) > 0 {
				return nil, fmt.Errorf("ltv: chain of %q: no issuer found for %q (not in the CMS, the configured certificates or AIA caIssuers)", leaf.Subject, cur.Subject)
			}
			c.log.Warn("ltv: chain ends without a self-signed certificate", "leaf", leaf.Subject.String(), "top", cur.Subject.String())
			break
		}
		for _, have := range chain {
			if have.Equal(issuer) {
				return nil, fmt.Errorf("ltv: chain of %q loops at %q", leaf.Subject, issuer.Subject)
			}
		}
		chain = append(chain, issuer)
		cur = issuer
	}
	if len(c.opts.Roots) > 0 && !c.isRoot(chain[len(chain)-1]) {
		return nil, fmt.Errorf("ltv: chain of %q ends at %q, which is not a configured trust anchor", leaf.Subject, chain[len(chain)-1].Subject)
	}
	return chain, nil
}

func findIssuer(cert *x509.Certificate, candidates []*x509.Certificate) *x509.Certificate {
	for _, cand := range candidates {
		if cand.Equal(cert) || !bytes.Equal(cand.RawSubject, cert.RawIssuer) {
			continue
		}
		if cert.CheckSignatureFrom(cand) == nil {
			return cand
		}
	}
	return nil
}

// fetchIssuers downloads the AIA caIssuers of cert (DER, PEM or a certs-only
// PKCS#7 bundle, RFC 5280 §4.2.2.1).
func (c *Collector) fetchIssuers(ctx context.Context, cert *x509.Certificate) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	var errs []error
	for _, u := range cert.IssuingCertificateURL {
		data, _, err := c.f.do(ctx, http.MethodGet, u, "", nil)
		if err != nil {
			if errors.Is(err, ErrUnsupportedURL) {
				continue
			}
			errs = append(errs, fmt.Errorf("fetch issuer of %q: %w", cert.Subject, err))
			continue
		}
		data = derOrPEM(data, "CERTIFICATE")
		if one, err := x509.ParseCertificate(data); err == nil {
			out = append(out, one)
			continue
		}
		p7, err := pkcs7.Parse(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("issuer of %q from %s: neither a certificate nor a PKCS#7 bundle: %w", cert.Subject, u, err))
			continue
		}
		out = append(out, p7.Certificates...)
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("ltv: %w", errors.Join(errs...))
	}
	return out, nil
}

// Collect builds the chain of leaf (using pool for intermediates) and gathers
// revocation evidence for every certificate in it below the anchor, plus the
// chains and, where needed, revocation evidence of the OCSP responders.
func (c *Collector) Collect(ctx context.Context, leaf *x509.Certificate, pool []*x509.Certificate) (*Evidence, error) {
	ev := &Evidence{}
	if err := c.collect(ctx, leaf, pool, ev, map[[32]byte]bool{}); err != nil {
		return nil, err
	}
	return ev, nil
}

func (c *Collector) collect(ctx context.Context, leaf *x509.Certificate, pool []*x509.Certificate, ev *Evidence, visiting map[[32]byte]bool) error {
	chain, err := c.BuildChain(ctx, leaf, pool)
	if err != nil {
		return err
	}
	for _, cert := range chain {
		ev.addCert(cert)
	}
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		k := sha256.Sum256(cert.Raw)
		if visiting[k] {
			continue
		}
		visiting[k] = true
		if err := c.checkOne(ctx, cert, issuer, chain[i+1:], ev, visiting); err != nil {
			return err
		}
	}
	return nil
}

// checkOne gathers OCSP and/or CRL evidence for cert, whose issuer is issuer
// and whose issuer's chain is issuerChain.
func (c *Collector) checkOne(ctx context.Context, cert, issuer *x509.Certificate, issuerChain []*x509.Certificate, ev *Evidence, visiting map[[32]byte]bool) error {
	wantOCSP := c.opts.Sources == SourcesBoth || c.opts.Sources == SourcesOCSP
	wantCRL := c.opts.Sources == SourcesBoth || c.opts.Sources == SourcesCRL
	hasOCSP := len(httpURLs(cert.OCSPServer)) > 0
	hasCRL := len(httpURLs(cert.CRLDistributionPoints)) > 0

	switch c.opts.Sources {
	case SourcesOCSP:
		if !hasOCSP {
			return fmt.Errorf("ltv: %q names no OCSP responder (AIA) and OCSP-only collection was requested", cert.Subject)
		}
	case SourcesCRL:
		if !hasCRL {
			return fmt.Errorf("ltv: %q names no CRL distribution point and CRL-only collection was requested", cert.Subject)
		}
	default:
		if !hasOCSP && !hasCRL {
			return fmt.Errorf("ltv: %q names neither an OCSP responder nor a CRL distribution point", cert.Subject)
		}
	}

	st := CertStatus{Cert: cert, Status: StatusUnknown}
	if wantOCSP && hasOCSP {
		o, err := c.fetchOCSP(ctx, cert, issuer)
		if err != nil {
			return err
		}
		ev.addOCSP(o)
		switch o.Response.Status {
		case ocsp.Good:
			st.Status = StatusGood
		case ocsp.Revoked:
			st = CertStatus{Cert: cert, Status: StatusRevoked, RevokedAt: o.Response.RevokedAt, Reason: o.Response.RevocationReason}
		}
		if rc := o.Response.Certificate; rc != nil && !rc.Equal(issuer) {
			// The delegated responder's certificate and the chain above it
			// belong in the DSS so the response can be checked offline.
			ev.addCert(rc)
			for _, ic := range issuerChain {
				ev.addCert(ic)
			}
			if !hasExtension(rc, idPKIXOCSPNoCheck) {
				k := sha256.Sum256(rc.Raw)
				if !visiting[k] {
					visiting[k] = true
					if err := c.checkOne(ctx, rc, issuer, issuerChain, ev, visiting); err != nil {
						return fmt.Errorf("ltv: revocation of OCSP responder %q: %w", rc.Subject, err)
					}
				}
			}
		}
	}
	if wantCRL && hasCRL {
		crl, err := c.fetchCRL(ctx, cert, issuer)
		if err != nil {
			return err
		}
		ev.addCRL(crl)
		if e := revokedEntry(crl.List, cert.SerialNumber); e != nil {
			st = CertStatus{Cert: cert, Status: StatusRevoked, RevokedAt: e.RevocationTime, Reason: e.ReasonCode}
		} else if st.Status == StatusUnknown {
			st.Status = StatusGood
		}
	}
	if st.Status == StatusRevoked {
		c.log.Warn("ltv: certificate is revoked", "subject", cert.Subject.String(), "serial", cert.SerialNumber.String(), "revoked_at", st.RevokedAt)
	}
	ev.addStatus(st)
	return nil
}

func revokedEntry(l *x509.RevocationList, serial *big.Int) *x509.RevocationListEntry {
	for i := range l.RevokedCertificateEntries {
		if l.RevokedCertificateEntries[i].SerialNumber.Cmp(serial) == 0 {
			return &l.RevokedCertificateEntries[i]
		}
	}
	return nil
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func httpURLs(urls []string) []string {
	var out []string
	for _, u := range urls {
		if checkURL(u) == nil {
			out = append(out, u)
		}
	}
	return out
}

// fetchOCSP asks each responder named by cert in turn (RFC 6960 over HTTP
// POST) and returns the first answer that verifies. An answer that does not
// verify is an error, not a reason to try the next responder: it means
// something is wrong that a person must look at.
func (c *Collector) fetchOCSP(ctx context.Context, cert, issuer *x509.Certificate) (*OCSPEvidence, error) {
	key := sha256.Sum256(cert.Raw)
	c.mu.Lock()
	cached := c.ocspCache[key]
	c.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	// SHA-1 CertIDs are what RFC 5019 responders are guaranteed to answer.
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("ltv: OCSP request for %q: %w", cert.Subject, err)
	}
	var errs []error
	for _, u := range httpURLs(cert.OCSPServer) {
		raw, _, err := c.f.do(ctx, http.MethodPost, u, "application/ocsp-request", req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resp, err := c.verifyOCSP(raw, cert, issuer)
		if err != nil {
			return nil, fmt.Errorf("ltv: OCSP answer from %s for %q: %w", u, cert.Subject, err)
		}
		c.log.Debug("ltv: OCSP", "subject", cert.Subject.String(), "url", u, "status", Status(resp.Status))
		o := &OCSPEvidence{Raw: raw, Response: resp, Subject: cert, URL: u}
		c.mu.Lock()
		c.ocspCache[key] = o
		c.mu.Unlock()
		return o, nil
	}
	return nil, fmt.Errorf("ltv: OCSP responder for %q unreachable: %w", cert.Subject, errors.Join(errs...))
}

// VerifyOCSP parses raw and checks that it is a successful, current answer
// about cert, signed by issuer or by a responder issuer delegated with
// id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
func VerifyOCSP(raw []byte, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(raw, cert, nil)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	switch rc := resp.Certificate; {
	case rc == nil:
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("not signed by the issuer %q: %w", issuer.Subject, err)
		}
	case rc.Equal(issuer):
		// ParseResponseForCert checked the signature with the embedded
		// certificate, which is the issuer itself.
	default:
		if err := rc.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("responder %q not issued by %q: %w", rc.Subject, issuer.Subject, err)
		}
		delegated := false
		for _, eku := range rc.ExtKeyUsage {
			if eku == x509.ExtKeyUsageOCSPSigning {
				delegated = true
			}
		}
		if !delegated {
			return nil, fmt.Errorf("responder %q lacks id-kp-OCSPSigning", rc.Subject)
		}
		at := resp.ProducedAt
		if at.Before(rc.NotBefore) || at.After(rc.NotAfter) {
			return nil, fmt.Errorf("responder certificate %q not valid at %s", rc.Subject, at.Format(time.RFC3339))
		}
	}
	if resp.ThisUpdate.After(now.Add(clockSkew)) {
		return nil, fmt.Errorf("thisUpdate %s is in the future", resp.ThisUpdate.Format(time.RFC3339))
	}
	if !resp.NextUpdate.IsZero() && resp.NextUpdate.Before(now.Add(-clockSkew)) {
		return nil, fmt.Errorf("stale: nextUpdate %s has passed", resp.NextUpdate.Format(time.RFC3339))
	}
	return resp, nil
}

func (c *Collector) verifyOCSP(raw []byte, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	return VerifyOCSP(raw, cert, issuer, c.now())
}

// fetchCRL downloads the CRLs named by cert until one verifies. Delta and
// indirect CRLs are not supported: the CRL must be issued and signed by the
// certificate's issuer.
func (c *Collector) fetchCRL(ctx context.Context, cert, issuer *x509.Certificate) (*CRLEvidence, error) {
	var errs []error
	issuerKey := sha256.Sum256(issuer.Raw)
	for _, u := range httpURLs(cert.CRLDistributionPoints) {
		key := u + "\x00" + string(issuerKey[:])
		c.mu.Lock()
		cached := c.crlCache[key]
		c.mu.Unlock()
		if cached != nil {
			return cached, nil
		}
		raw, _, err := c.f.do(ctx, http.MethodGet, u, "", nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		raw = derOrPEM(raw, "X509 CRL")
		list, err := VerifyCRL(raw, issuer, c.now())
		if err != nil {
			return nil, fmt.Errorf("ltv: CRL from %s for %q: %w", u, cert.Subject, err)
		}
		c.log.Debug("ltv: CRL", "subject", cert.Subject.String(), "url", u, "entries", len(list.RevokedCertificateEntries))
		e := &CRLEvidence{Raw: raw, List: list, Issuer: issuer, URL: u}
		c.mu.Lock()
		c.crlCache[key] = e
		c.mu.Unlock()
		return e, nil
	}
	return nil, fmt.Errorf("ltv: CRL distribution point for %q unreachable: %w", cert.Subject, errors.Join(errs...))
}

// VerifyCRL parses raw and checks it is a current CRL issued and signed by
// issuer.
func VerifyCRL(raw []byte, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	list, err := x509.ParseRevocationList(raw)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if !bytes.Equal(list.RawIssuer, issuer.RawSubject) {
		return nil, fmt.Errorf("issued by %q, not by %q", list.Issuer, issuer.Subject)
	}
	if err := list.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("signature does not verify against %q: %w", issuer.Subject, err)
	}
	if list.ThisUpdate.After(now.Add(clockSkew)) {
		return nil, fmt.Errorf("thisUpdate %s is in the future", list.ThisUpdate.Format(time.RFC3339))
	}
	if !list.NextUpdate.IsZero() && list.NextUpdate.Before(now.Add(-clockSkew)) {
		return nil, fmt.Errorf("stale: nextUpdate %s has passed", list.NextUpdate.Format(time.RFC3339))
	}
	return list, nil
}
