package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

func writePNG(t *testing.T, path string, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// `vanthu sign --seal --number --date` lays the organisation's signature out
// as issuing does: on a Decree 30 draft signed by its signer, page 1 changes
// only right after "Số:", on the date line and where the seal covers the
// left third of the signer's image (no caption, nothing centred under a
// text), and both signatures are VALID in the verifier and in pdfsig.
func TestSignSealLikeIssuing(t *testing.T) {
	pki := testharness.DevPKI(t)
	t.Setenv("VANTHU_KEY_PASSWORD", string(pki.Password()))
	dir := t.TempDir()
	draft := filepath.Join(testharness.Drafts(t), "qd-chu-tich.pdf")
	sig := writePNG(t, filepath.Join(dir, "signature.png"), appearance.DemoSignature("Nguyễn Văn An"))
	seal := writePNG(t, filepath.Join(dir, "seal.png"), appearance.DemoSeal("Ủy ban nhân dân tỉnh Mẫu"))
	signedPath, sealedPath := filepath.Join(dir, "signed.pdf"), filepath.Join(dir, "sealed.pdf")
	if err := signCLI(draft, signedPath, "--key", pki.P12Path(devpki.Official), "--visible", "--image", sig, "--name", "Nguyễn Văn An"); err != nil {
		t.Fatalf("signer: %v", err)
	}
	for _, bad := range [][]string{
		{"--seal", seal, "--anchor", "Nguyễn Văn An"},
		{"--number", "5"},
		{"--seal", seal, "--date", "5/2/2026"},
		{"--seal", seal, "--number", "-1"},
	} {
		args := append([]string{signedPath, sealedPath, "--key", pki.P12Path(devpki.Seal)}, bad...)
		if err := signCLI(args...); err == nil {
			t.Fatalf("sign %v accepted", bad)
		}
	}
	if _, err := os.Stat(sealedPath); !os.IsNotExist(err) {
		t.Fatalf("a refused seal wrote its output: %v", err)
	}
	if err := signCLI(signedPath, sealedPath, "--key", pki.P12Path(devpki.Seal), "--seal", seal, "--number", "7", "--date", "2026-02-05"); err != nil {
		t.Fatalf("seal: %v", err)
	}
	signed, err := os.ReadFile(signedPath)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := os.ReadFile(sealedPath)
	if err != nil {
		t.Fatal(err)
	}
	word := func(s string) rendercheck.Box {
		b, ok := rendercheck.WordBox(t, signed, 1, s)
		if !ok {
			t.Fatalf("%q not printed on page 1", s)
		}
		return b
	}
	so, symbol, ngay, nam := word("Số:"), word("/QĐ-UBND"), word("ngày"), word("năm")
	page, w, err := register.SignerWidget(bytes.NewReader(signed), int64(len(signed)))
	if err != nil || page != 1 {
		t.Fatalf("signer's widget on page %d: %v", page, err)
	}
	h := rendercheck.PageHeight(t, signed, 1)
	dia := 36 / 25.4 * 72
	right, cy := w.X1+w.W()/3, h-(w.Y1+w.Y2)/2
	rendercheck.AssertChangesOnlyIn(t, signed, sealed, 1,
		rendercheck.Box{X1: so.X2, Y1: so.Y1, X2: symbol.X1, Y2: so.Y2},
		rendercheck.Box{X1: ngay.X2, Y1: ngay.Y1, X2: nam.X1, Y2: ngay.Y2},
		rendercheck.Box{X1: right - dia, Y1: cy - dia/2, X2: right, Y2: cy + dia/2})

	rep, err := verify.Verify(context.Background(), bytes.NewReader(sealed), int64(len(sealed)), verify.Options{Trust: chain.NewStore(pki.Root())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != etsi.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("verifier: %s with %d signatures: %v", rep.Verdict, len(rep.Signatures), rep.Errors)
	}
	for _, s := range rep.Signatures {
		if s.Indication != etsi.TotalPassed {
			t.Fatalf("signature %s: %s %s", s.Field, s.Indication, s.SubIndication)
		}
	}
	assertPdfsigValid(t, sealedPath, 2)
}
