package signing

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// TestOneParsePerSignature counts the parses (pdfupdate.Parses) of a
// visible signature placed below anchor text: a Source opened once serves
// the lock check, the text search and the signature, and Sign alone parses
// its input once too (the anchor is searched on the signature's parse).
// Not parallel: the count is the process's.
func TestOneParsePerSignature(t *testing.T) {
	dir := t.TempDir()
	in, err := os.ReadFile(writePDF(t, dir, testpdf.Options{Pages: 2}, false))
	if err != nil {
		t.Fatal(err)
	}
	key := pkiKey(t, devpki.Deputy)
	img := appearance.DemoSignature("Trần Thị Bình")
	vis := func() *Visible { return &Visible{Page: 1, Anchor: "page 1", Width: 150, Height: 60, Image: img} }
	ctx := context.Background()
	cases := []struct {
		name string
		sign func(out *Buffer) error
	}{
		{"Sign", func(out *Buffer) error {
			return Sign(ctx, bytes.NewReader(in), int64(len(in)), out, key, Options{Visible: vis()})
		}},
		{"Source: check, search, sign", func(out *Buffer) error {
			src, err := OpenSource(bytes.NewReader(in), int64(len(in)))
			if err != nil {
				return err
			}
			if err := src.CheckLocked(); err != nil {
				return err
			}
			a, err := src.Appearance().Anchor(1, "page 1")
			if err != nil {
				return err
			}
			r := appearance.PlaceRelative(a, 150, 60, appearance.Below, 2)
			if _, err := src.Appearance().PlaceSigner(appearance.Spec{Kind: appearance.Signer, Name: "Trần Thị Bình"}, 1, &r, 100); err != nil {
				return err
			}
			return src.Sign(ctx, out, key, Options{Visible: vis()})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := NewBuffer(len(in) + 64<<10)
			before := pdfupdate.Parses()
			if err := c.sign(out); err != nil {
				t.Fatal(err)
			}
			if n := pdfupdate.Parses() - before; n != 1 {
				t.Fatalf("%d parses of the input, want 1", n)
			}
			path := filepath.Join(t.TempDir(), "out.pdf")
			if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			assertAllValid(t, path, 1)
		})
	}
}
