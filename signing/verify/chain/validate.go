package chain

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Usage says what the certificate must be good for.
type Usage int

const (
	// Signing: key usage digitalSignature or nonRepudiation.
	Signing Usage = iota
	// Timestamping: extended key usage id-kp-timeStamping.
	Timestamping
)

// clockSkew tolerates responders whose clocks run a little ahead.
const clockSkew = 5 * time.Minute

// Fetcher asks a certificate's OCSP responders and CRL distribution points
// online. This package only reads revocation data; fetching it over HTTP
// lives in package chain/online, so that a program that never goes online
// (the `vanthu verify` binary users run, see cmd/vanthu-cli) does not link
// net/http and crypto/tls, whose package inits every process would pay.
type Fetcher interface {
	// OCSP asks the responder at url about cert, issued by issuer, and
	// returns the DER OCSPResponse as received (checked here).
	OCSP(ctx context.Context, url string, cert, issuer *x509.Certificate) ([]byte, error)
	// CRL downloads the DER CertificateList at url (checked here).
	CRL(ctx context.Context, url string) ([]byte, error)
}

// registered is the Fetcher used when a Request names none.
var registered atomic.Pointer[Fetcher]

// RegisterFetcher makes f the Fetcher of every online Request that names
// none. Package chain/online registers its HTTP fetcher when it is linked
// (the service binary and everything that signs link it).
func RegisterFetcher(f Fetcher) { registered.Store(&f) }

// RegisteredFetcher is the Fetcher RegisterFetcher set, or nil if none was.
func RegisteredFetcher() Fetcher {
	if f := registered.Load(); f != nil {
		return *f
	}
	return nil
}

// Evidence is revocation data found in the document or the CMS.
type Evidence struct {
	OCSP  [][]byte // OCSPResponse DER
	CRLs  [][]byte // CertificateList DER
	Certs []*x509.Certificate
}

// Request asks whether Leaf is trustworthy at At.
type Request struct {
	Leaf          *x509.Certificate
	Intermediates []*x509.Certificate
	Anchors       *Store
	At            time.Time
	Usage         Usage
	Evidence      Evidence
	Offline       bool
	// Fetcher asks for revocation data online when !Offline and the
	// evidence does not answer; nil means RegisteredFetcher(), and with
	// none registered the certificate's status is reported as not fetched.
	Fetcher Fetcher
	Now     time.Time // the wall clock, for freshness of online data; zero = time.Now()
}

// RevocationCheck records how one certificate's status was established.
type RevocationCheck struct {
	Subject    string    `json:"subject"`
	Source     string    `json:"source"` // embedded-ocsp, embedded-crl, online-ocsp, online-crl, none
	Status     string    `json:"status"` // good, revoked, unknown
	ThisUpdate time.Time `json:"this_update,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	Detail     string    `json:"detail,omitempty"`
	// Responder is the certificate that signed the OCSP response relied
	// on, if any, so the report can say what it was.
	Responder *x509.Certificate `json:"-"`
}

// Result is the answer.
type Result struct {
	Indication etsi.Indication
	Sub        etsi.SubIndication
	Detail     string
	Chain      []*x509.Certificate
	Revocation []RevocationCheck
	Checks     []string
}

func (r *Result) fail(ind etsi.Indication, sub etsi.SubIndication, format string, a ...any) Result {
	r.Indication, r.Sub, r.Detail = ind, sub, fmt.Sprintf(format, a...)
	return *r
}

// Validate builds the chain at req.At and checks key usage and revocation.
func Validate(ctx context.Context, req Request) Result {
	var r Result
	if req.Leaf == nil {
		return r.fail(etsi.Indeterminate, etsi.NoSigningCertificateFound, "no certificate")
	}
	if req.Anchors.Len() == 0 {
		return r.fail(etsi.Indeterminate, etsi.NoCertificateChainFound, "no trust anchors configured")
	}
	inter := x509.NewCertPool()
	for _, c := range req.Intermediates {
		inter.AddCert(c)
	}
	for _, c := range req.Evidence.Certs {
		inter.AddCert(c)
	}
	eku := x509.ExtKeyUsageAny
	if req.Usage == Timestamping {
		eku = x509.ExtKeyUsageTimeStamping
	}
	opts := x509.VerifyOptions{Roots: req.Anchors.pool, Intermediates: inter, CurrentTime: req.At, KeyUsages: []x509.ExtKeyUsage{eku}}
	chains, err := req.Leaf.Verify(opts)
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			// Was the chain good while the certificate lived? Then it is a
			// question of proof of existence, not of trust.
			if req.At.After(req.Leaf.NotAfter) {
				o := opts
				o.CurrentTime = req.Leaf.NotAfter.Add(-time.Second)
				if _, e2 := req.Leaf.Verify(o); e2 == nil {
					return r.fail(etsi.Indeterminate, etsi.OutOfBoundsNoPOE,
						"certificate expired %s, before the validation time %s, and no proof of existence before expiry",
						req.Leaf.NotAfter.UTC().Format(time.RFC3339), req.At.UTC().Format(time.RFC3339))
				}
			}
			if req.At.Before(req.Leaf.NotBefore) {
				return r.fail(etsi.Indeterminate, etsi.NotYetValid, "certificate not valid before %s", req.Leaf.NotBefore.UTC().Format(time.RFC3339))
			}
			return r.fail(etsi.Indeterminate, etsi.OutOfBoundsNoPOE, "a certificate of the chain is outside its validity at %s: %v", req.At.UTC().Format(time.RFC3339), err)
		}
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			return r.fail(etsi.Indeterminate, etsi.NoCertificateChainFound, "no chain to a trust anchor: %v", err)
		}
		if errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage {
			return r.fail(etsi.Indeterminate, etsi.ChainConstraintsFailure, "extended key usage: %v", err)
		}
		return r.fail(etsi.Indeterminate, etsi.CertificateChainGeneral, "chain: %v", err)
	}
	r.Chain = chains[0]
	r.Checks = append(r.Checks, fmt.Sprintf("chain of %d certificates to trust anchor %q at %s", len(r.Chain), r.Chain[len(r.Chain)-1].Subject.String(), req.At.UTC().Format(time.RFC3339)))
	if req.Usage == Signing && req.Leaf.KeyUsage != 0 &&
		req.Leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return r.fail(etsi.Indeterminate, etsi.ChainConstraintsFailure, "signer certificate key usage allows neither digitalSignature nor nonRepudiation")
	}
	// RFC 3161 §2.3: a TSA certificate must carry the timeStamping
	// extended key usage; crypto/x509 would accept a certificate with no
	// extended key usage at all.
	if req.Usage == Timestamping && !slices.Contains(req.Leaf.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
		return r.fail(etsi.Indeterminate, etsi.ChainConstraintsFailure, "TSA certificate lacks the timeStamping extended key usage")
	}
	r.Checks = append(r.Checks, "key usage")

	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	for i := 0; i+1 < len(r.Chain); i++ {
		cert, issuer := r.Chain[i], r.Chain[i+1]
		rc := checkRevocation(ctx, req, cert, issuer, now)
		r.Revocation = append(r.Revocation, rc)
		switch rc.Status {
		case "revoked":
			if i == 0 {
				return r.fail(etsi.TotalFailed, etsi.Revoked, "%s revoked at %s (%s)", cert.Subject.CommonName, rc.RevokedAt.UTC().Format(time.RFC3339), rc.Source)
			}
			return r.fail(etsi.Indeterminate, etsi.RevokedCANoPOE, "CA %s revoked at %s (%s)", cert.Subject.CommonName, rc.RevokedAt.UTC().Format(time.RFC3339), rc.Source)
		case "good":
		case "out-of-bounds":
			return r.fail(etsi.Indeterminate, etsi.RevocationOutOfBoundsNoPOE, "%s: %s", cert.Subject.CommonName, rc.Detail)
		default:
			return r.fail(etsi.Indeterminate, etsi.TryLater, "no acceptable revocation information for %s: %s", cert.Subject.CommonName, rc.Detail)
		}
	}
	r.Checks = append(r.Checks, "revocation status")
	r.Indication = etsi.TotalPassed
	return r
}

// status is one piece of authentic revocation information.
type status struct {
	revoked    bool
	revokedAt  time.Time
	thisUpdate time.Time
	nextUpdate time.Time
	responder  *x509.Certificate // the OCSP response's signer
}

// acceptable says whether the information speaks for the validation time:
// issued at or after it, or valid over it, and not from the future.
func (s status) acceptable(at, now time.Time) bool {
	if s.thisUpdate.After(now.Add(clockSkew)) {
		return false
	}
	if !s.thisUpdate.Before(at.Add(-clockSkew)) {
		return true
	}
	return !s.nextUpdate.IsZero() && !at.Before(s.thisUpdate) && !at.After(s.nextUpdate)
}

func checkRevocation(ctx context.Context, req Request, cert, issuer *x509.Certificate, now time.Time) RevocationCheck {
	rc := RevocationCheck{Subject: cert.Subject.String(), Source: "none", Status: "unknown"}
	var notes []string
	decide := func(src string, s status) bool {
		if s.revoked {
			if !s.revokedAt.After(req.At) {
				rc.Source, rc.Status, rc.RevokedAt, rc.ThisUpdate = src, "revoked", s.revokedAt, s.thisUpdate
				return true
			}
			notes = append(notes, fmt.Sprintf("%s: revoked at %s, after the validation time", src, s.revokedAt.UTC().Format(time.RFC3339)))
		}
		if !s.acceptable(req.At, now) {
			notes = append(notes, fmt.Sprintf("%s of %s not fresh for %s", src, s.thisUpdate.UTC().Format(time.RFC3339), req.At.UTC().Format(time.RFC3339)))
			return false
		}
		if s.thisUpdate.After(cert.NotAfter) && !s.revoked {
			// A CA may drop expired certificates from its lists: "good"
			// after expiry proves nothing.
			notes = append(notes, src+" issued after the certificate expired")
			rc.Status = "out-of-bounds"
			return false
		}
		rc.Source, rc.ThisUpdate, rc.Responder = src, s.thisUpdate, s.responder
		if s.revoked {
			rc.Status, rc.RevokedAt = "good", s.revokedAt
			rc.Detail = "revoked only after the validation time " + s.revokedAt.UTC().Format(time.RFC3339)
		} else {
			rc.Status = "good"
		}
		return true
	}
	for _, der := range req.Evidence.OCSP {
		if s, ok := ocspStatus(der, cert, issuer, now); ok && decide("embedded-ocsp", s) {
			return rc
		}
	}
	for _, der := range req.Evidence.CRLs {
		if s, ok := crlStatus(der, cert, issuer); ok && decide("embedded-crl", s) {
			return rc
		}
	}
	if req.Offline {
		notes = append(notes, "offline: online OCSP/CRL not consulted")
	} else {
		f := req.Fetcher
		if f == nil {
			f = RegisteredFetcher()
		}
		if f == nil && (len(cert.OCSPServer) > 0 || len(cert.CRLDistributionPoints) > 0) {
			notes = append(notes, "online OCSP/CRL not available in this program")
		}
		for _, u := range cert.OCSPServer {
			if f == nil {
				break
			}
			der, err := f.OCSP(ctx, u, cert, issuer)
			if err != nil {
				notes = append(notes, err.Error())
				continue
			}
			if s, ok := ocspStatus(der, cert, issuer, now); ok && decide("online-ocsp", s) {
				return rc
			}
		}
		for _, u := range cert.CRLDistributionPoints {
			if f == nil {
				break
			}
			der, err := f.CRL(ctx, u)
			if err != nil {
				notes = append(notes, err.Error())
				continue
			}
			if s, ok := crlStatus(der, cert, issuer); ok && decide("online-crl", s) {
				return rc
			}
		}
		if len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
			notes = append(notes, "certificate names no OCSP responder or CRL distribution point")
		}
	}
	if len(notes) == 0 {
		notes = append(notes, "none found")
	}
	rc.Detail = strings.Join(notes, "; ")
	return rc
}

// ocspStatus authenticates an OCSP response for cert: signed by the issuer
// or by a responder certificate the issuer delegated with id-kp-OCSPSigning.
func ocspStatus(der []byte, cert, issuer *x509.Certificate, now time.Time) (status, bool) {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		// The responder may have included the issuer itself.
		r2, e2 := ocsp.ParseResponseForCert(der, cert, nil)
		if e2 != nil || r2.Certificate == nil || !bytes.Equal(r2.Certificate.Raw, issuer.Raw) || r2.CheckSignatureFrom(issuer) != nil {
			return status{}, false
		}
		resp = r2
	} else if resp.Certificate != nil && !bytes.Equal(resp.Certificate.Raw, issuer.Raw) {
		delegated := false
		for _, u := range resp.Certificate.ExtKeyUsage {
			delegated = delegated || u == x509.ExtKeyUsageOCSPSigning
		}
		if !delegated || resp.ProducedAt.Before(resp.Certificate.NotBefore) || resp.ProducedAt.After(resp.Certificate.NotAfter) {
			return status{}, false
		}
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return status{}, false
	}
	s := status{thisUpdate: resp.ThisUpdate, nextUpdate: resp.NextUpdate, responder: issuer}
	if resp.Certificate != nil {
		s.responder = resp.Certificate
	}
	switch resp.Status {
	case ocsp.Good:
	case ocsp.Revoked:
		s.revoked, s.revokedAt = true, resp.RevokedAt
	default:
		return status{}, false
	}
	return s, true
}

func crlStatus(der []byte, cert, issuer *x509.Certificate) (status, bool) {
	crl, err := x509.ParseRevocationList(der)
	if err != nil || !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil {
		return status{}, false
	}
	s := status{thisUpdate: crl.ThisUpdate, nextUpdate: crl.NextUpdate}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			s.revoked, s.revokedAt = true, e.RevocationTime
			break
		}
	}
	return s, true
}
