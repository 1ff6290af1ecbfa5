package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/cms"
	"github.com/vanthu/vanthu/signing/verify/diff"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// Subfilters handled.
const (
	sfPKCS7Detached = "adbe.pkcs7.detached"
	sfPKCS7SHA1     = "adbe.pkcs7.sha1"
	sfCAdES         = "ETSI.CAdES.detached"
	sfRFC3161       = "ETSI.RFC3161"
)

// checkIntrinsic checks what needs only the file bytes: ByteRange shape,
// coverage, CMS structure, digest, signature value, algorithm policy, and
// the timestamps' own integrity.
func (v *verifier) checkIntrinsic(e *sigEntry) {
	s, d := e.rep, e.dict
	s.SubFilter = d.SubFilter
	s.ByteRange = d.ByteRange
	s.Reason = d.Reason
	if d.Type == "DocTimeStamp" || d.SubFilter == sfRFC3161 {
		s.Type = "document-timestamp"
	}
	if d.DocMDP > 0 {
		s.Certification = d.DocMDP
	}
	if t, ok := parsePDFDate(d.M); ok {
		s.SigningTime = &t
	}
	rangesOK := v.checkByteRange(e)
	if len(d.Contents) == 0 || len(bytes.Trim(d.Contents, "\x00")) == 0 {
		s.fail(etsi.TotalFailed, etsi.FormatFailure, "/Contents is empty: a placeholder, not a signature")
		return
	}
	sd, err := cms.Parse(d.Contents)
	if err != nil {
		s.fail(etsi.TotalFailed, etsi.FormatFailure, "CMS: "+err.Error())
		return
	}
	e.sd = sd
	s.check("CMS SignedData parses", true, "")
	if sd.TrailingGarbage {
		s.fail(etsi.TotalFailed, etsi.FormatFailure, "non-zero bytes after the CMS structure in /Contents")
	}
	if sd.BERNormalised {
		s.Warnings = append(s.Warnings, "CMS is BER, not DER, encoded")
	}
	if !rangesOK {
		return // digest over ranges that are not inside the file is meaningless
	}
	switch {
	case s.Type == "document-timestamp":
		v.checkDocTimestamp(e)
	case d.SubFilter == sfPKCS7Detached || d.SubFilter == sfCAdES:
		v.checkDetached(e)
	case d.SubFilter == sfPKCS7SHA1:
		v.checkSHA1(e)
	default:
		s.fail(etsi.Indeterminate, etsi.FormatFailure, fmt.Sprintf("unsupported /SubFilter %q", d.SubFilter))
	}
}

// checkByteRange enforces the one accepted shape: [0 a b c], the gap being
// exactly the /Contents hex string with its angle brackets, inside the file.
func (v *verifier) checkByteRange(e *sigEntry) bool {
	s, d := e.rep, e.dict
	br := d.ByteRange
	fail := func(why string) bool {
		s.Coverage = Nonstandard
		s.fail(etsi.TotalFailed, etsi.FormatFailure, "ByteRange: "+why)
		s.check("ByteRange", false, why)
		return false
	}
	if !d.ByteRangeOK || len(br) != 4 {
		return fail(fmt.Sprintf("need exactly two ranges of integers, got %v", br))
	}
	if br[0] != 0 {
		return fail("first range does not start at 0")
	}
	if br[1] <= 0 || br[2] <= br[1] || br[3] < 0 {
		return fail(fmt.Sprintf("ranges %v overlap or are negative", br))
	}
	if br[2]+br[3] > v.size || br[2]+br[3] < br[2] {
		return fail(fmt.Sprintf("second range ends at %d, past the end of the file (%d bytes)", br[2]+br[3], v.size))
	}
	if !d.ContentsHex {
		return fail("/Contents is not a hex string")
	}
	if br[1] != d.ContentsStart || br[2] != d.ContentsEnd {
		return fail(fmt.Sprintf("gap [%d, %d) is not this dictionary's /Contents string [%d, %d)", br[1], br[2], d.ContentsStart, d.ContentsEnd))
	}
	s.check("ByteRange", true, fmt.Sprintf("%v, gap is exactly /Contents", br))
	end := br[2] + br[3]
	if rev, ok := v.revisionOf(end); ok {
		s.Revision = rev
	}
	switch {
	case end == v.size || v.onlyEOL(end, v.size) && v.size-end <= 2:
		s.Coverage = EntireFile
		if s.Revision < 0 {
			s.Revision = len(v.st.revisionEnds()) - 1
		}
	case s.Revision >= 0:
		s.Coverage = EntireRevision
	default:
		s.Coverage = Partial
		s.fail(etsi.TotalFailed, etsi.FormatFailure, fmt.Sprintf("signature covers the first %d bytes, which is not the end of any revision", end))
		return true // still check the cryptography for the facts
	}
	s.check("coverage", true, string(s.Coverage))
	return true
}

// checkDetached handles adbe.pkcs7.detached and ETSI.CAdES.detached.
func (v *verifier) checkDetached(e *sigEntry) {
	s, sd := e.rep, e.sd
	if sd.HasEContent {
		s.fail(etsi.TotalFailed, etsi.FormatFailure, "detached signature carries encapsulated content")
		return
	}
	if !sd.EContentType.Equal(cms.OIDData) {
		s.fail(etsi.TotalFailed, etsi.FormatFailure, fmt.Sprintf("encapsulated content type %v is not id-data", sd.EContentType))
	}
	v.selectSignerInfo(e, func(h crypto.Hash) ([]byte, error) {
		sums, err := v.hashRanges(s.ByteRange, h)
		if err != nil {
			return nil, err
		}
		return sums[0], nil
	})
	h, err := cms.Digest(sd.DigestAlgorithm.Algorithm)
	if err != nil {
		failAlgorithm(s, err)
		v.findSigner(e)
		return
	}
	s.Digest = cms.HashName(h)
	sums, err := v.hashRanges(s.ByteRange, h)
	if err != nil {
		s.fail(etsi.Indeterminate, etsi.SignedDataNotFound, err.Error())
		return
	}
	v.checkSignerInfo(e, h, sums[0], e.dict.SubFilter == sfCAdES)
}

// checkSHA1 handles adbe.pkcs7.sha1: the encapsulated content is the SHA-1
// of the ranges, and SHA-1 is outside the policy.
func (v *verifier) checkSHA1(e *sigEntry) {
	s, sd := e.rep, e.sd
	s.Digest = "SHA-1"
	sums, err := v.hashRanges(s.ByteRange, crypto.SHA1)
	if err != nil {
		s.fail(etsi.Indeterminate, etsi.SignedDataNotFound, err.Error())
		return
	}
	if !sd.HasEContent || !bytes.Equal(sd.EContent, sums[0]) {
		s.fail(etsi.TotalFailed, etsi.HashFailure, "encapsulated SHA-1 digest does not match the signed ranges")
		return
	}
	v.selectSignerInfo(e, econtentDigest(sd))
	h, err := cms.Digest(sd.DigestAlgorithm.Algorithm)
	if err != nil {
		failAlgorithm(s, err)
		return
	}
	hh := h.New()
	hh.Write(sd.EContent)
	v.checkSignerInfo(e, h, hh.Sum(nil), false)
	s.fail(etsi.Indeterminate, etsi.CryptoConstraintsFailure, "adbe.pkcs7.sha1 signs a SHA-1 digest; SHA-1 is not accepted")
}

func (v *verifier) findSigner(e *sigEntry) *x509.Certificate {
	sd := e.sd
	pool := append(append([]*x509.Certificate{}, sd.Certificates...), v.dss.Certs...)
	pool = append(pool, sd.EmbeddedRevocation().Certs...)
	e.certs = pool
	c := sd.FindSigner(pool)
	if c == nil {
		e.rep.fail(etsi.Indeterminate, etsi.NoSigningCertificateFound, "the signer's certificate is neither in the CMS nor in the document security store")
		e.rep.check("signing certificate found", false, "")
		return nil
	}
	e.signer = c
	e.rep.Signer = c.Subject.String()
	e.rep.Issuer = c.Issuer.String()
	from, until := c.NotBefore, c.NotAfter
	e.rep.SignerNotBefore, e.rep.SignerNotAfter = &from, &until
	e.rep.SignerSerial = c.SerialNumber.Text(16)
	e.rep.check("signing certificate found", true, c.Subject.String())
	noteNegativeSerials(e.rep, "signer", c)
	return c
}

// checkSignerInfo checks the signer info against contentDigest: the signed
// attributes (DER, content type, message digest, signing certificate), the
// signature value and the algorithm policy.
func (v *verifier) checkSignerInfo(e *sigEntry, h crypto.Hash, contentDigest []byte, cades bool) {
	s, sd := e.rep, e.sd
	if sd.SignedAttrsRaw == nil {
		if cades {
			s.fail(etsi.TotalFailed, etsi.FormatFailure, "ETSI.CAdES.detached requires signed attributes")
		} else {
			s.Warnings = append(s.Warnings, "no signed attributes: the signature is over the document digest directly")
		}
	} else {
		if !sd.SignedAttrsDER {
			// The signature is checked over the bytes as received (as EU DSS
			// does); re-encoding them would break signers that got the SET
			// ordering wrong without changing what they signed.
			s.Warnings = append(s.Warnings, "signed attributes are not DER encoded (checked as received)")
			s.check("signed attributes DER", false, "")
		}
		if ct, err := sd.ContentType(); err != nil {
			s.fail(etsi.TotalFailed, etsi.FormatFailure, err.Error())
		} else if !ct.Equal(sd.EContentType) {
			s.fail(etsi.TotalFailed, etsi.FormatFailure, "content-type attribute differs from the encapsulated content type")
		}
		md, err := sd.MessageDigest()
		switch {
		case err != nil:
			s.fail(etsi.TotalFailed, etsi.FormatFailure, err.Error())
		case !bytes.Equal(md, contentDigest):
			s.fail(etsi.TotalFailed, etsi.HashFailure, "message digest does not match the signed bytes: the document was changed")
			s.check("message digest", false, "")
		default:
			s.check("message digest", true, cms.HashName(h))
		}
		if t, ok := sd.SigningTime(); ok && s.SigningTime == nil {
			s.SigningTime = &t
		} else if ok {
			t := t
			s.SigningTime = &t // the signed claim beats the unsigned /M
		}
	}
	if !cms.HashAllowed(h) {
		s.fail(etsi.Indeterminate, etsi.CryptoConstraintsFailure, fmt.Sprintf("digest %s is not accepted (SHA-2 or SHA-3 required)", cms.HashName(h)))
	}
	cert := v.findSigner(e)
	if cert == nil {
		return
	}
	if present, err := sd.SigningCertMatch(cert); err != nil {
		s.fail(etsi.Indeterminate, etsi.NoSigningCertificateFound, err.Error())
	} else if present {
		s.check("signing-certificate attribute", true, "")
	} else if cades {
		s.Warnings = append(s.Warnings, "no signing-certificate(-v2) attribute: not a PAdES baseline signature")
	}
	if err := sd.VerifySignature(cert, contentDigest); err != nil {
		failAlgorithm(s, err)
		s.check("signature value", false, err.Error())
		return
	}
	s.check("signature value", true, "")
	if err := cms.KeyAllowed(cert.PublicKey); err != nil {
		s.fail(etsi.Indeterminate, etsi.CryptoConstraintsFailure, err.Error())
	}
	e.cryptoOK = true
	if s.Type == "signature" {
		v.checkSignatureTimestamps(e)
	}
}

// checkSignatureTimestamps validates the signature timestamps: the imprint
// is over the signature value.
func (v *verifier) checkSignatureTimestamps(e *sigEntry) {
	for _, tok := range e.sd.TimestampTokens() {
		imprint := func(h crypto.Hash) []byte {
			x := h.New()
			x.Write(e.sd.Signature)
			return x.Sum(nil)
		}
		ts, _, _ := v.validateToken(context.Background(), tok, imprint, "signature-timestamp", e.rep.ByteRange)
		e.rep.Timestamps = append(e.rep.Timestamps, ts)
		for _, w := range ts.Warnings {
			if !slices.Contains(e.rep.Warnings, w) {
				e.rep.Warnings = append(e.rep.Warnings, w)
			}
		}
		if ts.Indication == etsi.TotalPassed && e.sigTSAt.IsZero() {
			e.sigTSAt = ts.Time
			t := ts.Time
			e.rep.TimestampTime = &t
		} else if ts.Indication == etsi.TotalFailed {
			e.rep.fail(etsi.TotalFailed, ts.SubIndication, "signature timestamp: "+ts.Detail)
		} else {
			e.rep.Warnings = append(e.rep.Warnings, "signature timestamp not usable: "+string(ts.SubIndication)+" "+ts.Detail)
		}
	}
}

// validateToken checks an RFC 3161 token: its imprint, its own CMS signature
// and the TSA's chain to the trust anchors.
func (v *verifier) validateToken(ctx context.Context, der []byte, imprint func(crypto.Hash) []byte, kind string, coveredBR []int64) (Timestamp, *cms.SignedData, *x509.Certificate) {
	ts := Timestamp{Kind: kind, Indication: etsi.TotalFailed}
	sd, err := cms.Parse(der)
	if err != nil {
		ts.SubIndication, ts.Detail = etsi.FormatFailure, err.Error()
		return ts, nil, nil
	}
	info, err := sd.ParseTSTInfo()
	if err != nil {
		ts.SubIndication, ts.Detail = etsi.FormatFailure, err.Error()
		return ts, sd, nil
	}
	ts.Time = info.GenTime.UTC()
	mh, err := cms.Digest(info.MessageImprint.HashAlgorithm.Algorithm)
	if err != nil {
		ts.Indication, ts.SubIndication = algorithmFailure(err)
		ts.Detail = "imprint: " + err.Error()
		return ts, sd, nil
	}
	if !bytes.Equal(imprint(mh), info.MessageImprint.HashedMessage) {
		ts.SubIndication, ts.Detail = etsi.HashFailure, "message imprint does not match the timestamped data"
		return ts, sd, nil
	}
	pool := append(append([]*x509.Certificate{}, sd.Certificates...), v.dss.Certs...)
	chooseSignerInfo(sd, pool, econtentDigest(sd))
	h, err := cms.Digest(sd.DigestAlgorithm.Algorithm)
	if err != nil {
		ts.Indication, ts.SubIndication = algorithmFailure(err)
		ts.Detail = err.Error()
		return ts, sd, nil
	}
	md, err := sd.MessageDigest()
	if err != nil {
		ts.SubIndication, ts.Detail = etsi.FormatFailure, err.Error()
		return ts, sd, nil
	}
	x := h.New()
	x.Write(sd.EContent)
	if !bytes.Equal(x.Sum(nil), md) {
		ts.SubIndication, ts.Detail = etsi.HashFailure, "timestamp token message digest does not match TSTInfo"
		return ts, sd, nil
	}
	signer := sd.FindSigner(pool)
	if signer == nil {
		ts.Indication, ts.SubIndication, ts.Detail = etsi.Indeterminate, etsi.NoSigningCertificateFound, "TSA certificate not found"
		return ts, sd, nil
	}
	ts.TSA = signer.Subject.String()
	if present, err := sd.SigningCertMatch(signer); err != nil || !present && false {
		ts.Indication, ts.SubIndication, ts.Detail = etsi.Indeterminate, etsi.NoSigningCertificateFound, fmt.Sprint(err)
		return ts, sd, signer
	}
	if err := sd.VerifySignature(signer, nil); err != nil {
		ts.Indication, ts.SubIndication = algorithmFailure(err)
		ts.Detail = err.Error()
		return ts, sd, signer
	}
	if !cms.HashAllowed(h) || !cms.HashAllowed(mh) {
		ts.Indication, ts.SubIndication, ts.Detail = etsi.Indeterminate, etsi.CryptoConstraintsFailure, "timestamp uses a digest outside the policy"
		return ts, sd, signer
	}
	// The TSA's chain: at the validation time, or at a later document
	// timestamp's time when one proves this token existed then.
	at := v.validationTime()
	if len(coveredBR) == 4 {
		if p, ok := v.poe(coveredBR[2] + coveredBR[3] + 1); ok && p.Before(at) && kind == "signature-timestamp" {
			at = p
		}
	}
	ev := v.dss
	rev := sd.EmbeddedRevocation()
	ev.OCSP = append(append([][]byte{}, ev.OCSP...), rev.OCSP...)
	ev.CRLs = append(append([][]byte{}, ev.CRLs...), rev.CRLs...)
	res := chain.Validate(ctx, chain.Request{Leaf: signer, Intermediates: pool, Anchors: v.opts.Trust, At: at, Usage: chain.Timestamping,
		Evidence: ev, Offline: v.opts.Offline, Fetcher: v.opts.Fetcher, Now: v.now})
	if res.Indication != etsi.TotalPassed {
		ts.Indication, ts.SubIndication, ts.Detail = res.Indication, res.Sub, "TSA: "+res.Detail
		return ts, sd, signer
	}
	var notes Signature
	noteChainSerials(&notes, res, "TSA")
	ts.Warnings = notes.Warnings
	ts.Indication, ts.SubIndication = etsi.TotalPassed, etsi.None
	return ts, sd, signer
}

// checkDocTimestamp checks an ETSI.RFC3161 document timestamp's integrity;
// its chain is checked in checkTimestampChain.
func (v *verifier) checkDocTimestamp(e *sigEntry) {
	s, sd := e.rep, e.sd
	s.Type = "document-timestamp"
	info, err := sd.ParseTSTInfo()
	if err != nil {
		s.fail(etsi.TotalFailed, etsi.FormatFailure, err.Error())
		return
	}
	t := info.GenTime.UTC()
	s.TimestampTime = &t
	e.docTSAt = t
	mh, err := cms.Digest(info.MessageImprint.HashAlgorithm.Algorithm)
	if err != nil {
		failAlgorithm(s, fmt.Errorf("timestamp imprint: %w", err))
		return
	}
	s.Digest = cms.HashName(mh)
	sums, err := v.hashRanges(s.ByteRange, mh)
	if err != nil {
		s.fail(etsi.Indeterminate, etsi.SignedDataNotFound, err.Error())
		return
	}
	if !bytes.Equal(sums[0], info.MessageImprint.HashedMessage) {
		s.fail(etsi.TotalFailed, etsi.HashFailure, "timestamp imprint does not match the covered bytes: the document was changed")
		return
	}
	s.check("message imprint", true, cms.HashName(mh))
	if !cms.HashAllowed(mh) {
		s.fail(etsi.Indeterminate, etsi.CryptoConstraintsFailure, "imprint digest outside the policy")
	}
	v.selectSignerInfo(e, econtentDigest(sd))
	h, err := cms.Digest(sd.DigestAlgorithm.Algorithm)
	if err != nil {
		failAlgorithm(s, err)
		return
	}
	x := h.New()
	x.Write(sd.EContent)
	v.checkSignerInfo(e, h, x.Sum(nil), false)
}

func (v *verifier) checkTimestampChain(ctx context.Context, e *sigEntry) {
	s := e.rep
	if e.signer == nil {
		return
	}
	res := chain.Validate(ctx, chain.Request{Leaf: e.signer, Intermediates: e.certs, Anchors: v.opts.Trust, At: v.validationTime(), Usage: chain.Timestamping,
		Evidence: v.evidence(e), Offline: v.opts.Offline, Fetcher: v.opts.Fetcher, Now: v.now})
	s.ValidationAt = v.validationTime().UTC()
	s.Revocation = res.Revocation
	noteChainSerials(s, res, "TSA")
	for _, c := range res.Checks {
		s.check(c, true, "")
	}
	if res.Indication != etsi.TotalPassed {
		s.fail(res.Indication, res.Sub, "TSA: "+res.Detail)
	}
	// Provisional so poe() can use it; conclude() runs again in pass 3.
	s.conclude()
}

func (v *verifier) evidence(e *sigEntry) chain.Evidence {
	ev := v.dss
	rev := e.sd.EmbeddedRevocation()
	ev.OCSP = append(append([][]byte{}, ev.OCSP...), rev.OCSP...)
	ev.CRLs = append(append([][]byte{}, ev.CRLs...), rev.CRLs...)
	ev.Certs = append(append([]*x509.Certificate{}, ev.Certs...), rev.Certs...)
	return ev
}

// checkTrust validates the signer's chain and revocation at the best
// signature time: a signature timestamp, else a covering document
// timestamp, else --at, else now.
func (v *verifier) checkTrust(ctx context.Context, e *sigEntry) {
	s := e.rep
	if e.signer == nil {
		return
	}
	at, why := v.validationTime(), "validation time"
	if !e.sigTSAt.IsZero() {
		at, why = e.sigTSAt, "signature timestamp"
	} else if len(s.ByteRange) == 4 {
		if p, ok := v.poe(s.ByteRange[2] + s.ByteRange[3] + 1); ok && p.Before(at) {
			at, why = p, "document timestamp"
		}
	}
	s.ValidationAt = at.UTC()
	s.check("validation time", true, at.UTC().Format(time.RFC3339)+" ("+why+")")
	res := chain.Validate(ctx, chain.Request{Leaf: e.signer, Intermediates: e.certs, Anchors: v.opts.Trust, At: at, Usage: chain.Signing,
		Evidence: v.evidence(e), Offline: v.opts.Offline, Fetcher: v.opts.Fetcher, Now: v.now})
	s.Revocation = res.Revocation
	noteChainSerials(s, res, "signer")
	for _, c := range res.Checks {
		s.check(c, true, "")
	}
	if res.Indication == etsi.TotalPassed {
		return
	}
	if res.Sub == etsi.NotYetValid && why != "validation time" {
		// A timestamp proves the signature existed before the certificate did.
		s.fail(etsi.TotalFailed, etsi.NotYetValid, res.Detail)
		return
	}
	s.fail(res.Indication, res.Sub, res.Detail)
}

// checkChanges runs the change analysis from the signed revision.
func (v *verifier) checkChanges(e *sigEntry) {
	s := e.rep
	last := len(v.st.revisionEnds()) - 1
	if s.Revision < 0 || s.Coverage == Nonstandard || s.Coverage == Partial {
		s.Modifications = ModUnknown
		return
	}
	if s.Revision >= last {
		s.Modifications = ModNone
		return
	}
	mods, changes, err := v.st.analyze(s.Revision, v.certificationLevel(), e)
	s.Changes = append(s.Changes, changes...)
	s.Modifications = mods
	var visual []string
	for _, c := range changes {
		switch {
		case c.Rule == diff.RuleRepairedXref:
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: %s", warnXrefRepaired, c.Detail))
		case c.Allowed && diff.Warns(c.Rule):
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: %s (%s, revision %d)", warnPermittedChange, c.Detail, c.Object, c.Revision))
		case c.Visual:
			if c.Kind == "structure" {
				visual = append(visual, c.Detail)
			} else {
				visual = append(visual, c.Object+" "+c.Kind)
			}
		}
	}
	if len(visual) > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s: %s", warnShadow, strings.Join(visual, ", ")))
	}
	if err != nil {
		s.Modifications = ModUnknown
		s.Warnings = append(s.Warnings, "changes after signing could not be analysed: "+err.Error())
		return
	}
	if mods == ModDisallowed {
		var what []string
		for _, c := range changes {
			if !c.Allowed {
				what = append(what, c.Object+" "+c.Kind)
			}
			if len(what) == 5 {
				what = append(what, "…")
				break
			}
		}
		s.fail(etsi.TotalFailed, etsi.FormatFailure, "disallowed changes after signing: "+strings.Join(what, ", "))
	}
}

// certificationLevel is the DocMDP P of the document's certification
// signature, 0 if the document is not certified.
func (v *verifier) certificationLevel() int {
	if p := v.st.certification(); p > 0 {
		return p
	}
	for _, e := range v.sigs {
		if e.rep.Certification > 0 && !e.rep.Hidden {
			return e.rep.Certification
		}
	}
	return 0
}

// level names the PAdES baseline level reached (or PKCS7 for the legacy
// subfilters).
func (v *verifier) level(e *sigEntry) {
	s := e.rep
	if s.Type == "document-timestamp" {
		s.Level = "DOC-TS"
		return
	}
	base := "B-B"
	if s.SubFilter != sfCAdES {
		base = "PKCS7"
	}
	if e.sd == nil || !e.cryptoOK {
		s.Level = base
		return
	}
	if e.sigTSAt.IsZero() {
		s.Level = base
		return
	}
	if base == "PKCS7" {
		s.Level = "PKCS7-T"
		return
	}
	s.Level = "B-T"
	rev := e.sd.EmbeddedRevocation()
	if len(v.dss.OCSP)+len(v.dss.CRLs)+len(rev.OCSP)+len(rev.CRLs) == 0 {
		return
	}
	s.Level = "B-LT"
	for _, o := range v.sigs {
		if o.rep.Type == "document-timestamp" && o.cryptoOK && len(o.rep.ByteRange) == 4 && len(s.ByteRange) == 4 &&
			o.rep.ByteRange[2]+o.rep.ByteRange[3] > s.ByteRange[2]+s.ByteRange[3] {
			s.Level = "B-LTA"
		}
	}
}

// parsePDFDate reads D:YYYYMMDDHHmmSSOHH'mm'.
func parsePDFDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	if len(s) < 4 {
		return time.Time{}, false
	}
	layout := "20060102150405"
	base := s
	if len(base) > 14 {
		base = s[:14]
	}
	t, err := time.Parse(layout[:len(base)], base)
	if err != nil {
		return time.Time{}, false
	}
	rest := ""
	if len(s) > 14 {
		rest = s[14:]
	}
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		tz := strings.NewReplacer("'", "").Replace(rest[1:])
		if len(tz) >= 2 {
			var hh, mm int
			fmt.Sscanf(tz[:2], "%d", &hh)
			if len(tz) >= 4 {
				fmt.Sscanf(tz[2:4], "%d", &mm)
			}
			off := hh*3600 + mm*60
			if rest[0] == '-' {
				off = -off
			}
			t = t.Add(-time.Duration(off) * time.Second)
		}
	}
	return t.UTC(), true
}
