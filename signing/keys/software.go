package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
)

// softKey is a key held in this process's memory (from a PKCS#12 file or the
// development PKI).
type softKey struct {
	signer crypto.Signer
	chain  []*x509.Certificate
}

// FromSigner wraps an in-memory signer and its chain as a Key. It checks only
// that chain[0] belongs to the signer, not validity or key usage: the
// development PKI uses it to hand out deliberately bad keys (expired, revoked)
// for tests. Use Check for the full checks.
func FromSigner(signer crypto.Signer, chain []*x509.Certificate) (Key, error) {
	if signer == nil {
		return nil, errors.New("keys: no signer")
	}
	if len(chain) == 0 || chain[0] == nil {
		return nil, errors.New("keys: no certificate for the key")
	}
	if !samePublicKey(signer.Public(), chain[0].PublicKey) {
		return nil, fmt.Errorf("certificate %q: %w", subjectCN(chain[0]), ErrCertKeyMismatch)
	}
	return &softKey{signer: signer, chain: append([]*x509.Certificate(nil), chain...)}, nil
}

func (k *softKey) Public() crypto.PublicKey { return k.signer.Public() }

func (k *softKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	// crypto/rsa dispatches on *rsa.PSSOptions itself, so PSS passes through.
	return k.signer.Sign(rand, digest, opts)
}

func (k *softKey) Chain() []*x509.Certificate { return append([]*x509.Certificate(nil), k.chain...) }

// Close is a no-op: nothing is held open for an in-memory key. It exists so
// every key from Open can be closed the same way.
func (k *softKey) Close() error { return nil }

// PrivateKey returns the in-memory private key. Only software keys have one;
// the test harness uses it to import a development key into SoftHSM.
func (k *softKey) PrivateKey() crypto.PrivateKey { return k.signer }

// samePublicKey compares two public keys of any supported type.
func samePublicKey(a, b crypto.PublicKey) bool {
	type equaler interface {
		Equal(crypto.PublicKey) bool
	}
	switch a.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		if e, ok := a.(equaler); ok {
			return e.Equal(b)
		}
	}
	return false
}

func subjectCN(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}
