package main

import (
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/rendercheck"
	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/signing"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/verify"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/etsi"
)

// writeSignatureImage writes name's demo handwritten signature as a
// transparent PNG.
func writeSignatureImage(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, "signature.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, appearance.DemoSignature(name)); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignDraftsAsDecree30Draws signs the Chromium-printed drafts as their
// signers with `vanthu sign --visible --image`: the signer's name is found on
// the last page, only the handwritten image is drawn, in the gap between the
// printed title and name (the rendered last page differs nowhere else), and
// the file is VALID for the verifier and pdfsig.
func TestSignDraftsAsDecree30Draws(t *testing.T) {
	pki := testharness.DevPKI(t)
	cases := []struct{ file, who, name string }{
		{"qd-chu-tich.pdf", devpki.Official, "Nguyễn Văn An"},
		{"qd-kt-pho-chu-tich.pdf", devpki.Deputy, "Trần Thị Bình"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(testharness.Drafts(t), c.file)
			out := filepath.Join(dir, "signed.pdf")
			if err := signCLI(in, out, "--key", pki.P12Path(c.who), "--password-file", pki.PasswordPath(),
				"--level", "B-T", "--tsa", pki.TSAURL(), "--visible", "--image", writeSignatureImage(t, dir, c.name)); err != nil {
				t.Fatalf("vanthu sign: %v", err)
			}
			before, _ := os.ReadFile(in)
			after, _ := os.ReadFile(out)
			area := rendercheck.AssertOnlyInNameGap(t, before, after, c.name)
			t.Logf("drawn in %s", area)
			rep, err := verify.VerifyFile(context.Background(), out, verify.Options{Trust: chain.NewStore(pki.Root())})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != etsi.Valid {
				t.Fatalf("verifier: %s", rep.Verdict)
			}
			assertPdfsigValid(t, out, 1)
		})
	}
}

// TestSignPlacementRefusals: without a place for the signature the CLI asks
// for --page and --rect; with --rect a document that prints no name gets the
// whole block.
func TestSignPlacementRefusals(t *testing.T) {
	pki := testharness.DevPKI(t)
	dir := t.TempDir()
	img := writeSignatureImage(t, dir, "Nguyễn Văn An")
	key := []string{"--key", pki.P12Path(devpki.Official), "--password-file", pki.PasswordPath()}
	draft := filepath.Join(testharness.Drafts(t), "qd-chu-tich.pdf")
	plain := writeInput(t, dir)
	cases := []struct {
		name string
		in   string
		args []string
		want string
	}{
		{"name printed nowhere", plain, []string{"--visible", "--image", img}, "--rect"},
		{"another signer's draft", filepath.Join(testharness.Drafts(t), "qd-kt-pho-chu-tich.pdf"), []string{"--visible", "--image", img}, "not found"},
		{"no image for a printed block", draft, []string{"--visible"}, "--image"},
		{"bad rect", draft, []string{"--visible", "--rect", "1,2,3", "--image", img}, "x1,y1,x2,y2"},
		{"empty rect", draft, []string{"--visible", "--rect", "1,2,1,9", "--image", img}, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pdf")
			err := signCLI(append(append([]string{c.in, out}, key...), c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one mentioning %q", err, c.want)
			}
			if _, serr := os.Stat(out); !os.IsNotExist(serr) {
				t.Fatalf("a refused signature left %s", out)
			}
		})
	}
	// A rectangle on a document that prints no name: the whole block.
	out := filepath.Join(dir, "block.pdf")
	if err := signCLI(append(append([]string{plain, out}, key...), "--visible", "--page", "1", "--rect", "330,520,530,640", "--title", "CHỦ TỊCH", "--image", img)...); err != nil {
		t.Fatal(err)
	}
	assertPdfsigValid(t, out, 1)
}

// TestSignRefusesALockedDocument: after the organisation's signature locks
// every field, and after a DocMDP P=1 certification, `vanthu sign` refuses
// with the reason and writes nothing; --force signs anyway.
func TestSignRefusesALockedDocument(t *testing.T) {
	pki := testharness.DevPKI(t)
	dir := t.TempDir()
	in := writeInput(t, dir)
	official := []string{"--key", pki.P12Path(devpki.Official), "--password-file", pki.PasswordPath()}
	seal := []string{"--key", pki.P12Path(devpki.Seal), "--password-file", pki.PasswordPath()}
	signed := filepath.Join(dir, "signed.pdf")
	sealed := filepath.Join(dir, "sealed.pdf")
	certified := filepath.Join(dir, "certified.pdf")
	for _, step := range [][]string{
		append([]string{in, signed}, official...),
		append(append([]string{signed, sealed}, seal...), "--lock"),
		append(append([]string{in, certified}, official...), "--certify", "1"),
	} {
		if err := signCLI(step...); err != nil {
			t.Fatalf("%v: %v", step[:2], err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{sealed, "locks every field"},
		{certified, "DocMDP P=1"},
	} {
		out := filepath.Join(dir, "again.pdf")
		err := signCLI(append([]string{c.in, out}, official...)...)
		if !errors.Is(err, signing.ErrLocked) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("signing %s: %v, want ErrLocked saying %q and naming --force", filepath.Base(c.in), err, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("a refused signature left %s", out)
		}
		if err := signCLI(append(append([]string{c.in, out}, official...), "--force")...); err != nil {
			t.Fatalf("--force: %v", err)
		}
		os.Remove(out)
	}
}
