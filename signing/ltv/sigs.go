package ltv

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pkcs7"
)

// oidSignatureTimeStampToken is id-aa-signatureTimeStampToken (RFC 3161
// appendix A), the unsigned attribute carrying a B-T signature timestamp.
var oidSignatureTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// maxFieldDepth bounds the walk down /Kids: real forms are a few levels deep,
// a cycle or a hostile file is not.
const maxFieldDepth = 32

// Signature is one signed signature field (or document timestamp) of a PDF.
type Signature struct {
	// Field is the fully qualified field name (parts joined by '.').
	Field string
	// SubFilter is the /SubFilter name without the slash, e.g.
	// "ETSI.CAdES.detached" or "ETSI.RFC3161".
	SubFilter string
	// Contents is the /Contents byte string exactly as stored in the file,
	// padding zeros included.
	Contents []byte
	// CMS is the SignedData (for a document timestamp: the TimeStampToken)
	// without the padding.
	CMS []byte
	// Signer is the certificate that made the signature (the TSA's for a
	// document timestamp).
	Signer *x509.Certificate
	// ByteRange is the /ByteRange array: offset/length pairs of the signed
	// bytes.
	ByteRange []int64
	// Certs are the certificates embedded in the CMS.
	Certs []*x509.Certificate
	// Timestamps are the signature timestamp tokens from the CMS unsigned
	// attributes (B-T and above).
	Timestamps []*Token
}

// Token is a parsed RFC 3161 TimeStampToken.
type Token struct {
	Raw    []byte
	Signer *x509.Certificate
	Certs  []*x509.Certificate
}

// IsDocTimeStamp reports whether the signature is a document timestamp.
func (s *Signature) IsDocTimeStamp() bool { return s.SubFilter == "ETSI.RFC3161" }

// VRIKey is the key of this signature's entry in the DSS /VRI dictionary:
// the uppercase hex SHA-1 of the /Contents byte string as stored in the file,
// padding zeros included. That is how ISO 32000-2 §12.8.4.4 and ETSI EN
// 319 142-1 word it ("the SHA-1 digest of the signature to which it
// applies", the signature being the /Contents value) and how EU DSS and
// Adobe compute it; hashing the trimmed DER instead gives a key those
// validators do not find.
func (s *Signature) VRIKey() string {
	return VRIKey(s.Contents)
}

// VRIKey returns the VRI key for a /Contents byte string.
func VRIKey(contents []byte) string {
	sum := sha1.Sum(contents)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// FindSignatures returns every signed signature field of the document read by
// rd, walking /AcroForm /Fields and their /Kids.
func FindSignatures(rd *pdf.Reader) (sigs []*Signature, err error) {
	defer func() {
		if p := recover(); p != nil {
			sigs, err = nil, fmt.Errorf("ltv: malformed PDF while reading signature fields: %v", p)
		}
	}()
	root := rd.Trailer().Key("Root")
	if root.Kind() != pdf.Dict {
		return nil, errors.New("ltv: PDF has no catalog")
	}
	fields := root.Key("AcroForm").Key("Fields")
	seen := map[uint32]bool{}
	var walk func(f pdf.Value, parentName, inheritedFT string, depth int) error
	walk = func(f pdf.Value, parentName, inheritedFT string, depth int) error {
		if depth > maxFieldDepth {
			return errors.New("ltv: form fields nested too deeply")
		}
		if f.Kind() != pdf.Dict {
			return nil
		}
		if id := f.GetPtr().GetID(); id != 0 {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		name := parentName
		if t := f.Key("T"); t.Kind() == pdf.String {
			if name != "" {
				name += "."
			}
			name += t.Text()
		}
		ft := inheritedFT
		if v := f.Key("FT"); v.Kind() == pdf.Name {
			ft = v.Name()
		}
		if ft == "Sig" {
			if v := f.Key("V"); v.Kind() == pdf.Dict {
				s, err := parseSignature(name, v)
				if err != nil {
					return err
				}
				sigs = append(sigs, s)
			}
		}
		kids := f.Key("Kids")
		for i := 0; i < kids.Len(); i++ {
			if err := walk(kids.Index(i), name, ft, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < fields.Len(); i++ {
		if err := walk(fields.Index(i), "", "", 0); err != nil {
			return nil, err
		}
	}
	return sigs, nil
}

func parseSignature(field string, v pdf.Value) (*Signature, error) {
	s := &Signature{Field: field, SubFilter: v.Key("SubFilter").Name()}
	c := v.Key("Contents")
	if c.Kind() != pdf.String || len(c.RawString()) == 0 {
		return nil, fmt.Errorf("ltv: signature %q has no /Contents", field)
	}
	s.Contents = []byte(c.RawString())
	br := v.Key("ByteRange")
	for i := 0; i < br.Len(); i++ {
		s.ByteRange = append(s.ByteRange, br.Index(i).Int64())
	}
	s.CMS = trimDER(s.Contents)
	p7, err := pkcs7.Parse(s.CMS)
	if err != nil {
		return nil, fmt.Errorf("ltv: signature %q: parse CMS: %w", field, err)
	}
	s.Certs = p7.Certificates
	s.Signer = p7.GetOnlySigner()
	if s.Signer == nil {
		return nil, fmt.Errorf("ltv: signature %q: signer certificate not found among the %d embedded certificates", field, len(p7.Certificates))
	}
	for _, si := range p7.Signers {
		for _, attr := range si.UnauthenticatedAttributes {
			if !attr.Type.Equal(oidSignatureTimeStampToken) {
				continue
			}
			tok, err := parseToken(attr.Value.Bytes)
			if err != nil {
				return nil, fmt.Errorf("ltv: signature %q: timestamp token: %w", field, err)
			}
			s.Timestamps = append(s.Timestamps, tok)
		}
	}
	return s, nil
}

func parseToken(raw []byte) (*Token, error) {
	raw = trimDER(raw)
	p7, err := pkcs7.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, errors.New("TSA certificate not included in the token")
	}
	return &Token{Raw: raw, Signer: signer, Certs: p7.Certificates}, nil
}

// trimDER cuts the zero padding after a DER (definite-length) structure.
// Indefinite-length BER is returned unchanged: its end-of-contents octets
// are zeros too, and the CMS parser copes with the trailing padding.
func trimDER(b []byte) []byte {
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(b, &rv); err != nil {
		return b
	}
	return rv.FullBytes
}
