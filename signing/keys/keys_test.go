package keys_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
)

var (
	pkiOnce sync.Once
	pkiVal  *devpki.PKI
	pkiErr  error
)

// testPKI is one development PKI for the whole binary: these tests only read
// it (no responder is needed to open keys).
func testPKI(t *testing.T) *devpki.PKI {
	t.Helper()
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vanthu-keys-pki-")
		if err != nil {
			pkiErr = err
			return
		}
		if pkiErr = devpki.Init(dir, "http://127.0.0.1:9", devpki.Options{ECDSA: true}); pkiErr != nil {
			return
		}
		pkiVal, pkiErr = devpki.Load(dir)
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pkiVal != nil {
		os.RemoveAll(pkiVal.Dir())
	}
	os.Exit(code)
}

// issuingCA returns the dev PKI's issuing CA key, to issue odd certificates.
func issuingCA(t *testing.T, p *devpki.PKI) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	data, err := os.ReadFile(p.P12Path(devpki.IssuingCA))
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.DecodePKCS12(data, p.Password())
	if err != nil {
		t.Fatal(err)
	}
	return k.Chain()[0], k.(interface{ PrivateKey() crypto.PrivateKey }).PrivateKey().(crypto.Signer)
}

// oddCert issues a certificate for pub from the issuing CA, shaped by mutate.
func oddCert(t *testing.T, p *devpki.PKI, pub crypto.PublicKey, mutate func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	caCert, caKey := issuingCA(t, p)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      caCert.Subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	tmpl.Subject.CommonName = "Đỗ Thị Kiểm Thử"
	if mutate != nil {
		mutate(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeP12(t *testing.T, key crypto.PrivateKey, cert *x509.Certificate, cas []*x509.Certificate, password string) string {
	t.Helper()
	data, err := pkcs12.Modern2023.Encode(key, cert, cas, password)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.p12")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func privateOf(t *testing.T, p *devpki.PKI, name string) crypto.Signer {
	t.Helper()
	k, err := p.Key(name)
	if err != nil {
		t.Fatal(err)
	}
	return k.(interface{ PrivateKey() crypto.PrivateKey }).PrivateKey().(crypto.Signer)
}

// verifySig checks a signature made by k over digest with opts against the
// certificate's public key.
func verifySig(t *testing.T, k keys.Key, digest []byte, opts crypto.SignerOpts, sig []byte) {
	t.Helper()
	switch pub := k.Chain()[0].PublicKey.(type) {
	case *rsa.PublicKey:
		var err error
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(pub, pss.Hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		} else {
			err = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig)
		}
		if err != nil {
			t.Errorf("RSA signature does not verify: %v", err)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			t.Error("ECDSA signature does not verify")
		}
	default:
		t.Fatalf("unexpected key %T", pub)
	}
}

func TestOpenPKCS12Good(t *testing.T) {
	p := testPKI(t)
	d256 := sha256.Sum256([]byte("Quyết định"))
	d384 := sha512.Sum384([]byte("Quyết định"))
	tests := []struct {
		name   string
		p12    string
		digest []byte
		opts   crypto.SignerOpts
	}{
		{"RSA PKCS#1 v1.5 SHA-256", devpki.Official, d256[:], crypto.SHA256},
		{"RSA PKCS#1 v1.5 SHA-384", devpki.Seal, d384[:], crypto.SHA384},
		{"RSA-PSS salt=hash", devpki.Deputy, d256[:], &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}},
		{"RSA-PSS salt auto", devpki.Official, d384[:], &rsa.PSSOptions{Hash: crypto.SHA384, SaltLength: rsa.PSSSaltLengthAuto}},
		{"ECDSA P-256", devpki.OfficialEC, d256[:], crypto.SHA256},
		// Revocation is a verifier's question, not an opener's: the key opens.
		{"revoked opens", devpki.Revoked, d256[:], crypto.SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keys.Open(context.Background(), p.P12Path(tc.p12), keys.PasswordFromFile(p.PasswordPath()))
			if err != nil {
				t.Fatal(err)
			}
			defer keys.Close(k)
			if n := len(k.Chain()); n != 3 {
				t.Errorf("chain length %d, want 3 (signer, issuing, root)", n)
			}
			if !k.Chain()[1].Equal(p.Issuing()) {
				t.Error("chain[1] is not the issuing CA")
			}
			sig, err := k.Sign(rand.Reader, tc.digest, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			verifySig(t, k, tc.digest, tc.opts, sig)
		})
	}
}

func TestOpenPKCS12P384(t *testing.T) {
	p := testPKI(t)
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := oddCert(t, p, priv.Public(), nil)
	path := writeP12(t, priv, cert, []*x509.Certificate{p.Issuing()}, "mật khẩu")
	k, err := keys.OpenPKCS12(path, []byte("mật khẩu"))
	if err != nil {
		t.Fatal(err)
	}
	d := sha512.Sum384([]byte("x"))
	sig, err := k.Sign(rand.Reader, d[:], crypto.SHA384)
	if err != nil {
		t.Fatal(err)
	}
	verifySig(t, k, d[:], crypto.SHA384, sig)
}

func TestOpenPKCS12Bad(t *testing.T) {
	p := testPKI(t)
	const pw = "Mật-khẩu-bí-mật-42"
	official, _ := p.Cert(devpki.Official)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	deputyKey := privateOf(t, p, devpki.Deputy)
	tests := []struct {
		name     string
		path     func(t *testing.T) string
		password string
		want     error
	}{
		{"wrong password", func(t *testing.T) string { return p.P12Path(devpki.Official) }, pw, keys.ErrWrongPassword},
		{"expired", func(t *testing.T) string { return p.P12Path(devpki.Expired) }, string(p.Password()), keys.ErrExpired},
		{"certificate of another key", func(t *testing.T) string {
			return writeP12(t, deputyKey, official, nil, pw)
		}, pw, keys.ErrCertKeyMismatch},
		{"not yet valid", func(t *testing.T) string {
			c := oddCert(t, p, deputyKey.Public(), func(c *x509.Certificate) {
				c.NotBefore = time.Now().Add(24 * time.Hour)
				c.NotAfter = time.Now().Add(48 * time.Hour)
			})
			return writeP12(t, deputyKey, c, nil, pw)
		}, pw, keys.ErrNotYetValid},
		{"key usage without signing", func(t *testing.T) string {
			c := oddCert(t, p, deputyKey.Public(), func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
			return writeP12(t, deputyKey, c, nil, pw)
		}, pw, keys.ErrKeyUsage},
		{"no key usage at all", func(t *testing.T) string {
			c := oddCert(t, p, deputyKey.Public(), func(c *x509.Certificate) { c.KeyUsage = 0 })
			return writeP12(t, deputyKey, c, nil, pw)
		}, pw, keys.ErrKeyUsage},
		{"RSA-1024", func(t *testing.T) string {
			c := oddCert(t, p, small.Public(), nil)
			return writeP12(t, small, c, nil, pw)
		}, pw, keys.ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			k, err := keys.OpenPKCS12(path, []byte(tc.password))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got key=%v err=%v, want %v", k != nil, err, tc.want)
			}
			msg := err.Error()
			if strings.Contains(msg, tc.password) {
				t.Errorf("error reveals the password: %s", msg)
			}
			if !strings.Contains(msg, path) {
				t.Errorf("error does not name the file: %s", msg)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := keys.OpenPKCS12(filepath.Join(t.TempDir(), "none.p12"), []byte(pw))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want not-exist", err)
		}
	})
}

func TestPasswordSources(t *testing.T) {
	p := testPKI(t)
	ctx := context.Background()
	t.Setenv("VANTHU_TEST_P12_PASSWORD", string(p.Password()))
	k, err := keys.Open(ctx, p.P12Path(devpki.Seal), keys.PasswordFromEnv("VANTHU_TEST_P12_PASSWORD"))
	if err != nil {
		t.Fatalf("password from env: %v", err)
	}
	if k.Chain()[0].Subject.CommonName != "Ủy ban nhân dân tỉnh Mẫu" {
		t.Errorf("seal CN %q", k.Chain()[0].Subject.CommonName)
	}
	if _, err := keys.Open(ctx, p.P12Path(devpki.Seal), keys.PasswordFromEnv("VANTHU_TEST_UNSET_VARIABLE")); err == nil || !strings.Contains(err.Error(), "VANTHU_TEST_UNSET_VARIABLE") {
		t.Errorf("unset env: got %v", err)
	}
	// A password file written by `echo` ends in a newline; it is dropped.
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, append(p.Password(), '\r', '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(ctx, p.P12Path(devpki.Seal), keys.PasswordFromFile(f)); err != nil {
		t.Errorf("password file with CRLF: %v", err)
	}
	if _, err := keys.Open(ctx, p.P12Path(devpki.Seal), nil); err == nil {
		t.Error("open without a password source succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := keys.Open(cancelled, p.P12Path(devpki.Seal), keys.PasswordFromFile(f)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

func TestExternal(t *testing.T) {
	p := testPKI(t)
	chain, err := p.Chain(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	e, err := keys.NewExternal(chain[:2])
	if err != nil {
		t.Fatal(err)
	}
	var k keys.Key = e
	if !k.Chain()[0].Equal(chain[0]) || k.Public() == nil {
		t.Error("external key does not carry its chain")
	}
	if _, err := k.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); !errors.Is(err, keys.ErrExternal) {
		t.Errorf("Sign: got %v, want ErrExternal", err)
	}
	if _, err := keys.NewExternal(nil); err == nil {
		t.Error("NewExternal(nil) succeeded")
	}
}
