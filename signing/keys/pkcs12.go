package keys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// PasswordSource yields a secret (a PKCS#12 password or a PIN) when a key is
// opened. Secrets come from files or the environment, never from command-line
// flags, which end up in shell histories and process listings.
type PasswordSource func() ([]byte, error)

// PasswordFromFile reads the secret from a file; one trailing newline is
// dropped so `echo secret > file` works.
func PasswordFromFile(path string) PasswordSource {
	return func() ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read password file: %w", err)
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		return b, nil
	}
}

// PasswordFromEnv reads the secret from an environment variable, which must
// be set (an empty value is a valid, empty password).
func PasswordFromEnv(name string) PasswordSource {
	return func() ([]byte, error) {
		v, ok := os.LookupEnv(name)
		if !ok {
			return nil, fmt.Errorf("password environment variable %s is not set", name)
		}
		return []byte(v), nil
	}
}

// OpenPKCS12 opens a PKCS#12 (.p12/.pfx) file holding one private key, its
// certificate and optionally the CA certificates above it, and runs Check.
func OpenPKCS12(path string, password []byte) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open PKCS#12 key: %w", err)
	}
	k, err := decodePKCS12(data, password)
	if err != nil {
		return nil, fmt.Errorf("open PKCS#12 key %s: %w", path, err)
	}
	if err := Check(k, time.Now()); err != nil {
		return nil, fmt.Errorf("open PKCS#12 key %s: %w", path, err)
	}
	return k, nil
}

// DecodePKCS12 decodes PKCS#12 bytes without the validity and key-usage
// checks; the development PKI uses it to load its own (sometimes deliberately
// bad) identities.
func DecodePKCS12(data, password []byte) (Key, error) {
	return decodePKCS12(data, password)
}

func decodePKCS12(data, password []byte) (*softKey, error) {
	priv, cert, cas, err := pkcs12.DecodeChain(data, string(password))
	if err != nil {
		// Both errors mean the password did not open the file; the library's
		// message is replaced so callers can rely on errors.Is.
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("decode PKCS#12: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("PKCS#12 private key %T: %w", priv, ErrUnsupportedKey)
	}
	chain := append([]*x509.Certificate{cert}, orderChain(cert, cas)...)
	k, err := FromSigner(signer, chain)
	if err != nil {
		return nil, err
	}
	return k.(*softKey), nil
}

// orderChain puts CA certificates in issuing order starting above leaf;
// PKCS#12 files list them in no particular order. Certificates that do not
// fit the path are appended at the end rather than dropped.
func orderChain(leaf *x509.Certificate, cas []*x509.Certificate) []*x509.Certificate {
	rest := append([]*x509.Certificate(nil), cas...)
	var out []*x509.Certificate
	cur := leaf
	for len(rest) > 0 {
		found := -1
		for i, c := range rest {
			if bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				found = i
				break
			}
		}
		if found < 0 {
			break
		}
		cur = rest[found]
		out = append(out, cur)
		rest = append(rest[:found], rest[found+1:]...)
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
	}
	return append(out, rest...)
}
