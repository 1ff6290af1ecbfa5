package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/storage"
)

// accountsConfig is what the directory needs besides the database, the same
// for `serve` and `vanthu admin`: the trust anchors key bindings must chain
// to, the keystore key that seals the PKCS#12 keys the service holds, and how
// bound PKCS#11 keys are reached.
type accountsConfig struct {
	trust         []string
	keystoreKey   string // empty: <data-dir>/keystore-key
	pkcs11Modules []string
	pinFile       string
}

func (c *accountsConfig) flags(f *pflag.FlagSet) {
	f.StringArrayVar(&c.trust, "trust", splitList(envOr("VANTHU_TRUST", "")), "trust anchors, which key bindings must chain to and verification trusts: a PEM/DER file or a directory (repeatable; VANTHU_TRUST)")
	f.StringVar(&c.keystoreKey, "keystore-key", envOr("VANTHU_KEYSTORE_KEY", ""), "file holding the key that seals PKCS#12 keys, created on first use (default <data-dir>/keystore-key; VANTHU_KEYSTORE_KEY)")
	var modules []string
	if m := os.Getenv(keys.EnvPKCS11Module); m != "" {
		modules = []string{m}
	}
	f.StringArrayVar(&c.pkcs11Modules, "pkcs11-module", modules, "PKCS#11 module a bound key's URI may name as module-path (repeatable; VANTHU_PKCS11_MODULE)")
	f.StringVar(&c.pinFile, "pkcs11-pin-file", envOr("VANTHU_PKCS11_PIN_FILE", ""), "file holding the PIN of bound PKCS#11 keys (else VANTHU_PKCS11_PIN; VANTHU_PKCS11_PIN_FILE)")
}

// keystorePath is where the keystore key lives.
func (c *serviceConfig) keystorePath() string {
	if c.accounts.keystoreKey != "" {
		return c.accounts.keystoreKey
	}
	return filepath.Join(c.dataDir, "keystore-key")
}

// accountsService builds the directory service serve and admin both use, so
// that a key bound by one is usable by the other: the same anchors, the same
// keystore key, the same PIN source.
func (c *serviceConfig) accountsService(db *storage.DB) (*accounts.Service, error) {
	svc := &accounts.Service{DB: db, PKCS11Modules: c.accounts.pkcs11Modules}
	st, err := c.trustStore()
	if err != nil {
		return nil, err
	}
	svc.Anchors = st.Certificates()
	ks, err := accounts.OpenKeystore(c.keystorePath())
	if err != nil {
		return nil, err
	}
	svc.Keystore = ks
	if c.accounts.pinFile != "" {
		if _, err := os.Stat(c.accounts.pinFile); err != nil {
			return nil, fmt.Errorf("--pkcs11-pin-file: %w", err)
		}
		svc.PIN = keys.PasswordFromFile(c.accounts.pinFile)
	}
	return svc, nil
}

// trustStore loads the deployment's trust anchors: key bindings must chain
// to them and the verifier trusts them. None given, nothing is trusted.
func (c *serviceConfig) trustStore() (*chain.Store, error) {
	if len(c.accounts.trust) == 0 {
		return chain.NewStore(), nil
	}
	st, err := chain.LoadStore(c.accounts.trust...)
	if err != nil {
		return nil, fmt.Errorf("--trust: %w", err)
	}
	return st, nil
}

// keystoreExists reports whether the keystore key is already there (admin
// warns when it creates one, since serve must then be given the same).
func (c *serviceConfig) keystoreExists() bool {
	_, err := os.Stat(c.keystorePath())
	return !errors.Is(err, fs.ErrNotExist)
}
