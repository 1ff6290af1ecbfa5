package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/accounts"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/keys"
	"github.com/vanthu/vanthu/storage"
)

// foreignCA is a root CA nothing of the dev PKI chains to.
func foreignCA(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Foreign Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeCerts(t *testing.T, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return writeFile(t, name, string(b))
}

// TestAdminKeyBind binds a PKCS#12 key into the keystore, an external
// token's certificate and a SoftHSM2 seal key through the CLI, and opens
// the bound keys as serve would (same keystore key, PIN from its own
// configuration). Bad keys are refused with messages holding no secret.
func TestAdminKeyBind(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	var err error
	pki := testharness.DevPKI(t)
	root := writeCerts(t, "root.pem", pki.Root())
	a.extra = []string{"--trust", root}
	a.ok("org", "create", "--code", "UBND", "--name", "Ủy ban nhân dân tỉnh Mẫu")
	a.ok("user", "create", "--org", "UBND", "--username", "an", "--full-name", "Nguyễn Văn An", "--role", "signer")
	a.ok("user", "create", "--org", "UBND", "--username", "binh", "--full-name", "Trần Thị Bình", "--role", "signer")
	a.ok("user", "create", "--org", "UBND", "--username", "chi", "--full-name", "Lê Thị Chi", "--role", "clerk")
	_, db := a.service()
	user := func(name string) accounts.Principal {
		c, err := storage.UserByUsername(ctx, db.Pool, name)
		if err != nil {
			t.Fatal(err)
		}
		return accounts.Principal{User: c.User}
	}

	// PKCS#12: sealed under <data-dir>/keystore-key, which serve opens too.
	var p12 storage.KeyBinding
	a.okJSON(&p12, "key", "bind", "--user", "an", "--pkcs12", pki.P12Path(devpki.Official), "--password-file", pki.PasswordPath())
	if p12.Kind != storage.KeyPKCS12 {
		t.Fatalf("PKCS#12 binding of kind %s", p12.Kind)
	}
	// What serve reads: the stored row, with its sealed key.
	if p12, err = storage.GetKeyBinding(ctx, db.Pool, p12.ID); err != nil {
		t.Fatal(err)
	}
	ks, err := accounts.OpenKeystore(filepath.Join(a.dataDir, "keystore-key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := accounts.SigningKey(ctx, user("an"), p12, nil, ks, time.Now())
	if err != nil || !strings.Contains(k.Chain()[0].Subject.CommonName, "Nguyễn Văn An") {
		t.Fatalf("PKCS#12 binding %s does not open from the keystore: %v", p12.ID, err)
	}

	// External: the certificate and its issuer from a PEM file.
	deputy, err := pki.Chain(devpki.Deputy)
	if err != nil {
		t.Fatal(err)
	}
	var ext storage.KeyBinding
	a.okJSON(&ext, "key", "bind", "--user", "binh", "--external-cert", writeCerts(t, "deputy.pem", deputy[:2]...))
	if ext.Kind != storage.KeyExternal || !strings.Contains(ext.Subject, "Trần Thị Bình") {
		t.Fatalf("external binding: %s %s", ext.Kind, ext.Subject)
	}

	// PKCS#11 seal: the operator's URI names its PIN file and chain file;
	// the bound URI names neither, and serve opens it with its own PIN.
	tok := testharness.SoftHSM(t)
	sealKey, err := pki.Key(devpki.Seal)
	if err != nil {
		t.Fatal(err)
	}
	uri := testharness.ImportKey(t, tok, sealKey, sealKey.Chain(), "seal", []byte{7})
	if !strings.Contains(uri, "pin-source=") || !strings.Contains(uri, "x-chain-file=") {
		t.Fatalf("test URI %s", uri)
	}
	var seal storage.KeyBinding
	a.okJSON(&seal, "key", "bind", "--seal", "--org", "UBND", "--pkcs11", uri)
	if seal.Kind != storage.KeyPKCS11 || seal.OrganizationID == "" || strings.Contains(seal.URI, "pin-source") ||
		strings.Contains(seal.URI, "x-chain-file") || len(seal.Chain) == 0 {
		t.Fatalf("seal binding: %s %s %q, %d CA certificates", seal.Kind, seal.OrganizationID, seal.URI, len(seal.Chain))
	}
	sk, err := accounts.SigningKey(ctx, user("chi"), seal, keys.PasswordFromFile(tok.PINFile), nil, time.Now())
	if err != nil {
		t.Fatalf("clerk opening the bound seal: %v", err)
	}
	keys.Close(sk)
	if out := a.ok("key", "list", "--org", "UBND"); !strings.Contains(out, seal.ID) || !strings.Contains(out, "pkcs11") {
		t.Fatalf("key list --org:\n%s", out)
	}
	var mine []storage.KeyBinding
	a.okJSON(&mine, "key", "list", "--user", "an")
	if len(mine) != 1 || mine[0].ID != p12.ID {
		t.Fatalf("key list --user an: %d bindings", len(mine))
	}
	a.ok("key", "revoke", ext.ID)
	var binhs []storage.KeyBinding
	a.okJSON(&binhs, "key", "list", "--user", "binh")
	if len(binhs) != 1 || binhs[0].RevokedAt == nil {
		t.Fatalf("binh's key after revoking: %+v", binhs)
	}
	if _, err := accounts.SigningKey(ctx, user("binh"), binhs[0], nil, nil, time.Now()); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("signing with a revoked key: %v", err)
	}

	wrongPw := writeFile(t, "wrong", "không phải mật khẩu\n")
	pinURI := strings.Replace(uri, "pin-source=file:"+tok.PINFile, "pin-value="+tok.PIN, 1)
	for _, tc := range []struct {
		name string
		env  string // VANTHU_PKCS11_PIN
		// anchors replaces the --trust flags of the other cases.
		anchors []string
		args    []string
		want    string
		code    int
	}{
		{"wrong PKCS#12 password", "", nil, []string{"--user", "an", "--pkcs12", pki.P12Path(devpki.Official), "--password-file", wrongPw}, "wrong password", 1},
		{"expired certificate", "", nil, []string{"--user", "an", "--pkcs12", pki.P12Path(devpki.Expired), "--password-file", pki.PasswordPath()}, "expired", 1},
		{"foreign anchor", "", []string{"--trust", writeCerts(t, "foreign.pem", foreignCA(t))}, []string{"--user", "an", "--pkcs12", pki.P12Path(devpki.Official), "--password-file", pki.PasswordPath()}, "does not chain to a trusted anchor", 1},
		{"no anchor", "", []string{}, []string{"--user", "binh", "--external-cert", writeCerts(t, "d.pem", deputy[:2]...)}, "configure --trust", 1},
		{"trust file without certificates", "", []string{"--trust", writeFile(t, "empty.pem", "")}, []string{"--user", "binh", "--external-cert", root}, "trust anchors in", 1},
		{"PIN in the URI", "", nil, []string{"--seal", "--org", "UBND", "--pkcs11", pinURI}, "carries pin-value", 2},
		{"wrong PIN", "00000000", nil, []string{"--seal", "--org", "UBND", "--pkcs11", strings.Split(uri, "&pin-source")[0]}, "PIN", 1},
		{"unknown user", "", nil, []string{"--user", "khong", "--external-cert", root}, `no user is named "khong"`, 1},
		{"two key sources", "", nil, []string{"--user", "an", "--external-cert", root, "--pkcs12", "x.p12"}, "exactly one of", 2},
		{"seal without org", "", nil, []string{"--seal", "--external-cert", root}, "--seal binds an organisation's key", 2},
		{"PKCS#12 without password", "", nil, []string{"--user", "an", "--pkcs12", pki.P12Path(devpki.Official)}, "needs --password-file", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(keys.EnvPKCS11PIN, tc.env)
			}
			if tc.anchors != nil {
				saved := a.extra
				a.extra = tc.anchors
				defer func() { a.extra = saved }()
			}
			_, _, err := a.run("", append([]string{"key", "bind"}, tc.args...)...)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := oneLine(err)
			t.Logf("exit %d: %s", exitCode(err), msg)
			for _, secret := range []string{string(pki.Password()), "không phải mật khẩu", tok.PIN, "00000000"} {
				if strings.Contains(msg, secret) {
					t.Fatalf("message holds a secret: %s", msg)
				}
			}
			if !strings.Contains(msg, tc.want) || exitCode(err) != tc.code {
				t.Fatalf("exit %d %q, want exit %d and %q", exitCode(err), msg, tc.code, tc.want)
			}
		})
	}
}
