package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The CMS is built here rather than with digitorus/pkcs7 because PAdES over a
// streamed file needs the signed attributes before (and apart from) the
// signature value: pkcs7 wants the whole content in memory and signs in one
// call, which rules out both streaming and external two-step signing, and it
// has no RSA-PSS.

var (
	oidData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidAttrTimeStampToken  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidRSAPSS              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA256              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA256WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECDSAWithSHA256     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	errUnsupportedHash     = errors.New("signing: unsupported hash (use SHA-256, SHA-384 or SHA-512)")
	errUnsupportedKeyType  = errors.New("signing: unsupported key type (use RSA or ECDSA)")
	errSignatureValueWrong = errors.New("signing: signature value does not verify with the signer's certificate")
)

func hashOID(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	switch h {
	case crypto.SHA256:
		return oidSHA256, nil
	case crypto.SHA384:
		return oidSHA384, nil
	case crypto.SHA512:
		return oidSHA512, nil
	}
	return nil, errUnsupportedHash
}

// algorithm is the digest and signature scheme of one signature.
type algorithm struct {
	hash crypto.Hash
	pss  bool
}

func (a algorithm) signerOpts() crypto.SignerOpts {
	if a.pss {
		return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash}
	}
	return a.hash
}

func addAlgID(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, nullParams bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if nullParams {
			b.AddASN1NULL()
		}
	})
}

// addSignatureAlgID writes the SignerInfo signatureAlgorithm for pub.
func (a algorithm) addSignatureAlgID(b *cryptobyte.Builder, pub crypto.PublicKey) error {
	hOID, err := hashOID(a.hash)
	if err != nil {
		return err
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		if a.pss {
			// RSASSA-PSS-params (RFC 4055): hash, MGF1 with the same hash,
			// salt as long as the hash, default trailer.
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidRSAPSS)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						addAlgID(b, hOID, true)
					})
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidMGF1)
							addAlgID(b, hOID, true)
						})
					})
					b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1Int64(int64(a.hash.Size()))
					})
				})
			})
			return nil
		}
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidSHA256WithRSA, crypto.SHA384: oidSHA384WithRSA, crypto.SHA512: oidSHA512WithRSA}[a.hash]
		addAlgID(b, oid, true)
	case *ecdsa.PublicKey:
		if a.pss {
			return errors.New("signing: RSA-PSS requested for an ECDSA key")
		}
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidECDSAWithSHA256, crypto.SHA384: oidECDSAWithSHA384, crypto.SHA512: oidECDSAWithSHA512}[a.hash]
		addAlgID(b, oid, false)
	default:
		return errUnsupportedKeyType
	}
	return nil
}

// verify checks a signature value over the DER signed attributes.
func (a algorithm) verify(pub crypto.PublicKey, signedAttrs, sig []byte) error {
	h := a.hash.New()
	h.Write(signedAttrs)
	digest := h.Sum(nil)
	var err error
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if a.pss {
			err = rsa.VerifyPSS(k, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(k, a.hash, digest, sig)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			err = errSignatureValueWrong
		}
	default:
		return errUnsupportedKeyType
	}
	if err != nil {
		return errSignatureValueWrong
	}
	return nil
}

// signedAttributes returns the DER SET OF Attribute that the signer signs:
// content-type, message-digest over the byte ranges and signing-certificate-v2.
// PAdES forbids the signing-time attribute (the claimed time is /M).
func (a algorithm) signedAttributes(rangesDigest []byte, cert *x509.Certificate) ([]byte, error) {
	hOID, err := hashOID(a.hash)
	if err != nil {
		return nil, err
	}
	certHash := a.hash.New()
	certHash.Write(cert.Raw)
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) ([]byte, error) {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.Bytes()
	}
	var attrs [][]byte
	for _, mk := range []func() ([]byte, error){
		func() ([]byte, error) {
			return attr(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
		},
		func() ([]byte, error) {
			return attr(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(rangesDigest) })
		},
		func() ([]byte, error) {
			return attr(oidAttrSigningCertV2, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
							// SHA-256 is the DEFAULT and DER forbids encoding it.
							if a.hash != crypto.SHA256 {
								addAlgID(b, hOID, false)
							}
							b.AddASN1OctetString(certHash.Sum(nil))
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
										b.AddBytes(cert.RawIssuer)
									})
								})
								b.AddASN1BigInt(cert.SerialNumber)
							})
						})
					})
				})
			})
		},
	} {
		a, err := mk()
		if err != nil {
			return nil, fmt.Errorf("signing: encode signed attribute: %w", err)
		}
		attrs = append(attrs, a)
	}
	return derSet(attrs)
}

// derSet encodes a DER SET OF: elements sorted by their encodings.
func derSet(elems [][]byte) ([]byte, error) {
	sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	return b.Bytes()
}

// buildCMS assembles the detached SignedData (RFC 5652) for a PAdES signature.
// signedAttrs is the SET as signed (tag 0x31); in the SignerInfo it carries
// the implicit [0] tag. tst, when not nil, is the RFC 3161 signature
// timestamp token added as an unsigned attribute (B-T).
func (a algorithm) buildCMS(chain []*x509.Certificate, signedAttrs, sig, tst []byte) ([]byte, error) {
	cert := chain[0]
	hOID, err := hashOID(a.hash)
	if err != nil {
		return nil, err
	}
	var (
		buildErr error
		b        cryptobyte.Builder
	)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgID(b, hOID, false) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, c := range chain {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						addAlgID(b, hOID, false)
						attrs := append([]byte{0xA0}, signedAttrs[1:]...)
						b.AddBytes(attrs)
						if err := a.addSignatureAlgID(b, cert.PublicKey); err != nil {
							buildErr = err
							return
						}
						b.AddASN1OctetString(sig)
						if tst != nil {
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									b.AddASN1ObjectIdentifier(oidAttrTimeStampToken)
									b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(tst) })
								})
							})
						}
					})
				})
			})
		})
	})
	if buildErr != nil {
		return nil, buildErr
	}
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("signing: encode CMS: %w", err)
	}
	return out, nil
}
