package tamper

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vanthu/vanthu/signing"
)

// This file builds what the generated classes of signed files need: a small
// certificate hierarchy like the development PKI's, OCSP responses, RFC 3161
// tokens and CMS SignedData assembled field by field, so a class can make
// exactly the structure it is about (several SignerInfos, odd algorithm
// identifiers, negative serial numbers) where a signing library would refuse.

// Identity is a certificate with its private key.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PKI is a hierarchy shaped like the development PKI's: a root CA, an
// issuing CA, a signer (an official), a second signer (a co-signer), an
// RFC 3161 timestamping unit and a delegated OCSP responder, all ECDSA P-256.
type PKI struct {
	Root, Issuing, Signer, CoSigner, TSA, OCSP Identity
	// Now is the time the files are signed and timestamped at.
	Now time.Time
	// NegativeSerials says every certificate has a negative serial number.
	NegativeSerials bool
}

// NewPKI makes a hierarchy valid around now. With negativeSerials every
// certificate (anchor, intermediate, signers, TSA, OCSP responder) carries a
// negative serial number, as certificates from older CAs and tools do;
// parsing those needs GODEBUG x509negativeserial=1 (vanthu's go.mod sets it).
func NewPKI(now time.Time, negativeSerials bool) (*PKI, error) {
	p := &PKI{Now: now, NegativeSerials: negativeSerials}
	from, to := now.Add(-24*time.Hour), now.Add(365*24*time.Hour)
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{
			Subject:   pkix.Name{CommonName: cn, Organization: []string{"Trung tâm Chứng thực (legacy test)"}, Country: []string{"VN"}},
			NotBefore: from, NotAfter: to,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true, IsCA: true,
		}
	}
	leaf := func(cn string, ku x509.KeyUsage, eku ...x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{
			Subject:   pkix.Name{CommonName: cn, Organization: []string{"Ủy ban nhân dân tỉnh Mẫu"}, Country: []string{"VN"}},
			NotBefore: from, NotAfter: to, KeyUsage: ku, ExtKeyUsage: eku, BasicConstraintsValid: true,
		}
	}
	var err error
	if p.Root, err = p.issue(ca("Legacy Root CA"), nil); err != nil {
		return nil, err
	}
	if p.Issuing, err = p.issue(ca("Legacy Issuing CA"), &p.Root); err != nil {
		return nil, err
	}
	sign := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	if p.Signer, err = p.issue(leaf("Nguyễn Văn An", sign), &p.Issuing); err != nil {
		return nil, err
	}
	if p.CoSigner, err = p.issue(leaf("Trần Thị Bình", sign), &p.Issuing); err != nil {
		return nil, err
	}
	if p.TSA, err = p.issue(leaf("Legacy TSA", x509.KeyUsageDigitalSignature, x509.ExtKeyUsageTimeStamping), &p.Issuing); err != nil {
		return nil, err
	}
	if p.OCSP, err = p.issue(leaf("Legacy OCSP responder", x509.KeyUsageDigitalSignature, x509.ExtKeyUsageOCSPSigning), &p.Issuing); err != nil {
		return nil, err
	}
	return p, nil
}

// issue makes a certificate from tmpl signed by parent (nil: self-signed).
func (p *PKI) issue(tmpl *x509.Certificate, parent *Identity) (Identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Identity{}, err
	}
	// A serial whose first byte is 0x40-0x5f: no leading zero byte, and
	// setting the top bit later (0xc0-0xdf) makes it negative without
	// changing its length or making the encoding non-minimal.
	serial := make([]byte, 16)
	if _, err := rand.Read(serial); err != nil {
		return Identity{}, err
	}
	serial[0] = 0x40 | serial[0]&0x1f
	tmpl.SerialNumber = new(big.Int).SetBytes(serial)
	parentCert, parentKey := tmpl, crypto.Signer(key)
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), parentKey)
	if err != nil {
		return Identity{}, fmt.Errorf("tamper: create %s: %w", tmpl.Subject.CommonName, err)
	}
	if p.NegativeSerials {
		if der, err = negateSerial(der, parentKey); err != nil {
			return Identity{}, err
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Identity{}, fmt.Errorf("tamper: parse %s: %w", tmpl.Subject.CommonName, err)
	}
	return Identity{Cert: cert, Key: key}, nil
}

// negateSerial sets the top bit of the certificate's serial number (making
// it negative, same length) and signs the changed TBSCertificate again with
// the issuer's ECDSA key. crypto/x509 refuses to create such certificates.
func negateSerial(der []byte, issuerKey crypto.Signer) ([]byte, error) {
	var cert struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		return nil, fmt.Errorf("tamper: certificate: %w", err)
	}
	tbs := bytes.Clone(cert.TBS.FullBytes)
	body := cert.TBS.Bytes
	var version, serial asn1.RawValue
	rest, err := asn1.Unmarshal(body, &version)
	if err != nil || version.Tag != 0 || version.Class != asn1.ClassContextSpecific {
		return nil, errors.New("tamper: TBSCertificate has no version")
	}
	if _, err := asn1.Unmarshal(rest, &serial); err != nil || serial.Tag != asn1.TagInteger || len(serial.Bytes) == 0 {
		return nil, errors.New("tamper: TBSCertificate has no serial")
	}
	at := len(cert.TBS.FullBytes) - len(body) + (len(body) - len(rest)) + len(serial.FullBytes) - len(serial.Bytes)
	tbs[at] |= 0x80
	sum := sha256.Sum256(tbs)
	sig, err := issuerKey.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tamper: re-sign certificate: %w", err)
	}
	return derSequence(tbs, cert.SigAlg.FullBytes, mustMarshal(asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}))
}

// Chain is the signer's chain as a PDF signer embeds it.
func (p *PKI) Chain(id Identity) []*x509.Certificate {
	return []*x509.Certificate{id.Cert, p.Issuing.Cert}
}

// OCSPGood is an OCSP response saying cert is good: from the delegated
// responder for certificates of the issuing CA, from the root itself for the
// issuing CA.
func (p *PKI) OCSPGood(cert *x509.Certificate) ([]byte, error) {
	issuer, responder := p.Issuing, p.OCSP
	if bytes.Equal(cert.RawIssuer, p.Root.Cert.RawSubject) {
		issuer, responder = p.Root, p.Root
	}
	tmpl := ocsp.Response{
		Status: ocsp.Good, SerialNumber: cert.SerialNumber,
		ThisUpdate: p.Now.Add(-time.Minute), NextUpdate: p.Now.Add(7 * 24 * time.Hour), ProducedAt: p.Now,
	}
	if responder.Cert != issuer.Cert {
		tmpl.Certificate = responder.Cert
	}
	der, err := ocsp.CreateResponse(issuer.Cert, responder.Cert, tmpl, responder.Key)
	if err != nil {
		return nil, fmt.Errorf("tamper: OCSP response for %s: %w", cert.Subject.CommonName, err)
	}
	return der, nil
}

// revocationArchival is the adbe-revocationInfoArchival attribute value
// holding OCSP responses for certs.
func (p *PKI) revocationArchival(certs ...*x509.Certificate) ([]byte, error) {
	var resps [][]byte
	for _, c := range certs {
		r, err := p.OCSPGood(c)
		if err != nil {
			return nil, err
		}
		resps = append(resps, r)
	}
	seq, err := derSequence(resps...)
	if err != nil {
		return nil, err
	}
	return derSequence(tlv(0xa1, seq))
}

// Algorithm identifiers the builder uses.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidTimeStampTok  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidAdbeRevInfo   = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}
	oidTSAPolicy     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

	digestOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
	ecdsaOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {1, 2, 840, 10045, 4, 3, 2},
		crypto.SHA384: {1, 2, 840, 10045, 4, 3, 3},
		crypto.SHA512: {1, 2, 840, 10045, 4, 3, 4},
	}
)

// signerSpec describes one SignerInfo to build.
type signerSpec struct {
	id     Identity
	digest crypto.Hash // hashes the content and the signed attributes; default SHA-256
	// digestOID and sigAlgOID, when set, are written in place of the
	// identifiers that match digest and the key.
	digestOID, sigAlgOID asn1.ObjectIdentifier
	extraSigned          [][]byte // more signed attributes (Attribute DER)
	// timestamp, when set, is called with the signature value and returns
	// a timestamp token for the unsigned attributes.
	timestamp func(sigValue []byte) ([]byte, error)
}

// buildSignedData makes a DER ContentInfo holding SignedData. content
// returns the digest of the signed content under a hash (for a detached PDF
// signature: of the byte ranges); eContent, if not nil, is encapsulated.
func buildSignedData(eType asn1.ObjectIdentifier, eContent []byte, content func(crypto.Hash) []byte, certs []*x509.Certificate, signers []signerSpec) ([]byte, error) {
	var digestAlgs, infos [][]byte
	seen := map[string]bool{}
	for _, sp := range signers {
		if sp.digest == 0 {
			sp.digest = crypto.SHA256
		}
		dOID := sp.digestOID
		if dOID == nil {
			dOID = digestOIDs[sp.digest]
		}
		sOID := sp.sigAlgOID
		if sOID == nil {
			sOID = ecdsaOIDs[sp.digest]
		}
		dAlg := mustMarshal(pkix.AlgorithmIdentifier{Algorithm: dOID})
		if !seen[string(dAlg)] {
			seen[string(dAlg)] = true
			digestAlgs = append(digestAlgs, dAlg)
		}
		certHash := sha256.Sum256(sp.id.Cert.Raw)
		essID, err := derSequence(mustMarshal(certHash[:]))
		if err != nil {
			return nil, err
		}
		essIDs, _ := derSequence(essID)
		signingCert, _ := derSequence(essIDs)
		attrs := [][]byte{
			attribute(oidContentType, mustMarshal(eType)),
			attribute(oidMessageDigest, mustMarshal(content(sp.digest))),
			attribute(oidSigningCertV2, signingCert),
		}
		attrs = append(attrs, sp.extraSigned...)
		signedAttrs := derSet(attrs)
		h := sp.digest.New()
		h.Write(signedAttrs)
		sig, err := sp.id.Key.Sign(rand.Reader, h.Sum(nil), sp.digest)
		if err != nil {
			return nil, fmt.Errorf("tamper: sign attributes: %w", err)
		}
		sid, err := derSequence(sp.id.Cert.RawIssuer, mustMarshal(sp.id.Cert.SerialNumber))
		if err != nil {
			return nil, err
		}
		fields := [][]byte{
			mustMarshal(1), sid, dAlg,
			tlv(0xa0, signedAttrs[len(header(signedAttrs)):]),
			mustMarshal(pkix.AlgorithmIdentifier{Algorithm: sOID}),
			mustMarshal(sig),
		}
		if sp.timestamp != nil {
			tok, err := sp.timestamp(sig)
			if err != nil {
				return nil, err
			}
			fields = append(fields, tlv(0xa1, attribute(oidTimeStampTok, tok)))
		}
		info, err := derSequence(fields...)
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	encap := [][]byte{mustMarshal(eType)}
	if eContent != nil {
		encap = append(encap, tlv(0xa0, mustMarshal(eContent)))
	}
	encapInfo, err := derSequence(encap...)
	if err != nil {
		return nil, err
	}
	var certDER []byte
	for _, c := range certs {
		certDER = append(certDER, c.Raw...)
	}
	sd, err := derSequence(mustMarshal(1), derSet(digestAlgs), encapInfo, tlv(0xa0, certDER), derSetUnsorted(infos))
	if err != nil {
		return nil, err
	}
	return derSequence(mustMarshal(oidSignedData), tlv(0xa0, sd))
}

// Timestamp is an RFC 3161 token from the PKI's TSA over data's SHA-256,
// carrying OCSP responses for the TSA and its CA so it validates offline.
func (p *PKI) Timestamp(data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	type imprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	info, err := asn1.Marshal(struct {
		Version        int
		Policy         asn1.ObjectIdentifier
		MessageImprint imprint
		SerialNumber   *big.Int
		GenTime        time.Time `asn1:"generalized"`
	}{1, oidTSAPolicy, imprint{pkix.AlgorithmIdentifier{Algorithm: digestOIDs[crypto.SHA256]}, sum[:]}, big.NewInt(p.Now.UnixNano()), p.Now.UTC().Truncate(time.Second)})
	if err != nil {
		return nil, err
	}
	rev, err := p.revocationArchival(p.TSA.Cert, p.Issuing.Cert)
	if err != nil {
		return nil, err
	}
	return buildSignedData(oidTSTInfo, info, func(h crypto.Hash) []byte {
		x := h.New()
		x.Write(info)
		return x.Sum(nil)
	}, []*x509.Certificate{p.TSA.Cert, p.Issuing.Cert}, []signerSpec{{id: p.TSA, extraSigned: [][]byte{attribute(oidAdbeRevInfo, rev)}}})
}

// signPDF adds an approval signature to in. The signature dictionary and
// placeholder come from the project's signing engine; the CMS comes from
// makeCMS, given the digest of the signed byte ranges under any hash.
func signPDF(in []byte, p *PKI, makeCMS func(ranges func(crypto.Hash) []byte) ([]byte, error)) ([]byte, error) {
	out := &memOutput{}
	_, err := signing.Prepare(context.Background(), bytes.NewReader(in), int64(len(in)), out, p.Chain(p.Signer),
		signing.Options{Time: p.Now, ContentsSize: 48 << 10, Reason: "Phê duyệt"})
	if err != nil {
		return nil, fmt.Errorf("tamper: prepare signature: %w", err)
	}
	doc := out.buf
	sigs := signatures(doc)
	if len(sigs) == 0 {
		return nil, errors.New("tamper: prepared file has no signature placeholder")
	}
	s := sigs[len(sigs)-1]
	ranges := func(h crypto.Hash) []byte {
		x := h.New()
		x.Write(doc[s.br[0] : s.br[0]+s.br[1]])
		x.Write(doc[s.br[2] : s.br[2]+s.br[3]])
		return x.Sum(nil)
	}
	der, err := makeCMS(ranges)
	if err != nil {
		return nil, err
	}
	hexCMS := hex.EncodeToString(der)
	if gap := int(s.br[2]-s.br[1]) - 2; len(hexCMS) > gap {
		return nil, fmt.Errorf("tamper: CMS of %d bytes does not fit the %d-byte placeholder", len(der), gap/2)
	}
	copy(doc[s.br[1]+1:], hexCMS)
	return doc, nil
}

// signedCMS is the usual CMS of one approval signature by id: signed
// attributes with the revocation values of id's chain, and a signature
// timestamp from the PKI's TSA.
func (p *PKI) signerSpec(id Identity) (signerSpec, error) {
	rev, err := p.revocationArchival(id.Cert, p.Issuing.Cert)
	if err != nil {
		return signerSpec{}, err
	}
	return signerSpec{id: id, extraSigned: [][]byte{attribute(oidAdbeRevInfo, rev)}, timestamp: p.Timestamp}, nil
}

// memOutput is an in-memory signing.Output.
type memOutput struct{ buf []byte }

func (m *memOutput) Write(b []byte) (int, error) {
	m.buf = append(m.buf, b...)
	return len(b), nil
}

func (m *memOutput) WriteAt(b []byte, off int64) (int, error) {
	if end := int(off) + len(b); end > len(m.buf) {
		m.buf = append(m.buf, make([]byte, end-len(m.buf))...)
	}
	copy(m.buf[off:], b)
	return len(b), nil
}

// DER helpers.

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tamper: marshal %T: %v", v, err)) // only fixed, valid types reach here
	}
	return b
}

func tlv(tag byte, content []byte) []byte {
	n := len(content)
	var l []byte
	switch {
	case n < 0x80:
		l = []byte{byte(n)}
	case n < 0x100:
		l = []byte{0x81, byte(n)}
	case n < 0x10000:
		l = []byte{0x82, byte(n >> 8), byte(n)}
	default:
		l = []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return append(append([]byte{tag}, l...), content...)
}

// header returns the tag and length octets of a DER element.
func header(der []byte) []byte {
	if der[1] < 0x80 {
		return der[:2]
	}
	return der[:2+int(der[1]&0x7f)]
}

func derSequence(elems ...[]byte) ([]byte, error) {
	return tlv(0x30, bytes.Join(elems, nil)), nil
}

// derSet is a DER SET OF: the elements sorted by their encodings.
func derSet(elems [][]byte) []byte {
	sorted := append([][]byte(nil), elems...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return tlv(0x31, bytes.Join(sorted, nil))
}

// derSetUnsorted keeps the given order, so a class decides which SignerInfo
// comes first.
func derSetUnsorted(elems [][]byte) []byte { return tlv(0x31, bytes.Join(elems, nil)) }

func attribute(oid asn1.ObjectIdentifier, value []byte) []byte {
	b, _ := derSequence(mustMarshal(oid), tlv(0x31, value))
	return b
}
