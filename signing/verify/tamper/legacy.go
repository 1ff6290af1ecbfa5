package tamper

import (
	"crypto"
	"crypto/x509"
)

// NegativeSerialSigned signs in the way files from older CAs and tools are
// signed: the trust anchor, the issuing CA, the signer, the TSA and the OCSP
// responder all have negative serial numbers (p must be a PKI made with
// negativeSerials). The signature is B-T with the OCSP responses for the
// chain embedded, so it validates offline against p.Root at p.Now.
func NegativeSerialSigned(in []byte, p *PKI) ([]byte, error) {
	return SignedBy(in, p, p.Signer)
}

// SignedBy signs in as id, an approval signature with one SignerInfo, a
// signature timestamp and embedded revocation values.
func SignedBy(in []byte, p *PKI, id Identity) ([]byte, error) {
	spec, err := p.signerSpec(id)
	if err != nil {
		return nil, err
	}
	return signPDF(in, p, func(ranges func(crypto.Hash) []byte) ([]byte, error) {
		return buildSignedData(oidData, nil, ranges, []*x509.Certificate{id.Cert, p.Issuing.Cert}, []signerSpec{spec})
	})
}
