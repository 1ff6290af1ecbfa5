package main

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/verify/tamper"
)

// TestVerifyNegativeSerialCLI runs the built binary (so the //go:debug line
// of package main is what is tested) on a file whose trust anchor, CAs,
// signer, TSA and OCSP responder all have negative serial numbers: the
// anchor loads, the file is VALID (exit 0) and the report says why it
// warns, in Vietnamese by default and in English with --lang en.
func TestVerifyNegativeSerialCLI(t *testing.T) {
	p, err := tamper.NewPKI(time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := tamper.NegativeSerialSigned(testpdf.Bytes(testpdf.Options{Pages: 1, Text: "Cong van 12/UBND-VP"}), p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	anchor, file := filepath.Join(dir, "legacy-root.pem"), filepath.Join(dir, "legacy-signed.pdf")
	if err := os.WriteFile(anchor, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, want string }{
		{"vi", "Chấp nhận chứng thư số có số hiệu (serial) âm"},
		{"en", "certificate with a negative serial number accepted"},
	} {
		out, err := exec.Command(binary(t), "verify", "--offline", "--lang", c.lang, "--trust", anchor, file).CombinedOutput()
		if err != nil { // exit status 0 is VALID
			t.Fatalf("--lang %s: %v\n%s", c.lang, err, out)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("--lang %s: report lacks %q:\n%s", c.lang, c.want, out)
		}
	}
}
