package keys

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Open opens a key by reference: a "pkcs11:" URI goes to OpenPKCS11 (password,
// if given, is the PIN fallback when the URI names none), anything else is a
// PKCS#12 file path opened with password. Every returned key implements
// io.Closer; close it when done.
func Open(ctx context.Context, ref string, password PasswordSource) (Key, error) {
	if strings.HasPrefix(ref, "pkcs11:") {
		return openPKCS11(ctx, ref, password)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if password == nil {
		return nil, fmt.Errorf("open PKCS#12 key %s: no password source", ref)
	}
	pw, err := password()
	if err != nil {
		return nil, fmt.Errorf("open PKCS#12 key %s: %w", ref, err)
	}
	defer clear(pw)
	return OpenPKCS12(ref, pw)
}

// Close closes k if its source holds anything open (a PKCS#11 session).
func Close(k Key) error {
	if c, ok := k.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ErrExternal is returned by External.Sign: the signature is made elsewhere.
var ErrExternal = errors.New("key is held by an external signer; use the two-step prepare/finalize flow")

// External stands for a key that signs outside this process (a USB token at
// the official's desk driven by a browser extension or desktop agent): only
// its certificate chain is known here. Its Sign always fails with
// ErrExternal, so it can carry the chain through code that takes a Key
// without ever pretending to sign.
type External struct {
	Certs []*x509.Certificate
}

// NewExternal wraps a certificate chain (signer first).
func NewExternal(chain []*x509.Certificate) (*External, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, errors.New("keys: external signer needs its certificate")
	}
	return &External{Certs: append([]*x509.Certificate(nil), chain...)}, nil
}

func (e *External) Public() crypto.PublicKey { return e.Certs[0].PublicKey }

func (e *External) Chain() []*x509.Certificate {
	return append([]*x509.Certificate(nil), e.Certs...)
}

func (e *External) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, ErrExternal
}
