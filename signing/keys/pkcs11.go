package keys

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// Environment variables consulted when a pkcs11: URI leaves something out.
const (
	EnvPKCS11PIN    = "VANTHU_PKCS11_PIN"
	EnvPKCS11Module = "VANTHU_PKCS11_MODULE"
)

// pkcs11Key is a private key that stays on its token; only signatures come
// out. It owns a crypto11 context (a logged-in session pool) until Close.
type pkcs11Key struct {
	signer crypto.Signer
	chain  []*x509.Certificate
	uri    string // redacted

	mu     sync.RWMutex // Sign holds it shared so Close waits for signatures in flight
	ctx    *crypto11.Context
	closed bool
}

// OpenPKCS11 opens the key a pkcs11: URI (RFC 7512) names. The module comes
// from module-path (or VANTHU_PKCS11_MODULE), the PIN from pin-value,
// pin-source (file:/path) or VANTHU_PKCS11_PIN. The certificate is read from
// the token (the certificate object with the key's id, else its label), and
// x-chain-file may add issuing CA certificates from a PEM file. The key is
// checked like every key source's (certificate matches, valid now, key
// usage); the match is by public key, so no probe signature is spent on an
// HSM. Close the returned key (it implements io.Closer) to log out.
func OpenPKCS11(ctx context.Context, uri string) (Key, error) {
	return openPKCS11(ctx, uri, nil)
}

func openPKCS11(ctx context.Context, uri string, pinFallback PasswordSource) (Key, error) {
	u, err := ParsePKCS11URI(uri)
	if err != nil {
		return nil, err
	}
	where := u.Redacted()
	fail := func(err error) (Key, error) { return nil, fmt.Errorf("open PKCS#11 key %s: %w", where, err) }

	cfg := &crypto11.Config{Path: u.ModulePath, MaxSessions: DefaultPKCS11Sessions}
	if u.MaxSessions > 0 {
		cfg.MaxSessions = u.MaxSessions
	}
	if cfg.Path == "" {
		cfg.Path = os.Getenv(EnvPKCS11Module)
	}
	if cfg.Path == "" {
		return fail(fmt.Errorf("no module-path in the URI and %s is not set", EnvPKCS11Module))
	}
	switch {
	case u.Token != "":
		cfg.TokenLabel = u.Token
	case u.Serial != "":
		cfg.TokenSerial = u.Serial
	case u.SlotID != nil:
		cfg.SlotNumber = u.SlotID
	default:
		return fail(errors.New("the URI names no token (token=, serial= or slot-id=)"))
	}
	if u.Object == "" && len(u.ID) == 0 {
		return fail(errors.New("the URI names no key (object= or id=)"))
	}
	pin, err := u.pin(pinFallback)
	if err != nil {
		return fail(err)
	}
	cfg.Pin = pin

	p11, err := configure(ctx, cfg)
	if err != nil {
		return fail(classifyP11(err))
	}
	k, err := loadPKCS11Key(p11, u)
	if err != nil {
		p11.Close()
		return fail(err)
	}
	k.uri = where
	if err := check(k, time.Now(), false); err != nil {
		p11.Close()
		return fail(err)
	}
	return k, nil
}

// pin finds the PIN: in the URI, in the file pin-source names, from the
// caller's fallback source, or from VANTHU_PKCS11_PIN.
func (u *PKCS11URI) pin(fallback PasswordSource) (string, error) {
	switch {
	case u.PINValue != "":
		return u.PINValue, nil
	case u.PINSource != "":
		path := strings.TrimPrefix(u.PINSource, "file:")
		path = strings.TrimPrefix(path, "//") // file:///abs/path
		if !strings.HasPrefix(path, "/") && strings.HasPrefix(u.PINSource, "file://") {
			path = "/" + path
		}
		b, err := PasswordFromFile(path)()
		if err != nil {
			return "", fmt.Errorf("pin-source: %w", err)
		}
		return string(b), nil
	case fallback != nil:
		b, err := fallback()
		if err != nil {
			return "", fmt.Errorf("PIN: %w", err)
		}
		return string(b), nil
	}
	if v, ok := os.LookupEnv(EnvPKCS11PIN); ok {
		return v, nil
	}
	return "", fmt.Errorf("no PIN: give pin-source=file:… in the URI or set %s", EnvPKCS11PIN)
}

// configure loads the module and logs in, giving up when ctx ends. A module
// stuck in C_Initialize or C_Login cannot be interrupted, so on cancellation
// the context it eventually returns is closed in the background.
func configure(ctx context.Context, cfg *crypto11.Config) (*crypto11.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		c   *crypto11.Context
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := crypto11.Configure(cfg)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// classifyP11 maps PKCS#11 return values callers act on to this package's
// errors; the module's own message is kept for the rest.
func classifyP11(err error) error {
	var rv pkcs11.Error
	if errors.As(err, &rv) {
		switch rv {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_INVALID:
			return ErrWrongPIN
		case pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("PIN locked: %w", ErrWrongPIN)
		}
	}
	if strings.Contains(err.Error(), "could not find PKCS#11 token") {
		return fmt.Errorf("token: %w", ErrNotFound)
	}
	return fmt.Errorf("PKCS#11 module: %w", err)
}

func loadPKCS11Key(p11 *crypto11.Context, u *PKCS11URI) (*pkcs11Key, error) {
	id, label := u.ID, []byte(u.Object)
	if len(id) == 0 {
		id = nil
	}
	if len(label) == 0 {
		label = nil
	}
	signers, err := p11.FindKeyPairs(id, label)
	if err != nil {
		return nil, fmt.Errorf("find key: %w", err)
	}
	switch len(signers) {
	case 0:
		// crypto11 pairs a private key with the public key object of the
		// same CKA_ID; a token holding only the private half looks empty.
		return nil, fmt.Errorf("private key with its public key object: %w", ErrNotFound)
	case 1:
	default:
		return nil, fmt.Errorf("%d keys match; add id= or object= to the URI to choose one", len(signers))
	}
	signer := signers[0]
	// The certificate is matched by id first (the PKCS#11 convention that
	// ties a key to its certificate), then by label.
	var cert *x509.Certificate
	if id != nil {
		cert, err = p11.FindCertificate(id, nil, nil)
	}
	if cert == nil && err == nil && label != nil {
		cert, err = p11.FindCertificate(nil, label, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("find certificate: %w", err)
	}
	if cert == nil {
		return nil, fmt.Errorf("certificate for the key: %w", ErrNotFound)
	}
	var extra []*x509.Certificate
	if u.ChainFile != "" {
		if extra, err = readPEMCerts(u.ChainFile); err != nil {
			return nil, fmt.Errorf("x-chain-file: %w", err)
		}
	}
	return &pkcs11Key{
		signer: signer,
		chain:  append([]*x509.Certificate{cert}, orderChain(cert, extra)...),
		ctx:    p11,
	}, nil
}

func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificates")
	}
	return out, nil
}

func (k *pkcs11Key) Public() crypto.PublicKey { return k.signer.Public() }

func (k *pkcs11Key) Chain() []*x509.Certificate {
	return append([]*x509.Certificate(nil), k.chain...)
}

func (k *pkcs11Key) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.closed {
		return nil, fmt.Errorf("PKCS#11 key %s: closed", k.uri)
	}
	if pss, ok := opts.(*rsa.PSSOptions); ok && pss.SaltLength == rsa.PSSSaltLengthAuto {
		// Tokens need an explicit salt length; a salt as long as the hash is
		// what PAdES profiles and verifiers expect, and any PSS verifier
		// accepts it.
		o := *pss
		o.SaltLength = rsa.PSSSaltLengthEqualsHash
		opts = &o
	}
	sig, err := k.signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("PKCS#11 key %s: sign: %w", k.uri, classifyP11(err))
	}
	return sig, nil
}

// Close logs out and releases the session pool and the module reference.
func (k *pkcs11Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	if err := k.ctx.Close(); err != nil {
		return fmt.Errorf("close PKCS#11 key %s: %w", k.uri, err)
	}
	return nil
}
