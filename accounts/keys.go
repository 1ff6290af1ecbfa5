package accounts

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// ErrKeyRefused is the error of a key binding refused by its checks; the
// wrapping message says which check failed, never the key or its password.
var ErrKeyRefused = errors.New("key refused")

// KeyMaterial is what an administrator or the key's holder hands over to
// bind a key. Password and PKCS12 are cleared by BindingFor.
type KeyMaterial struct {
	Kind     string // storage.KeyPKCS11, KeyPKCS12 or KeyExternal
	URI      string // pkcs11: URI; its PIN comes from the service's configuration, never the URI
	PKCS12   []byte
	Password []byte
	// Certificates: for an external key, its certificate then issuing CAs;
	// for the others, extra issuing CAs.
	Certificates []*x509.Certificate
}

// BindingFor checks key material and returns the binding to store: the
// certificate valid now, with a signing key usage, matching the key, and
// chaining to one of the trust anchors. A PKCS#12 key is sealed under the
// keystore; a PKCS#11 key is opened once on its token (with pin as the PIN)
// to see that it is there and matches.
func BindingFor(ctx context.Context, m KeyMaterial, pin keys.PasswordSource, anchors []*x509.Certificate, ks *Keystore, now time.Time) (storage.KeyBinding, error) {
	defer clear(m.Password)
	defer clear(m.PKCS12)
	b := storage.KeyBinding{Kind: m.Kind}
	var chain []*x509.Certificate
	switch m.Kind {
	case storage.KeyPKCS11:
		u, err := keys.ParsePKCS11URI(m.URI)
		if err != nil {
			return b, fmt.Errorf("%w: %v", ErrKeyRefused, err)
		}
		if u.PINValue != "" {
			return b, fmt.Errorf("%w: the URI carries a PIN; PINs belong in the service's configuration", ErrKeyRefused)
		}
		k, err := keys.Open(ctx, m.URI, pin)
		if err != nil {
			return b, fmt.Errorf("%w: %v", ErrKeyRefused, err)
		}
		defer keys.Close(k)
		chain = append(k.Chain(), m.Certificates...)
		b.URI = m.URI
	case storage.KeyPKCS12:
		if ks == nil {
			return b, fmt.Errorf("%w: the service has no keystore for PKCS#12 keys", ErrKeyRefused)
		}
		k, err := keys.DecodePKCS12(m.PKCS12, m.Password)
		if err != nil {
			return b, fmt.Errorf("%w: %v", ErrKeyRefused, err)
		}
		if err := keys.Check(k, now); err != nil {
			return b, fmt.Errorf("%w: %v", ErrKeyRefused, err)
		}
		priv, ok := k.(interface{ PrivateKey() crypto.PrivateKey })
		if !ok {
			return b, fmt.Errorf("%w: the PKCS#12 key cannot be kept", ErrKeyRefused)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv.PrivateKey())
		if err != nil {
			return b, fmt.Errorf("%w: %v", ErrKeyRefused, err)
		}
		chain = append(k.Chain(), m.Certificates...)
		b.SealedKey = ks.Seal(der, chain[0].Raw)
		clear(der)
	case storage.KeyExternal:
		if len(m.Certificates) == 0 {
			return b, fmt.Errorf("%w: an external key is bound by its certificate; none was given", ErrKeyRefused)
		}
		ext, err := keys.NewExternal(m.Certificates)
		if err != nil {
			return b, fmt.Errorf("%w: %v", ErrKeyRefused, err)
		}
		chain = ext.Chain()
	default:
		return b, fmt.Errorf("%w: unknown key kind %q (pkcs11, pkcs12 or external)", ErrKeyRefused, m.Kind)
	}
	if err := checkCertificate(chain, anchors, now); err != nil {
		return b, err
	}
	cert := chain[0]
	sum := sha256.Sum256(cert.Raw)
	b.Certificate, b.Fingerprint, b.Subject = cert.Raw, hex.EncodeToString(sum[:]), cert.Subject.String()
	b.NotBefore, b.NotAfter = cert.NotBefore, cert.NotAfter
	for _, c := range chain[1:] {
		b.Chain = append(b.Chain, c.Raw)
	}
	return b, nil
}

// checkServiceURI refuses what a PKCS#11 URI handed to the service may not
// say: a module the operator did not configure (the service would load
// any library named), a PIN or PIN file (PINs are the service's
// configuration, and pin-source would read any file the service can), or
// a chain file on the server's disk (extra CAs are given as certificates).
func checkServiceURI(uri string, modules []string) error {
	u, err := keys.ParsePKCS11URI(uri)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeyRefused, err)
	}
	switch {
	case u.PINValue != "" || u.PINSource != "":
		return fmt.Errorf("%w: the URI carries a PIN; PINs belong in the service's configuration", ErrKeyRefused)
	case u.ChainFile != "":
		return fmt.Errorf("%w: x-chain-file names a file on the server; send issuing CAs as certificates", ErrKeyRefused)
	case u.ModulePath != "" && !slices.Contains(modules, u.ModulePath):
		return fmt.Errorf("%w: module-path is not a PKCS#11 module the service is configured with", ErrKeyRefused)
	}
	return nil
}

// checkCertificate applies the checks every binding needs on the signer's
// certificate: valid now, a signing key usage, and a chain to an anchor.
func checkCertificate(chain []*x509.Certificate, anchors []*x509.Certificate, now time.Time) error {
	cert := chain[0]
	switch {
	case now.Before(cert.NotBefore):
		return fmt.Errorf("%w: %v (from %s)", ErrKeyRefused, keys.ErrNotYetValid, cert.NotBefore.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return fmt.Errorf("%w: %v (until %s)", ErrKeyRefused, keys.ErrExpired, cert.NotAfter.UTC().Format(time.RFC3339))
	case cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return fmt.Errorf("%w: %v", ErrKeyRefused, keys.ErrKeyUsage)
	case len(anchors) == 0:
		return fmt.Errorf("%w: the service trusts no anchor, so no certificate can be checked (configure --trust)", ErrKeyRefused)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("%w: the certificate does not chain to a trusted anchor: %v", ErrKeyRefused, err)
	}
	return nil
}

// Keystore seals the PKCS#12 keys the service holds for its users with
// AES-256-GCM under a key kept in a file outside the database, so a
// database dump alone yields no usable key.
//
// It also keeps the keys it has opened, decrypted and checked, in memory
// only (never written, logged or returned in an error), one per binding:
// opening a sealed key (AES-GCM, PKCS#8 parsing, a probe signature) on
// every signature and every issue cost as much as a third of the
// signature itself. An entry is used only for the very binding row it was
// opened from (its ID, sealed key, certificate and chain); a changed or
// revoked binding replaces or drops it.
type Keystore struct {
	aead cipher.AEAD

	mu     sync.Mutex
	opened map[string]openedKey // by binding ID
}

// openedKey is a sealed key opened and checked, with the digest of the
// binding row it came from.
type openedKey struct {
	row [sha256.Size]byte
	key keys.Key
}

// openedKeysMax bounds the keys kept open; past it the cache starts again
// (an organisation has a few seals and a few dozen signers).
const openedKeysMax = 1024

// bindingDigest identifies the binding row a key is opened from: a
// rebinding (a new sealed key, certificate or chain under the same ID)
// yields another digest.
func bindingDigest(b storage.KeyBinding) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range append([][]byte{[]byte(b.ID), b.SealedKey, b.Certificate}, b.Chain...) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// cached returns the key opened from b's very row, if kept.
func (k *Keystore) cached(b storage.KeyBinding) (keys.Key, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.opened[b.ID]
	if !ok {
		return nil, false
	}
	if e.row != bindingDigest(b) {
		delete(k.opened, b.ID)
		return nil, false
	}
	return e.key, true
}

func (k *Keystore) keep(b storage.KeyBinding, key keys.Key) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.opened == nil || len(k.opened) >= openedKeysMax {
		k.opened = make(map[string]openedKey)
	}
	k.opened[b.ID] = openedKey{row: bindingDigest(b), key: key}
}

// Forget drops the key opened from binding id (revoked or replaced).
func (k *Keystore) Forget(id string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.opened, id)
}

// OpenKeystore reads the keystore key from path, creating it (0600) on
// first use.
func OpenKeystore(path string) (*Keystore, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("keystore: create %s: %w", path, err)
		}
		_, werr := f.Write(key)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("keystore: write %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("keystore: %s holds %d bytes, want a 32-byte key", path, len(key))
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return &Keystore{aead: aead}, nil
}

// Seal encrypts plain, bound to context (the certificate), so a sealed key
// cannot be moved to another binding row unnoticed.
func (k *Keystore) Seal(plain, context []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return k.aead.Seal(nonce, nonce, plain, context)
}

// Unseal decrypts what Seal returned for the same context.
func (k *Keystore) Unseal(sealed, context []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("keystore: sealed key too short")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], context)
	if err != nil {
		return nil, errors.New("keystore: sealed key does not open under this keystore key")
	}
	return plain, nil
}

// SigningKey opens a bound key for use. p must be its holder or, for the
// organisation's seal, a clerk of that organisation.
func SigningKey(ctx context.Context, p Principal, b storage.KeyBinding, pin keys.PasswordSource, ks *Keystore, now time.Time) (keys.Key, error) {
	switch {
	case b.RevokedAt != nil:
		ks.Forget(b.ID)
		return nil, fmt.Errorf("%w: the key binding was revoked", ErrForbidden)
	case b.UserID != "" && b.UserID != p.ID:
		return nil, storage.ErrNotFound
	case b.OrganizationID != "" && !p.Member(b.OrganizationID):
		return nil, storage.ErrNotFound
	case b.OrganizationID != "" && !p.hasAny(storage.RoleClerk, storage.RoleCertifier):
		// Certifiers seal the certified copies they make (Decree 23/2015).
		return nil, fmt.Errorf("%w: only the organisation's clerks and certifiers apply its seal", ErrForbidden)
	case !p.allows(ScopeSign):
		return nil, fmt.Errorf("%w: the token's scopes do not include %s", ErrForbidden, ScopeSign)
	}
	if b.Kind == storage.KeyPKCS12 && ks != nil {
		// A key opened lately is used as it is: its chain is the binding's.
		if k, ok := ks.cached(b); ok {
			return k, keys.CheckOpened(k, now)
		}
	}
	chain, err := BindingChain(b)
	if err != nil {
		return nil, err
	}
	switch b.Kind {
	case storage.KeyPKCS11:
		k, err := keys.Open(ctx, b.URI, pin)
		if err != nil {
			return nil, err
		}
		if !k.Chain()[0].Equal(chain[0]) {
			keys.Close(k)
			return nil, fmt.Errorf("%w: the token now holds a different certificate than the one bound", ErrKeyRefused)
		}
		return k, nil
	case storage.KeyPKCS12:
		if ks == nil {
			return nil, errors.New("no keystore configured")
		}
		der, err := ks.Unseal(b.SealedKey, b.Certificate)
		if err != nil {
			return nil, err
		}
		defer clear(der)
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("keystore: %T cannot sign", priv)
		}
		k, err := keys.FromSigner(signer, chain)
		if err != nil {
			return nil, err
		}
		if err := keys.Check(k, now); err != nil {
			return k, err
		}
		ks.keep(b, k)
		return k, nil
	default:
		return keys.NewExternal(chain)
	}
}

// BindingChain is the key binding's certificate and the chain given
// when it was bound, parsed.
func BindingChain(b storage.KeyBinding) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for _, der := range append([][]byte{b.Certificate}, b.Chain...) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("key binding %s: certificate: %w", b.ID, err)
		}
		chain = append(chain, c)
	}
	return chain, nil
}

// checkSealNames refuses a seal certificate that does not name the
// organisation it is bound to. The rule: the certificate's subject
// Organization (O=) or CommonName (CN=) must contain the organisation's
// name, both compared after Unicode NFC, case folding and collapsing runs
// of white space, so "ỦY BAN NHÂN DÂN  tỉnh Mẫu" names "Ủy ban nhân dân
// tỉnh Mẫu" whatever its Unicode composition; containment (not equality)
// admits the certificate authorities' habit of adding the province or a
// tax code to the name. An organisation's short code alone is not enough.
func checkSealNames(der []byte, orgName string) error {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeyRefused, err)
	}
	want := foldName(orgName)
	if want == "" {
		return fmt.Errorf("%w: the organisation has no name to match the seal certificate against", ErrKeyRefused)
	}
	for _, n := range append(slices.Clone(cert.Subject.Organization), cert.Subject.CommonName) {
		if strings.Contains(foldName(n), want) {
			return nil
		}
	}
	return fmt.Errorf("%w: the seal certificate's subject (%s) does not name the organisation %q (its O= or CN= must contain that name)",
		ErrKeyRefused, cert.Subject.String(), orgName)
}

// foldName is the form names are compared in: NFC, case-folded, with white
// space collapsed.
func foldName(s string) string {
	// A Caser keeps state, so each call takes its own.
	return strings.Join(strings.Fields(norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))), " ")
}
