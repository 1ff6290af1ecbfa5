// Package keys provides the sources of signing keys behind one small
// interface: PKCS#12 files, PKCS#11 tokens and HSMs addressed by pkcs11: URIs
// (RFC 7512), and external two-step signing for a token at the official's desk.
package keys

import (
	"crypto"
	"crypto/x509"
)

// Key is a key that can sign, together with its certificate chain. Chain()[0]
// is the signer's certificate; the rest lead towards (but need not include) a
// trust anchor. The private key may never leave its token: only Sign is used.
type Key interface {
	crypto.Signer
	Chain() []*x509.Certificate
}
