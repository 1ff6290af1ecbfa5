package tamper

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
)

// SeveralSignerInfos signs in with a CMS holding two SignerInfos, which
// adbe.pkcs7.detached allows: first the co-signer's (its certificate left
// out of the CMS, as when a second signer's certificate travels elsewhere),
// then the signer's, whose certificate is the signing certificate. A
// verifier must check the signer's, list the other and not refuse the
// signature for the count.
func SeveralSignerInfos(in []byte, p *PKI) ([]byte, error) {
	co, err := p.signerSpec(p.CoSigner)
	if err != nil {
		return nil, err
	}
	co.timestamp = nil
	main, err := p.signerSpec(p.Signer)
	if err != nil {
		return nil, err
	}
	return signPDF(in, p, func(ranges func(crypto.Hash) []byte) ([]byte, error) {
		return buildSignedData(oidData, nil, ranges, []*x509.Certificate{p.Signer.Cert, p.Issuing.Cert}, []signerSpec{co, main})
	})
}

// oidUnassigned is an algorithm identifier no standard defines (under the
// IANA private enterprise arc reserved for documentation-like use here).
var oidUnassigned = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7, 1}

// UnknownSignatureAlgorithm signs in with a SignerInfo whose signature
// algorithm is an identifier nobody defines: the signature value cannot be
// verified at all, so the signature is INVALID (TOTAL-FAILED), not
// INDETERMINATE.
func UnknownSignatureAlgorithm(in []byte, p *PKI) ([]byte, error) {
	return signedWith(in, p, func(s *signerSpec) { s.sigAlgOID = oidUnassigned })
}

// ContradictingDigestAlgorithm signs in with SHA-512 as the SignerInfo's
// digest algorithm (content and signed attributes hashed with it, the value
// a valid ECDSA signature over that hash) while the signature algorithm says
// ecdsa-with-SHA256: the two identifiers contradict each other, so the
// structure is malformed and the signature INVALID.
func ContradictingDigestAlgorithm(in []byte, p *PKI) ([]byte, error) {
	return signedWith(in, p, func(s *signerSpec) {
		s.digest = crypto.SHA512
		s.sigAlgOID = ecdsaOIDs[crypto.SHA256]
	})
}

// DisallowedSignatureAlgorithm signs in with a SignerInfo naming DSA with
// SHA-256, an algorithm that exists but that the policy does not accept:
// INDETERMINATE (CRYPTO_CONSTRAINTS_FAILURE), the control case for the two
// above.
func DisallowedSignatureAlgorithm(in []byte, p *PKI) ([]byte, error) {
	return signedWith(in, p, func(s *signerSpec) { s.sigAlgOID = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2} })
}

func signedWith(in []byte, p *PKI, change func(*signerSpec)) ([]byte, error) {
	spec, err := p.signerSpec(p.Signer)
	if err != nil {
		return nil, err
	}
	change(&spec)
	return signPDF(in, p, func(ranges func(crypto.Hash) []byte) ([]byte, error) {
		return buildSignedData(oidData, nil, ranges, []*x509.Certificate{p.Signer.Cert, p.Issuing.Cert}, []signerSpec{spec})
	})
}
