package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	_ "crypto/md5"  // registered so MD5 signatures can be checked and then rejected by policy
	_ "crypto/sha1" // registered so SHA-1 documents can be hashed and then rejected by policy
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"
)

var (
	oidSHA1     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA3_256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
	oidSHA3_384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 9}
	oidSHA3_512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 10}

	oidRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA1RSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidSHA3_256RSA  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 14}
	oidSHA3_384RSA  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 15}
	oidSHA3_512RSA  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 16}
	oidECPublicKey  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSASHA1    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSASHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidECDSASHA3256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 10}
	oidECDSASHA3384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 11}
	oidECDSASHA3512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 12}
	oidEd25519      = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidEd448        = asn1.ObjectIdentifier{1, 3, 101, 113}

	oidMD5 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
)

// knownDigests are digest algorithms that are recognised but cannot be
// computed here: a signature using one is outside the policy
// (INDETERMINATE), not malformed.
var knownDigests = map[string]string{
	"1.2.840.113549.2.2":      "MD2",
	"1.2.840.113549.2.4":      "MD4",
	"1.3.36.3.2.1":            "RIPEMD-160",
	"1.2.643.7.1.1.2.2":       "GOST R 34.11-2012 (256 bit)",
	"1.2.643.7.1.1.2.3":       "GOST R 34.11-2012 (512 bit)",
	"1.2.156.10197.1.401":     "SM3",
	"2.16.840.1.101.3.4.2.5":  "SHA-512/224",
	"2.16.840.1.101.3.4.2.6":  "SHA-512/256",
	"2.16.840.1.101.3.4.2.11": "SHAKE128",
	"2.16.840.1.101.3.4.2.12": "SHAKE256",
}

// knownSignatureAlgs are signature algorithms that are recognised but not
// supported: outside the policy (INDETERMINATE), not malformed.
var knownSignatureAlgs = map[string]string{
	"1.2.840.113549.1.1.2":   "md2WithRSAEncryption",
	"1.2.840.113549.1.1.3":   "md4WithRSAEncryption",
	"1.2.840.113549.1.1.4":   "md5WithRSAEncryption",
	"1.2.840.10040.4.1":      "DSA",
	"1.2.840.10040.4.3":      "dsa-with-sha1",
	"2.16.840.1.101.3.4.3.1": "dsa-with-sha224",
	"2.16.840.1.101.3.4.3.2": "dsa-with-sha256",
	"1.3.101.113":            "Ed448",
	"1.2.643.7.1.1.1.1":      "GOST R 34.10-2012 (256 bit)",
	"1.2.643.7.1.1.1.2":      "GOST R 34.10-2012 (512 bit)",
	"1.2.643.7.1.1.3.2":      "GOST R 34.10-2012 with 34.11-2012 (256 bit)",
	"1.2.643.7.1.1.3.3":      "GOST R 34.10-2012 with 34.11-2012 (512 bit)",
	"1.2.156.10197.1.501":    "SM2 with SM3",
}

// sigAlgHash is the digest a signature algorithm identifier names itself;
// the SignerInfo's digest algorithm must agree with it.
var sigAlgHash = map[string]crypto.Hash{
	oidSHA1RSA.String():      crypto.SHA1,
	oidSHA224RSA.String():    crypto.SHA224,
	oidSHA256RSA.String():    crypto.SHA256,
	oidSHA384RSA.String():    crypto.SHA384,
	oidSHA512RSA.String():    crypto.SHA512,
	oidSHA3_256RSA.String():  crypto.SHA3_256,
	oidSHA3_384RSA.String():  crypto.SHA3_384,
	oidSHA3_512RSA.String():  crypto.SHA3_512,
	oidECDSASHA1.String():    crypto.SHA1,
	oidECDSASHA256.String():  crypto.SHA256,
	oidECDSASHA384.String():  crypto.SHA384,
	oidECDSASHA512.String():  crypto.SHA512,
	oidECDSASHA3256.String(): crypto.SHA3_256,
	oidECDSASHA3384.String(): crypto.SHA3_384,
	oidECDSASHA3512.String(): crypto.SHA3_512,
}

// MalformedError says the signature value cannot be checked at all because
// the structure is malformed: an algorithm identifier nobody defines, or
// identifiers that contradict each other. It is TOTAL-FAILED
// (FORMAT_FAILURE), unlike a PolicyError, which is about a known algorithm
// that is not allowed.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return "malformed signature: " + e.Reason }

// Digest maps a digest algorithm identifier to a hash: a PolicyError for a
// recognised digest that cannot be used, a MalformedError for an unknown one.
func Digest(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	if h, ok := HashForOID(oid); ok {
		return h, nil
	}
	if name, ok := knownDigests[oid.String()]; ok {
		return 0, &PolicyError{"digest algorithm " + name + " is not supported"}
	}
	return 0, &MalformedError{fmt.Sprintf("unknown digest algorithm %v", oid)}
}

// HashForOID maps a digest algorithm OID to a hash. SHA-1 maps too, so that
// the policy, not the parser, is what rejects it.
func HashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidMD5):
		return crypto.MD5, true
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA224):
		return crypto.SHA224, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	case oid.Equal(oidSHA3_256):
		return crypto.SHA3_256, true
	case oid.Equal(oidSHA3_384):
		return crypto.SHA3_384, true
	case oid.Equal(oidSHA3_512):
		return crypto.SHA3_512, true
	}
	return 0, false
}

// HashName names a hash for reports.
func HashName(h crypto.Hash) string {
	if h == 0 {
		return "unknown"
	}
	return h.String()
}

// PolicyError says the algorithms are outside the accepted policy (an
// INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE), as opposed to a signature that
// does not verify (TOTAL-FAILED SIG_CRYPTO_FAILURE).
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "algorithm policy: " + e.Reason }

// HashAllowed says whether a digest is accepted for signatures: SHA-2 (224
// excluded) and SHA-3.
func HashAllowed(h crypto.Hash) bool {
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_384, crypto.SHA3_512:
		return true
	}
	return false
}

// KeyAllowed checks the key size policy: RSA ≥ 2048, ECDSA ≥ 256, Ed25519.
func KeyAllowed(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return &PolicyError{fmt.Sprintf("RSA key of %d bits (need ≥ 2048)", k.N.BitLen())}
		}
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize < 256 {
			return &PolicyError{fmt.Sprintf("ECDSA key on a %d-bit curve (need ≥ 256)", k.Curve.Params().BitSize)}
		}
	case ed25519.PublicKey:
	default:
		return &PolicyError{fmt.Sprintf("unsupported public key type %T", pub)}
	}
	return nil
}

// VerifySignature checks the signer's signature over the signed attributes
// (or, without them, over the content digest) with the certificate's key.
// digest is the hash of the signed content computed by the caller; it is used
// when there are no signed attributes.
func (sd *SignedData) VerifySignature(cert *x509.Certificate, contentDigest []byte) error {
	h, err := Digest(sd.DigestAlgorithm.Algorithm)
	if err != nil {
		if _, serr := sd.sigAlgorithm(cert.PublicKey); serr != nil {
			var me *MalformedError
			if errors.As(serr, &me) {
				return serr
			}
		}
		return err
	}
	if want, ok := sigAlgHash[sd.SignatureAlg.Algorithm.String()]; ok && want != h {
		return &MalformedError{fmt.Sprintf("the signature algorithm contradicts the SignerInfo digest algorithm: %v names %s, the digest algorithm is %s",
			sd.SignatureAlg.Algorithm, HashName(want), HashName(h))}
	}
	if cert.PublicKey == nil {
		return &PolicyError{fmt.Sprintf("unsupported public key algorithm %v", cert.PublicKeyAlgorithm)}
	}
	var msg []byte // what pure signatures (Ed25519) sign
	var d []byte   // what hashed signatures sign
	if sd.SignedAttrsRaw != nil {
		msg = sd.SignedAttrsRaw
		hh := h.New()
		hh.Write(msg)
		d = hh.Sum(nil)
	} else {
		d = contentDigest
	}
	kind, err := sd.sigAlgorithm(cert.PublicKey)
	if err != nil {
		return err
	}
	switch kind {
	case "rsa":
		pub := cert.PublicKey.(*rsa.PublicKey)
		if err := rsa.VerifyPKCS1v15(pub, h, d, sd.Signature); err != nil {
			return fmt.Errorf("RSA PKCS#1 v1.5 signature: %w", err)
		}
	case "pss":
		pub := cert.PublicKey.(*rsa.PublicKey)
		ph, salt, err := pssParams(sd.SignatureAlg.Parameters.FullBytes)
		if err != nil {
			return err
		}
		if ph != h {
			return &MalformedError{fmt.Sprintf("the signature algorithm contradicts the SignerInfo digest algorithm: RSA-PSS names %v, the digest algorithm is %v", ph, h)}
		}
		if err := rsa.VerifyPSS(pub, h, d, sd.Signature, &rsa.PSSOptions{SaltLength: salt, Hash: h}); err != nil {
			return fmt.Errorf("RSA-PSS signature: %w", err)
		}
	case "ecdsa":
		pub := cert.PublicKey.(*ecdsa.PublicKey)
		if !ecdsa.VerifyASN1(pub, d, sd.Signature) {
			return errors.New("ECDSA signature does not verify")
		}
	case "ed25519":
		pub := cert.PublicKey.(ed25519.PublicKey)
		if msg == nil {
			return &PolicyError{"Ed25519 without signed attributes"}
		}
		if !ed25519.Verify(pub, msg, sd.Signature) {
			return errors.New("Ed25519 signature does not verify")
		}
	}
	return nil
}

// sigAlgorithm matches the signature algorithm identifier to the key type.
func (sd *SignedData) sigAlgorithm(pub crypto.PublicKey) (string, error) {
	a := sd.SignatureAlg.Algorithm
	if name, ok := knownSignatureAlgs[a.String()]; ok {
		return "", &PolicyError{"signature algorithm " + name + " is not supported"}
	}
	switch {
	case a.Equal(oidEd25519):
		if _, ok := pub.(ed25519.PublicKey); ok {
			return "ed25519", nil
		}
	case a.Equal(oidRSAPSS):
		if _, ok := pub.(*rsa.PublicKey); ok {
			return "pss", nil
		}
	case a.Equal(oidRSA), a.Equal(oidSHA256RSA), a.Equal(oidSHA384RSA), a.Equal(oidSHA512RSA),
		a.Equal(oidSHA224RSA), a.Equal(oidSHA1RSA), a.Equal(oidSHA3_256RSA), a.Equal(oidSHA3_384RSA), a.Equal(oidSHA3_512RSA):
		if _, ok := pub.(*rsa.PublicKey); ok {
			return "rsa", nil
		}
	case a.Equal(oidECPublicKey), a.Equal(oidECDSASHA256), a.Equal(oidECDSASHA384), a.Equal(oidECDSASHA512),
		a.Equal(oidECDSASHA1), a.Equal(oidECDSASHA3256), a.Equal(oidECDSASHA3384), a.Equal(oidECDSASHA3512):
		if _, ok := pub.(*ecdsa.PublicKey); ok {
			return "ecdsa", nil
		}
	default:
		return "", &MalformedError{fmt.Sprintf("unknown signature algorithm %v", a)}
	}
	return "", fmt.Errorf("signature algorithm %v does not match the %T key", a, pub)
}

type pssParameters struct {
	Hash         pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:0"`
	MGF          pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:1"`
	SaltLength   int                      `asn1:"explicit,optional,tag:2,default:20"`
	TrailerField int                      `asn1:"explicit,optional,tag:3,default:1"`
}

func pssParams(der []byte) (crypto.Hash, int, error) {
	var p pssParameters
	if len(der) == 0 {
		return crypto.SHA1, 20, nil
	}
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return 0, 0, fmt.Errorf("parse RSA-PSS parameters: %w", err)
	}
	h := crypto.SHA1
	if len(p.Hash.Algorithm) > 0 {
		var ok bool
		if h, ok = HashForOID(p.Hash.Algorithm); !ok {
			return 0, 0, &PolicyError{"unknown RSA-PSS hash"}
		}
	}
	if len(p.MGF.Algorithm) > 0 && !p.MGF.Algorithm.Equal(oidMGF1) {
		return 0, 0, &PolicyError{"RSA-PSS mask generation other than MGF1"}
	}
	if p.SaltLength < 0 || p.TrailerField != 1 {
		return 0, 0, errors.New("bad RSA-PSS parameters")
	}
	return h, p.SaltLength, nil
}

// TSTInfo is the content of an RFC 3161 timestamp token.
type TSTInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time     `asn1:"generalized"`
	Accuracy     asn1.RawValue `asn1:"optional"`
	Ordering     bool          `asn1:"optional,default:false"`
	Nonce        *big.Int      `asn1:"optional"`
	TSA          asn1.RawValue `asn1:"optional,explicit,tag:0"`
	Extensions   asn1.RawValue `asn1:"optional,tag:1"`
}

// ParseTSTInfo parses the encapsulated content of a timestamp token.
func (sd *SignedData) ParseTSTInfo() (*TSTInfo, error) {
	if !sd.EContentType.Equal(OIDTSTInfo) || !sd.HasEContent {
		return nil, errors.New("not a timestamp token: no TSTInfo content")
	}
	var t TSTInfo
	if _, err := asn1.Unmarshal(sd.EContent, &t); err != nil {
		return nil, fmt.Errorf("parse TSTInfo: %w", err)
	}
	return &t, nil
}

// Revocation is revocation evidence carried inside the CMS: OCSP responses
// (full OCSPResponse DER) and CRLs (CertificateList DER), plus extra
// certificates from CAdES certificate-values.
type Revocation struct {
	OCSP  [][]byte
	CRLs  [][]byte
	Certs []*x509.Certificate
}

var oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// wrapBasicOCSP turns a BasicOCSPResponse into a successful OCSPResponse so
// one parser handles both forms.
func wrapBasicOCSP(basic []byte) []byte {
	type responseBytes struct {
		Type     asn1.ObjectIdentifier
		Response []byte
	}
	type ocspResponse struct {
		Status asn1.Enumerated
		Bytes  responseBytes `asn1:"explicit,tag:0"`
	}
	b, err := asn1.Marshal(ocspResponse{0, responseBytes{oidOCSPBasic, basic}})
	if err != nil {
		return nil
	}
	return b
}

// EmbeddedRevocation collects the adbe-revocationInfoArchival signed
// attribute, the CAdES revocation-values and certificate-values unsigned
// attributes and the SignedData crls field.
func (sd *SignedData) EmbeddedRevocation() Revocation {
	var rev Revocation
	rev.CRLs = append(rev.CRLs, sd.CRLs...)
	if v, n := Attr(sd.SignedAttrs, OIDAttrAdbeRevocation); n > 0 {
		var ria struct {
			CRL  asn1.RawValue `asn1:"explicit,optional,tag:0"`
			OCSP asn1.RawValue `asn1:"explicit,optional,tag:1"`
		}
		if _, err := asn1.Unmarshal(v.FullBytes, &ria); err == nil {
			rev.CRLs = append(rev.CRLs, taggedSequenceOf(ria.CRL)...)
			rev.OCSP = append(rev.OCSP, taggedSequenceOf(ria.OCSP)...)
		}
	}
	if v, n := Attr(sd.UnsignedAttrs, OIDAttrRevocationValues); n > 0 {
		var rv struct {
			CRLs asn1.RawValue `asn1:"explicit,optional,tag:0"`
			OCSP asn1.RawValue `asn1:"explicit,optional,tag:1"`
		}
		if _, err := asn1.Unmarshal(v.FullBytes, &rv); err == nil {
			rev.CRLs = append(rev.CRLs, taggedSequenceOf(rv.CRLs)...)
			for _, b := range taggedSequenceOf(rv.OCSP) {
				if w := wrapBasicOCSP(b); w != nil {
					rev.OCSP = append(rev.OCSP, w)
				}
			}
		}
	}
	if v, n := Attr(sd.UnsignedAttrs, OIDAttrCertValues); n > 0 {
		for _, b := range splitDER(v.Bytes) {
			if c, err := x509.ParseCertificate(b); err == nil {
				rev.Certs = append(rev.Certs, c)
			}
		}
	}
	return rev
}

// taggedSequenceOf returns the elements of a "[n] EXPLICIT SEQUENCE OF X"
// field. encoding/asn1 hands a RawValue field the tagged element itself,
// not what the explicit tag wraps, so the SEQUENCE OF is unwrapped here; a
// field that is already the SEQUENCE OF is accepted as well.
func taggedSequenceOf(rv asn1.RawValue) [][]byte {
	if rv.Class == asn1.ClassContextSpecific {
		var inner asn1.RawValue
		if _, err := asn1.Unmarshal(rv.Bytes, &inner); err != nil {
			return nil
		}
		rv = inner
	}
	if rv.Class != asn1.ClassUniversal || rv.Tag != asn1.TagSequence {
		return nil
	}
	return splitDER(rv.Bytes)
}

func splitDER(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(b, &rv)
		if err != nil {
			break
		}
		out = append(out, rv.FullBytes)
		b = rest
	}
	return out
}
