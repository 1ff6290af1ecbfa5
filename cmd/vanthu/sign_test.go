package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// signCLI runs `vanthu sign ARGS` in process with fresh flags.
func signCLI(args ...string) error {
	cmd := newSignCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

var pdfsigLine = regexp.MustCompile(`Signature Validation: (.*)`)

// pdfsigResults runs poppler's pdfsig (without certificate trust: the dev
// root is not in NSS's store) and returns each signature's validation line.
func pdfsigResults(t *testing.T, path string) []string {
	t.Helper()
	testharness.Tool(t, "pdfsig", "poppler-utils")
	out, _ := exec.Command("pdfsig", "-nocert", path).CombinedOutput()
	var res []string
	for _, m := range pdfsigLine.FindAllStringSubmatch(string(out), -1) {
		res = append(res, m[1])
	}
	if len(res) == 0 {
		t.Logf("pdfsig output:\n%s", out)
	}
	return res
}

func assertPdfsigValid(t *testing.T, path string, n int) {
	t.Helper()
	got := pdfsigResults(t, path)
	if len(got) != n {
		t.Fatalf("pdfsig lists %d signatures, want %d: %q", len(got), n, got)
	}
	for i, g := range got {
		if g != "Signature is Valid." {
			t.Fatalf("pdfsig: signature #%d: %q", i+1, g)
		}
	}
}

func writeInput(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(p, testpdf.Bytes(testpdf.Options{Pages: 1, Text: "QUYET DINH so 05/QD-UBND"}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// softHSMOfficial puts the dev PKI's official key and certificate on a fresh
// SoftHSM2 token and returns the token and the key's URI (PIN from a file).
func softHSMOfficial(t *testing.T, pki *devpki.PKI) (testharness.SoftHSMToken, string) {
	t.Helper()
	k, err := pki.Key(devpki.Official)
	if err != nil {
		t.Fatal(err)
	}
	tok := testharness.SoftHSM(t)
	return tok, testharness.ImportKey(t, tok, k, k.Chain(), "official", []byte{1})
}

// TestSignPKCS11CLI signs with a SoftHSM2 key through the real binary at
// B-LT with the dev PKI's OCSP, CRL and TSA: pdfsig and the verifier accept
// the signature, and nothing printed holds the PIN.
func TestSignPKCS11CLI(t *testing.T) {
	pki := testharness.DevPKI(t)
	tok, uri := softHSMOfficial(t, pki)
	dir := t.TempDir()
	in := writeInput(t, dir)
	out := filepath.Join(dir, "out.pdf")

	cmd := exec.Command(binary(t), "sign", in, out, "--key", uri, "--level", "B-LT",
		"--tsa", pki.TSAURL(), "--trust", filepath.Join(pki.Dir(), "root-ca.pem"), "--reason", "Ký ban hành")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tok.ConfigPath, "VANTHU_LOG_LEVEL=DEBUG")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vanthu sign: %v\n%s", err, b)
	}
	if bytes.Contains(b, []byte(tok.PIN)) {
		t.Errorf("output holds the PIN:\n%s", b)
	}
	assertPdfsigValid(t, out, 1)
	rep, err := verify.VerifyFile(context.Background(), out, verify.Options{Trust: chain.NewStore(pki.Root()), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || rep.Signatures[0].Level != "B-LT" {
		t.Fatalf("verifier (offline, embedded data only): %s, level %s: %v", rep.Verdict, rep.Signatures[0].Level, rep.Signatures[0].Errors)
	}

	// A wrong PIN in the URI itself fails with exit status 1 and a message
	// naming the key by its redacted URI, never the PIN.
	const wrongPIN = "98765432"
	bad := strings.Replace(uri, "pin-source=file:"+tok.PINFile, "pin-value="+wrongPIN, 1)
	cmd = exec.Command(binary(t), "sign", in, filepath.Join(dir, "bad.pdf"), "--key", bad)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tok.ConfigPath)
	b, err = cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("signing with a wrong PIN succeeded:\n%s", b)
	}
	if bytes.Contains(b, []byte(wrongPIN)) || bytes.Contains(b, []byte(tok.PIN)) {
		t.Errorf("error output holds a PIN: %s", b)
	}
	if !bytes.Contains(b, []byte("token="+tok.TokenLabel)) {
		t.Errorf("error output does not name the key: %s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.pdf")); !os.IsNotExist(err) {
		t.Errorf("failed signing left an output file: %v", err)
	}
}

// TestSignPKCS11PINSources: with no PIN in the URI, the PIN comes from
// --password-file, else from VANTHU_PKCS11_PIN; without either, signing
// fails saying so.
func TestSignPKCS11PINSources(t *testing.T) {
	pki := testharness.DevPKI(t)
	tok, uri := softHSMOfficial(t, pki)
	noPIN := strings.Replace(uri, "&pin-source=file:"+tok.PINFile, "", 1)
	if noPIN == uri {
		t.Fatalf("URI %s has no pin-source to drop", uri)
	}
	dir := t.TempDir()
	in := writeInput(t, dir)

	t.Run("password-file", func(t *testing.T) {
		out := filepath.Join(dir, "file.pdf")
		if err := signCLI(in, out, "--key", noPIN, "--password-file", tok.PINFile); err != nil {
			t.Fatal(err)
		}
		assertPdfsigValid(t, out, 1)
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("VANTHU_PKCS11_PIN", tok.PIN)
		out := filepath.Join(dir, "env.pdf")
		if err := signCLI(in, out, "--key", noPIN, "--level", "B-T", "--tsa", pki.TSAURL()); err != nil {
			t.Fatal(err)
		}
		assertPdfsigValid(t, out, 1)
	})
	t.Run("none", func(t *testing.T) {
		t.Setenv("VANTHU_PKCS11_PIN", "")
		os.Unsetenv("VANTHU_PKCS11_PIN")
		err := signCLI(in, filepath.Join(dir, "none.pdf"), "--key", noPIN)
		if err == nil || !strings.Contains(err.Error(), "VANTHU_PKCS11_PIN") {
			t.Fatalf("err = %v, want a missing-PIN error", err)
		}
	})
}

// TestSignPKCS12Levels signs with the PKCS#12 file at every level through
// the same code path (keys.Open), the password from the environment.
func TestSignPKCS12Levels(t *testing.T) {
	pki := testharness.DevPKI(t)
	t.Setenv("VANTHU_KEY_PASSWORD", string(pki.Password()))
	dir := t.TempDir()
	in := writeInput(t, dir)
	trust := filepath.Join(pki.Dir(), "root-ca.pem")
	for _, c := range []struct {
		level string
		n     int
	}{{"B-B", 1}, {"B-T", 1}, {"B-LT", 1}, {"B-LTA", 2}} {
		t.Run(c.level, func(t *testing.T) {
			out := filepath.Join(dir, c.level+".pdf")
			if err := signCLI(in, out, "--key", pki.P12Path(devpki.Official), "--level", c.level, "--tsa", pki.TSAURL(), "--trust", trust); err != nil {
				t.Fatal(err)
			}
			got := pdfsigResults(t, out)
			// pdfsig cannot verify the B-LTA document timestamp
			// (ETSI.RFC3161); the signature itself must be valid.
			if len(got) != c.n || got[0] != "Signature is Valid." {
				t.Fatalf("pdfsig: %q", got)
			}
			rep, err := verify.VerifyFile(context.Background(), out, verify.Options{Trust: chain.NewStore(pki.Root())})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != etsi.Valid || rep.Signatures[0].Level != c.level {
				t.Fatalf("verifier: %s, level %s: %v", rep.Verdict, rep.Signatures[0].Level, rep.Signatures[0].Errors)
			}
		})
	}
}

func TestSignUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir)
	other := filepath.Join(dir, "other-root.pem")
	if err := os.WriteFile(other, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{in, filepath.Join(dir, "o.pdf")}, "--key is required"},
		{"B-T without TSA", []string{in, filepath.Join(dir, "o.pdf"), "--key", "x.p12", "--level", "B-T", "--tsa", ""}, "needs --tsa"},
		{"bad trust file", []string{in, filepath.Join(dir, "o.pdf"), "--key", "x.p12", "--level", "B-LT", "--tsa", "http://127.0.0.1:1/tsa", "--trust", other}, "--trust"},
		{"bad URI", []string{in, filepath.Join(dir, "o.pdf"), "--key", "pkcs11:token=t;object=o?pin-value=1234&module-path=/nonexistent.so"}, "open PKCS#11 key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := signCLI(c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "pin-value=1234") {
				t.Errorf("error shows the PIN: %v", err)
			}
		})
	}
}
