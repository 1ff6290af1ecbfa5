package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Errors a key source returns when a key is unusable for signing. They are
// wrapped with the certificate's name and the detail; test with errors.Is.
var (
	ErrWrongPassword   = errors.New("wrong password")
	ErrWrongPIN        = errors.New("wrong PIN")
	ErrCertKeyMismatch = errors.New("certificate does not match the private key")
	ErrExpired         = errors.New("certificate has expired")
	ErrNotYetValid     = errors.New("certificate is not yet valid")
	ErrKeyUsage        = errors.New("certificate key usage allows neither digitalSignature nor nonRepudiation")
	ErrUnsupportedKey  = errors.New("unsupported key type or size")
	ErrNotFound        = errors.New("key not found")
)

// Check runs the checks every key source applies on open: the certificate
// matches the key (by signing a probe and verifying it with the certificate's
// public key), the certificate is valid at now, its key usage permits
// signatures, and the key is of a type and size the signing rules allow
// (RSA ≥ 2048, ECDSA P-256/P-384/P-521).
func Check(k Key, now time.Time) error {
	return check(k, now, true)
}

// CheckOpened runs Check's checks except the probe signature, for a key
// that passed Check when it was opened and is used again (a decrypted key
// kept in memory): the certificate's validity at now, its key usage and
// the key's type still decide.
func CheckOpened(k Key, now time.Time) error {
	return check(k, now, false)
}

func check(k Key, now time.Time, probe bool) error {
	chain := k.Chain()
	if len(chain) == 0 || chain[0] == nil {
		return errors.New("keys: no certificate for the key")
	}
	cert := chain[0]
	name := subjectCN(cert)
	if err := checkKeyType(cert.PublicKey); err != nil {
		return fmt.Errorf("certificate %q: %w", name, err)
	}
	if !samePublicKey(k.Public(), cert.PublicKey) {
		return fmt.Errorf("certificate %q: %w", name, ErrCertKeyMismatch)
	}
	if probe {
		if err := probeSign(k, cert); err != nil {
			return fmt.Errorf("certificate %q: %w", name, err)
		}
	}
	switch {
	case now.Before(cert.NotBefore):
		return fmt.Errorf("certificate %q (valid from %s): %w", name, cert.NotBefore.UTC().Format(time.RFC3339), ErrNotYetValid)
	case now.After(cert.NotAfter):
		return fmt.Errorf("certificate %q (valid until %s): %w", name, cert.NotAfter.UTC().Format(time.RFC3339), ErrExpired)
	}
	// An absent keyUsage would technically allow anything, but signing
	// certificate profiles (ETSI EN 319 412-2, the Vietnamese CA rules)
	// require it, so its absence is treated as a misissued certificate.
	if cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fmt.Errorf("certificate %q: %w", name, ErrKeyUsage)
	}
	return nil
}

func checkKeyType(pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return fmt.Errorf("RSA-%d: %w", p.N.BitLen(), ErrUnsupportedKey)
		}
		return nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("ECDSA %s: %w", p.Curve.Params().Name, ErrUnsupportedKey)
	}
	return fmt.Errorf("%T: %w", pub, ErrUnsupportedKey)
}

// probeSign proves the private key belongs to the certificate: comparing the
// public halves is not enough for a PKCS#12 file whose key could be damaged.
func probeSign(k crypto.Signer, cert *x509.Certificate) error {
	var nonce [32]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return fmt.Errorf("probe signature: %w", err)
	}
	digest := sha256.Sum256(append([]byte("vanthu key probe "), nonce[:]...))
	sig, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("probe signature: %w", err)
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			err = errors.New("ecdsa verification failed")
		}
	default:
		err = ErrUnsupportedKey
	}
	if err != nil {
		return fmt.Errorf("probe signature does not verify with the certificate: %w", ErrCertKeyMismatch)
	}
	return nil
}
