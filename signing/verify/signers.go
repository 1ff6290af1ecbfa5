package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/cms"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Report phrases of this file. Each is a fixed English sentence that starts
// a warning or error; render.go's phrases table gives the Vietnamese.
const (
	phraseSeveralSigners = "the CMS carries several SignerInfos; the one whose certificate is the signing certificate is checked, the others are listed"
	phraseNegativeSerial = "certificate with a negative serial number accepted (RFC 5280 requires a positive serial; older CAs and tools issued them)"
)

// algorithmFailure classifies an error from checking a signature value: a
// malformed structure (an algorithm nobody defines, contradicting
// identifiers) cannot be verified at all and is TOTAL-FAILED, as EU DSS
// reports it; a known algorithm outside the policy is INDETERMINATE; any
// other failure is a signature value that does not verify.
func algorithmFailure(err error) (etsi.Indication, etsi.SubIndication) {
	var me *cms.MalformedError
	var pe *cms.PolicyError
	switch {
	case errors.As(err, &me):
		return etsi.TotalFailed, etsi.FormatFailure
	case errors.As(err, &pe):
		return etsi.Indeterminate, etsi.CryptoConstraintsFailure
	default:
		return etsi.TotalFailed, etsi.SigCryptoFailure
	}
}

func failAlgorithm(s *Signature, err error) {
	ind, sub := algorithmFailure(err)
	s.fail(ind, sub, err.Error())
}

// econtentDigest hashes the encapsulated content (timestamp tokens and
// adbe.pkcs7.sha1), which is what their signed attributes' message digest
// covers.
func econtentDigest(sd *cms.SignedData) func(crypto.Hash) ([]byte, error) {
	return func(h crypto.Hash) ([]byte, error) {
		x := h.New()
		x.Write(sd.EContent)
		return x.Sum(nil), nil
	}
}

// signerOutcome is what checking one SignerInfo of several found.
type signerOutcome struct {
	cert *x509.Certificate
	err  error // nil: its signature value verifies over the content
}

// chooseSignerInfo picks, among several SignerInfos, the one whose
// certificate is the signing certificate: the first whose certificate is
// present and whose signature verifies over the content, else the first
// whose certificate is present, else the first. adbe.pkcs7.detached allows
// several signers and EU DSS validates such files, so the count alone is no
// reason to refuse. With one SignerInfo it does nothing and returns nil.
func chooseSignerInfo(sd *cms.SignedData, pool []*x509.Certificate, digestOf func(crypto.Hash) ([]byte, error)) []signerOutcome {
	if len(sd.SignerInfos) < 2 {
		return nil
	}
	out := make([]signerOutcome, len(sd.SignerInfos))
	verified, withCert := -1, -1
	for i := range sd.SignerInfos {
		sd.UseSigner(i)
		out[i] = checkOneSigner(sd, pool, digestOf)
		if out[i].cert != nil && withCert < 0 {
			withCert = i
		}
		if out[i].err == nil && verified < 0 {
			verified = i
		}
	}
	switch {
	case verified >= 0:
		sd.UseSigner(verified)
	case withCert >= 0:
		sd.UseSigner(withCert)
	default:
		sd.UseSigner(0)
	}
	return out
}

// checkOneSigner checks the selected SignerInfo's message digest and
// signature value; the full checks run afterwards on the chosen one only.
func checkOneSigner(sd *cms.SignedData, pool []*x509.Certificate, digestOf func(crypto.Hash) ([]byte, error)) signerOutcome {
	var o signerOutcome
	o.cert = sd.FindSigner(pool)
	if o.cert == nil {
		o.err = errors.New("its certificate is not in the CMS or the document security store")
		return o
	}
	h, err := cms.Digest(sd.DigestAlgorithm.Algorithm)
	if err != nil {
		o.err = err
		return o
	}
	content, err := digestOf(h)
	if err != nil {
		o.err = err
		return o
	}
	if sd.SignedAttrsRaw != nil {
		md, err := sd.MessageDigest()
		if err != nil {
			o.err = err
			return o
		}
		if !bytes.Equal(md, content) {
			o.err = errors.New("its message digest does not match the signed bytes")
			return o
		}
	}
	o.err = sd.VerifySignature(o.cert, content)
	return o
}

// selectSignerInfo chooses the SignerInfo to verify when the CMS has
// several, and lists every one in the report.
func (v *verifier) selectSignerInfo(e *sigEntry, digestOf func(crypto.Hash) ([]byte, error)) {
	sd := e.sd
	pool := append(append([]*x509.Certificate{}, sd.Certificates...), v.dss.Certs...)
	pool = append(pool, sd.EmbeddedRevocation().Certs...)
	outcomes := chooseSignerInfo(sd, pool, digestOf)
	if outcomes == nil {
		return
	}
	var list []string
	for i, o := range outcomes {
		who := sd.SignerInfos[i].SignerID()
		if o.cert != nil {
			who = o.cert.Subject.String()
		}
		state := "signature value verifies"
		if o.err != nil {
			state = o.err.Error()
		}
		mark := ""
		if i == sd.Selected {
			mark = " [checked]"
		}
		list = append(list, fmt.Sprintf("#%d%s %s: %s", i+1, mark, who, state))
	}
	e.rep.Warnings = append(e.rep.Warnings, fmt.Sprintf("%s: %d SignerInfos: %s", phraseSeveralSigners, len(outcomes), strings.Join(list, "; ")))
	e.rep.check("signer info chosen", true, fmt.Sprintf("%d of %d", sd.Selected+1, len(outcomes)))
}

// noteNegativeSerials warns, once per certificate, about certificates with
// a negative serial number among those a signature relies on. They are
// accepted (the binaries set GODEBUG x509negativeserial=1) because real
// anchors and signers carry them, but an auditor should know.
func noteNegativeSerials(s *Signature, role string, certs ...*x509.Certificate) {
	for _, c := range certs {
		if c == nil || c.SerialNumber == nil || c.SerialNumber.Sign() >= 0 {
			continue
		}
		w := fmt.Sprintf("%s: %s %s, serial %s", phraseNegativeSerial, role, c.Subject.String(), c.SerialNumber.Text(16))
		dup := false
		for _, have := range s.Warnings {
			dup = dup || strings.HasPrefix(have, phraseNegativeSerial) && strings.Contains(have, c.Subject.String()+", serial "+c.SerialNumber.Text(16))
		}
		if !dup {
			s.Warnings = append(s.Warnings, w)
		}
	}
}

// noteChainSerials applies noteNegativeSerials to a validated chain and the
// OCSP responders its revocation checks relied on.
func noteChainSerials(s *Signature, res chain.Result, leafRole string) {
	for i, c := range res.Chain {
		role := "intermediate CA"
		switch {
		case i == 0:
			role = leafRole
		case i == len(res.Chain)-1:
			role = "trust anchor"
		}
		noteNegativeSerials(s, role, c)
	}
	for _, rc := range res.Revocation {
		noteNegativeSerials(s, "OCSP responder", rc.Responder)
	}
}
