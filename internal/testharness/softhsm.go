package testharness

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ThalesGroup/crypto11"
)

// SoftHSMModule is where Debian's softhsm2 package installs the PKCS#11
// module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSMToken is a freshly initialised SoftHSM2 token of one test.
type SoftHSMToken struct {
	ModulePath string
	ConfigPath string // the SOFTHSM2_CONF this token lives under
	TokenLabel string
	PIN        string
	SOPIN      string
	PINFile    string // the user PIN in a 0600 file, for pin-source=file:
}

// SoftHSM creates a SoftHSM2 token in its own token directory under
// t.TempDir() and points SOFTHSM2_CONF at it for the rest of the test.
//
// SoftHSM reads SOFTHSM2_CONF once, when the module is initialised, and the
// variable is process-wide, so tests using SoftHSM cannot run in parallel
// (t.Setenv enforces that) and must close every PKCS#11 key they open before
// they end, so the module is finalised and the next test's token is seen.
func SoftHSM(t testing.TB) SoftHSMToken {
	t.Helper()
	if _, err := os.Stat(SoftHSMModule); err != nil {
		t.Fatalf("SoftHSM2 PKCS#11 module %s not found: install it with `apt-get install -y softhsm2`", SoftHSMModule)
	}
	util := Tool(t, "softhsm2-util", "softhsm2")

	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatalf("softhsm token dir: %v", err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	confText := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		t.Fatalf("softhsm config: %v", err)
	}
	tok := SoftHSMToken{
		ModulePath: SoftHSMModule,
		ConfigPath: conf,
		TokenLabel: "vanthu-" + randomHex(4),
		PIN:        randomDigits(8),
		SOPIN:      randomDigits(8),
		PINFile:    filepath.Join(dir, "pin"),
	}
	if err := os.WriteFile(tok.PINFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatalf("softhsm pin file: %v", err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	runSoftHSMUtil(t, util, conf, "init token",
		"--init-token", "--free", "--label", tok.TokenLabel, "--pin", tok.PIN, "--so-pin", tok.SOPIN)
	return tok
}

// URI is the RFC 7512 URI of an object on the token, with the module path and
// the PIN file (never the PIN itself).
func (tok SoftHSMToken) URI(label string, id []byte) string {
	s := "pkcs11:token=" + url.PathEscape(tok.TokenLabel)
	if label != "" {
		s += ";object=" + url.PathEscape(label)
	}
	if len(id) > 0 {
		var b strings.Builder
		for _, c := range id {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		s += ";id=" + b.String()
	}
	return s + "?module-path=" + tok.ModulePath + "&pin-source=file:" + tok.PINFile
}

// ImportKey puts a private key and its certificate on the token under label
// and id, and returns the key's pkcs11: URI. key is a crypto.PrivateKey or
// anything with a PrivateKey() crypto.PrivateKey method (the in-memory keys
// of signing/keys and the dev PKI). chain[0] is stored on the token; the rest
// of the chain goes to a PEM file the URI names as x-chain-file.
func ImportKey(t testing.TB, tok SoftHSMToken, key any, chain []*x509.Certificate, label string, id []byte) string {
	t.Helper()
	if k, ok := key.(interface{ PrivateKey() crypto.PrivateKey }); ok {
		key = k.PrivateKey()
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("import key: encode PKCS#8: %v", err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatalf("import key: %v", err)
	}
	util := Tool(t, "softhsm2-util", "softhsm2")
	runSoftHSMUtil(t, util, tok.ConfigPath, "import key",
		"--import", keyFile, "--token", tok.TokenLabel, "--label", label, "--id", hex.EncodeToString(id), "--pin", tok.PIN)
	if err := os.Remove(keyFile); err != nil {
		t.Fatalf("import key: remove PKCS#8 file: %v", err)
	}
	if len(chain) == 0 {
		return tok.URI(label, id)
	}

	// softhsm2-util imports only keys; the certificate goes in through the
	// module itself, with the same id and label so it pairs with the key.
	p11, err := crypto11.Configure(&crypto11.Config{Path: tok.ModulePath, TokenLabel: tok.TokenLabel, Pin: tok.PIN, MaxSessions: 2})
	if err != nil {
		t.Fatalf("import certificate: open token: %v", err)
	}
	err = p11.ImportCertificateWithLabel(id, []byte(label), chain[0])
	if cerr := p11.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("import certificate: %v", err)
	}
	uri := tok.URI(label, id)
	if len(chain) > 1 {
		chainFile := filepath.Join(dir, "chain.pem")
		var pemData []byte
		for _, c := range chain[1:] {
			pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		if err := os.WriteFile(chainFile, pemData, 0o644); err != nil {
			t.Fatalf("import key: chain file: %v", err)
		}
		uri += "&x-chain-file=" + chainFile
	}
	return uri
}

// runSoftHSMUtil runs softhsm2-util against one token directory. Failures
// report the tool's output, never its arguments (they hold PINs).
func runSoftHSMUtil(t testing.TB, util, conf, what string, args ...string) {
	t.Helper()
	cmd := exec.Command(util, args...)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util %s: %v: %s", what, err, strings.TrimSpace(string(out)))
	}
}

func randomDigits(n int) string {
	b := make([]byte, n)
	// Since Go 1.24 crypto/rand.Read never returns an error.
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
