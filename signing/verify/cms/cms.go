// Package cms parses and checks the CMS SignedData structures found in PDF
// signatures (RFC 5652, CAdES, RFC 3161 timestamp tokens). It is written on
// encoding/asn1 rather than a general PKCS#7 library because a verifier must
// see things such libraries hide: whether the signed attributes are DER, a
// signer identified by subject key identifier, the signing-certificate(-v2)
// attribute, encapsulated content in a detached signature, and the unsigned
// attributes that carry timestamps and revocation values.
package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Object identifiers used by PDF signatures.
var (
	OIDData                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDTSTInfo               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	OIDAttrContentType       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrSigningCert       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	OIDAttrSigningCertV2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDAttrTimeStampToken    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDAttrCertValues        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	OIDAttrRevocationValues  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 24}
	OIDAttrAdbeRevocation    = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}
	OIDAttrArchiveTimestamp3 = asn1.ObjectIdentifier{0, 4, 0, 1733, 2, 4}
)

// ContentInfo is the outer CMS wrapper.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// Attribute is one CMS attribute with its raw values.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// SignerInfo is one signer of a SignedData: its identifier, algorithms,
// signed and unsigned attributes and signature value.
type SignerInfo struct {
	DigestAlgorithm pkix.AlgorithmIdentifier
	SignatureAlg    pkix.AlgorithmIdentifier
	Signature       []byte
	SignedAttrsRaw  []byte // re-tagged as SET (0x31): the bytes the signature covers
	SignedAttrs     []Attribute
	UnsignedAttrs   []Attribute
	SignedAttrsDER  bool // the received encoding is DER (sorted, minimal)
	SIDIssuerSerial *issuerAndSerial
	SIDSubjectKeyID []byte
}

// SignedData is a parsed CMS SignedData. A PDF signature normally has one
// signer, but adbe.pkcs7.detached allows several; the embedded SignerInfo is
// the selected one (the first until UseSigner picks another), and every
// method below speaks of it.
type SignedData struct {
	Raw          []byte // the ContentInfo DER, without /Contents padding
	EContentType asn1.ObjectIdentifier
	EContent     []byte // encapsulated content, nil when detached
	HasEContent  bool
	Certificates []*x509.Certificate
	CRLs         [][]byte // raw CertificateList DER from the crls field
	SignerInfo
	SignerInfos     []SignerInfo // every signer, in the order of the SET
	Selected        int          // index of the embedded SignerInfo in SignerInfos
	SignerCount     int
	TrailingGarbage bool // non-zero bytes after the ContentInfo
	BERNormalised   bool // the outer structure was BER and had to be normalised
}

// UseSigner makes SignerInfos[i] the signer the methods speak of.
func (sd *SignedData) UseSigner(i int) {
	sd.SignerInfo, sd.Selected = sd.SignerInfos[i], i
}

// SignerID describes how a signer identifies its certificate, for reports.
func (si *SignerInfo) SignerID() string {
	if si.SIDIssuerSerial != nil && si.SIDIssuerSerial.Serial != nil {
		var issuer pkix.RDNSequence
		name := "?"
		if _, err := asn1.Unmarshal(si.SIDIssuerSerial.Issuer.FullBytes, &issuer); err == nil {
			var n pkix.Name
			n.FillFromRDNSequence(&issuer)
			name = n.String()
		}
		return fmt.Sprintf("issuer %q serial %s", name, si.SIDIssuerSerial.Serial.Text(16))
	}
	return fmt.Sprintf("subject key identifier %x", si.SIDSubjectKeyID)
}

// Parse parses a CMS ContentInfo holding SignedData. PDF /Contents is padded
// with zero bytes; anything else after the structure is reported, not ignored.
func Parse(der []byte) (*SignedData, error) {
	sd := &SignedData{}
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		// Some signers emit BER (indefinite lengths); normalise and retry.
		norm, nerr := berToDER(der)
		if nerr != nil {
			return nil, fmt.Errorf("parse CMS ContentInfo: %w", err)
		}
		if rest, err = asn1.Unmarshal(norm, &ci); err != nil {
			return nil, fmt.Errorf("parse CMS ContentInfo: %w", err)
		}
		sd.BERNormalised = true
		der = norm
	}
	for _, b := range rest {
		if b != 0 {
			sd.TrailingGarbage = true
			break
		}
	}
	sd.Raw = der[:len(der)-len(rest)]
	if !ci.ContentType.Equal(OIDSignedData) {
		return nil, fmt.Errorf("CMS content type %v is not SignedData", ci.ContentType)
	}
	var s signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &s); err != nil {
		return nil, fmt.Errorf("parse SignedData: %w", err)
	}
	sd.EContentType = s.EncapContentInfo.EContentType
	if len(s.EncapContentInfo.EContent.Bytes) > 0 || s.EncapContentInfo.EContent.Tag != 0 || len(s.EncapContentInfo.EContent.FullBytes) > 0 {
		sd.HasEContent = true
		var oct []byte
		if _, err := asn1.Unmarshal(s.EncapContentInfo.EContent.Bytes, &oct); err != nil {
			return nil, fmt.Errorf("parse encapsulated content: %w", err)
		}
		sd.EContent = oct
	}
	if len(s.Certificates.Bytes) > 0 {
		certs, err := parseCertSet(s.Certificates.Bytes)
		if err != nil {
			return nil, err
		}
		sd.Certificates = certs
	}
	if len(s.CRLs.Bytes) > 0 {
		rest := s.CRLs.Bytes
		for len(rest) > 0 {
			var rv asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &rv); err != nil {
				return nil, fmt.Errorf("parse CMS crls: %w", err)
			}
			if rv.Class == asn1.ClassUniversal && rv.Tag == asn1.TagSequence {
				sd.CRLs = append(sd.CRLs, rv.FullBytes)
			}
		}
	}
	sd.SignerCount = len(s.SignerInfos)
	if len(s.SignerInfos) == 0 {
		return nil, errors.New("SignedData has no signer info")
	}
	for i, raw := range s.SignerInfos {
		si, err := parseSignerInfo(raw.FullBytes)
		if err != nil {
			if len(s.SignerInfos) > 1 {
				err = fmt.Errorf("signer info %d of %d: %w", i+1, len(s.SignerInfos), err)
			}
			return nil, err
		}
		sd.SignerInfos = append(sd.SignerInfos, si)
	}
	sd.UseSigner(0)
	return sd, nil
}

func parseSignerInfo(der []byte) (SignerInfo, error) {
	var out SignerInfo
	var si signerInfo
	if _, err := asn1.Unmarshal(der, &si); err != nil {
		return out, fmt.Errorf("parse SignerInfo: %w", err)
	}
	out.DigestAlgorithm = si.DigestAlgorithm
	out.SignatureAlg = si.SignatureAlgorithm
	out.Signature = si.Signature
	switch {
	case si.SID.Class == asn1.ClassUniversal && si.SID.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(si.SID.FullBytes, &ias); err != nil {
			return out, fmt.Errorf("parse signer identifier: %w", err)
		}
		out.SIDIssuerSerial = &ias
	case si.SID.Class == asn1.ClassContextSpecific && si.SID.Tag == 0:
		out.SIDSubjectKeyID = si.SID.Bytes
	default:
		return out, errors.New("unknown signer identifier form")
	}
	if len(si.SignedAttrs.FullBytes) > 0 {
		// The signature covers the attributes with the universal SET tag in
		// place of the [0] IMPLICIT one (RFC 5652 §5.4).
		raw := append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
		out.SignedAttrsRaw = raw
		var attrs []Attribute
		if _, err := asn1.UnmarshalWithParams(raw, &attrs, "set"); err != nil {
			return out, fmt.Errorf("parse signed attributes: %w", err)
		}
		out.SignedAttrs = attrs
		re, err := asn1.MarshalWithParams(attrs, "set")
		out.SignedAttrsDER = err == nil && bytes.Equal(re, raw)
	}
	if len(si.UnsignedAttrs.FullBytes) > 0 {
		raw := append([]byte{0x31}, si.UnsignedAttrs.FullBytes[1:]...)
		var attrs []Attribute
		if _, err := asn1.UnmarshalWithParams(raw, &attrs, "set"); err != nil {
			return out, fmt.Errorf("parse unsigned attributes: %w", err)
		}
		out.UnsignedAttrs = attrs
	}
	return out, nil
}

func parseCertSet(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for len(b) > 0 {
		var rv asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &rv); err != nil {
			return nil, fmt.Errorf("parse CMS certificates: %w", err)
		}
		// Only plain certificates (not attribute or other certificates).
		if rv.Class != asn1.ClassUniversal || rv.Tag != asn1.TagSequence {
			continue
		}
		c, err := x509.ParseCertificate(rv.FullBytes)
		if err != nil {
			// An unparseable extra certificate must not hide the signer; the
			// signer lookup fails later if it was the signer's.
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Attr returns the first value of the attribute with the given type and how
// many times the attribute occurs.
func Attr(attrs []Attribute, oid asn1.ObjectIdentifier) (asn1.RawValue, int) {
	var first asn1.RawValue
	n := 0
	for _, a := range attrs {
		if a.Type.Equal(oid) {
			if n == 0 && len(a.Values) > 0 {
				first = a.Values[0]
			}
			n++
		}
	}
	return first, n
}

// MessageDigest returns the message-digest signed attribute.
func (sd *SignedData) MessageDigest() ([]byte, error) {
	v, n := Attr(sd.SignedAttrs, OIDAttrMessageDigest)
	if n != 1 {
		return nil, fmt.Errorf("message-digest attribute present %d times, need exactly 1", n)
	}
	var md []byte
	if _, err := asn1.Unmarshal(v.FullBytes, &md); err != nil {
		return nil, fmt.Errorf("parse message-digest: %w", err)
	}
	return md, nil
}

// ContentType returns the content-type signed attribute.
func (sd *SignedData) ContentType() (asn1.ObjectIdentifier, error) {
	v, n := Attr(sd.SignedAttrs, OIDAttrContentType)
	if n != 1 {
		return nil, fmt.Errorf("content-type attribute present %d times, need exactly 1", n)
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(v.FullBytes, &oid); err != nil {
		return nil, fmt.Errorf("parse content-type: %w", err)
	}
	return oid, nil
}

// SigningTime returns the signing-time signed attribute (the signer's claim,
// not a proof), if any.
func (sd *SignedData) SigningTime() (time.Time, bool) {
	v, n := Attr(sd.SignedAttrs, OIDAttrSigningTime)
	if n == 0 {
		return time.Time{}, false
	}
	var t time.Time
	if _, err := asn1.Unmarshal(v.FullBytes, &t); err != nil {
		return time.Time{}, false
	}
	return t, true
}

// FindSigner looks the selected signer's certificate up by issuer and serial
// number or by subject key identifier among the given certificates.
func (sd *SignedData) FindSigner(pool []*x509.Certificate) *x509.Certificate {
	return sd.SignerInfo.FindCertificate(pool)
}

// FindCertificate looks this signer's certificate up among pool.
func (sd *SignerInfo) FindCertificate(pool []*x509.Certificate) *x509.Certificate {
	for _, c := range pool {
		if sd.SIDIssuerSerial != nil {
			if c.SerialNumber != nil && sd.SIDIssuerSerial.Serial != nil &&
				c.SerialNumber.Cmp(sd.SIDIssuerSerial.Serial) == 0 &&
				bytes.Equal(c.RawIssuer, sd.SIDIssuerSerial.Issuer.FullBytes) {
				return c
			}
			continue
		}
		if len(sd.SIDSubjectKeyID) > 0 && bytes.Equal(c.SubjectKeyId, sd.SIDSubjectKeyID) {
			return c
		}
	}
	return nil
}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type essCertID struct {
	CertHash     []byte
	IssuerSerial asn1.RawValue `asn1:"optional"`
}

// SigningCertMatch checks the signing-certificate(-v2) attribute against the
// signer certificate. present says whether either attribute exists; a present
// attribute whose first entry does not hash to cert is an error.
func (sd *SignedData) SigningCertMatch(cert *x509.Certificate) (present bool, err error) {
	if v, n := Attr(sd.SignedAttrs, OIDAttrSigningCertV2); n > 0 {
		var seq struct {
			Certs    []asn1.RawValue
			Policies asn1.RawValue `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(v.FullBytes, &seq); err != nil || len(seq.Certs) == 0 {
			return true, fmt.Errorf("parse signing-certificate-v2: %v", err)
		}
		var id essCertIDv2
		first := seq.Certs[0]
		// hashAlgorithm has DEFAULT sha256, so the first element may be the hash.
		var probe []asn1.RawValue
		if _, err := asn1.Unmarshal(first.FullBytes, &probe); err != nil || len(probe) == 0 {
			return true, errors.New("malformed ESSCertIDv2")
		}
		h := crypto.SHA256
		if probe[0].Tag == asn1.TagOctetString {
			id.CertHash = probe[0].Bytes
		} else {
			if _, err := asn1.Unmarshal(first.FullBytes, &id); err != nil {
				return true, fmt.Errorf("parse ESSCertIDv2: %w", err)
			}
			var ok bool
			if h, ok = HashForOID(id.HashAlgorithm.Algorithm); !ok {
				return true, fmt.Errorf("signing-certificate-v2 uses unknown hash %v", id.HashAlgorithm.Algorithm)
			}
		}
		hh := h.New()
		hh.Write(cert.Raw)
		if !bytes.Equal(hh.Sum(nil), id.CertHash) {
			return true, errors.New("signing-certificate-v2 hash does not match the signer certificate")
		}
		return true, nil
	}
	if v, n := Attr(sd.SignedAttrs, OIDAttrSigningCert); n > 0 {
		var seq struct {
			Certs    []essCertID
			Policies asn1.RawValue `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(v.FullBytes, &seq); err != nil || len(seq.Certs) == 0 {
			return true, fmt.Errorf("parse signing-certificate: %v", err)
		}
		hh := crypto.SHA1.New() // ESSCertID is defined with SHA-1 only
		hh.Write(cert.Raw)
		if !bytes.Equal(hh.Sum(nil), seq.Certs[0].CertHash) {
			return true, errors.New("signing-certificate hash does not match the signer certificate")
		}
		return true, nil
	}
	return false, nil
}

// TimestampTokens returns the signature timestamp tokens in the unsigned
// attributes (each a ContentInfo DER).
func (sd *SignedData) TimestampTokens() [][]byte {
	var out [][]byte
	for _, a := range sd.UnsignedAttrs {
		if a.Type.Equal(OIDAttrTimeStampToken) {
			for _, v := range a.Values {
				out = append(out, v.FullBytes)
			}
		}
	}
	return out
}
