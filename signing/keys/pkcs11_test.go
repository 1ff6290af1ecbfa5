package keys_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
)

// importDev puts a dev PKI identity on the token with its chain below the
// root, and returns its URI.
func importDev(t *testing.T, tok testharness.SoftHSMToken, p *devpki.PKI, name string, id byte) string {
	t.Helper()
	k, err := p.Key(name)
	if err != nil {
		t.Fatal(err)
	}
	return testharness.ImportKey(t, tok, k, k.Chain(), name, []byte{id})
}

func TestPKCS11SoftHSM(t *testing.T) {
	p := testPKI(t)
	tok := testharness.SoftHSM(t)
	ctx := context.Background()
	official := importDev(t, tok, p, devpki.Official, 1)
	ec := importDev(t, tok, p, devpki.OfficialEC, 2)

	digest := sha256.Sum256([]byte("Quyết định số 05/QĐ-UBND"))
	tests := []struct {
		name string
		uri  string
		opts crypto.SignerOpts
	}{
		{"RSA PKCS#1 v1.5", official, crypto.SHA256},
		{"RSA-PSS salt=hash", official, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}},
		{"RSA-PSS salt auto", official, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthAuto}},
		{"ECDSA P-256", ec, crypto.SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keys.Open(ctx, tc.uri, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := keys.Close(k); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			if n := len(k.Chain()); n != 2 || !k.Chain()[1].Equal(p.Issuing()) {
				t.Errorf("chain length %d, want token certificate + issuing CA from x-chain-file", n)
			}
			sig, err := k.Sign(rand.Reader, digest[:], tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			verifySig(t, k, digest[:], tc.opts, sig)
		})
	}

	t.Run("PIN from environment", func(t *testing.T) {
		uri, _, _ := strings.Cut(official, "&pin-source=")
		t.Setenv(keys.EnvPKCS11PIN, tok.PIN)
		k, err := keys.OpenPKCS11(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		keys.Close(k)
	})
	t.Run("more signers than sessions wait their turn", func(t *testing.T) {
		k, err := keys.OpenPKCS11(ctx, official+"&x-max-sessions=2")
		if err != nil {
			t.Fatal(err)
		}
		defer keys.Close(k)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				sig, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
				if err == nil {
					err = rsa.VerifyPKCS1v15(k.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], sig)
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("sign after close", func(t *testing.T) {
		k, err := keys.OpenPKCS11(ctx, official)
		if err != nil {
			t.Fatal(err)
		}
		keys.Close(k)
		if _, err := k.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
			t.Error("signed after Close")
		}
	})
}

func TestPKCS11SoftHSMBad(t *testing.T) {
	p := testPKI(t)
	tok := testharness.SoftHSM(t)
	ctx := context.Background()
	official := importDev(t, tok, p, devpki.Official, 1)
	expired := importDev(t, tok, p, devpki.Expired, 3)
	// The deputy's private key stored next to the official's certificate.
	officialKey, _ := p.Key(devpki.Official)
	deputy := privateOf(t, p, devpki.Deputy)
	mismatched := testharness.ImportKey(t, tok, deputy, officialKey.Chain(), "mismatch", []byte{4})
	noCert := testharness.ImportKey(t, tok, deputy, nil, "nocert", []byte{5})

	const wrongPIN = "99999999"
	withPIN := func(uri, pin string) string {
		base, _, _ := strings.Cut(uri, "&pin-source=")
		return base + "&pin-value=" + pin
	}
	tests := []struct {
		name string
		uri  string
		want error
	}{
		{"wrong PIN", withPIN(official, wrongPIN), keys.ErrWrongPIN},
		{"expired", expired, keys.ErrExpired},
		{"certificate of another key", mismatched, keys.ErrCertKeyMismatch},
		{"no certificate on token", noCert, keys.ErrNotFound},
		{"no such key", strings.Replace(official, "object=official;id=%01", "object=nobody;id=%7F", 1), keys.ErrNotFound},
		{"no such token", strings.Replace(official, "token="+tok.TokenLabel, "token=absent", 1), keys.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keys.OpenPKCS11(ctx, tc.uri)
			if err == nil {
				keys.Close(k)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			for _, secret := range []string{tok.PIN, wrongPIN} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals a PIN: %v", err)
				}
			}
			if !strings.Contains(err.Error(), "pkcs11:token=") {
				t.Errorf("error does not say which key: %v", err)
			}
		})
	}

	t.Run("no PIN anywhere", func(t *testing.T) {
		uri, _, _ := strings.Cut(official, "&pin-source=")
		unsetEnv(t, keys.EnvPKCS11PIN)
		_, err := keys.OpenPKCS11(ctx, uri)
		if err == nil || !strings.Contains(err.Error(), keys.EnvPKCS11PIN) {
			t.Errorf("got %v, want a hint about %s", err, keys.EnvPKCS11PIN)
		}
	})
	t.Run("no module", func(t *testing.T) {
		uri := "pkcs11:token=" + tok.TokenLabel + ";id=%01?pin-source=file:" + tok.PINFile
		unsetEnv(t, keys.EnvPKCS11Module)
		_, err := keys.OpenPKCS11(ctx, uri)
		if err == nil || !strings.Contains(err.Error(), "module-path") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := keys.OpenPKCS11(c, official); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

// unsetEnv removes a variable for the rest of the test; t.Setenv records the
// old value so it is restored afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}
