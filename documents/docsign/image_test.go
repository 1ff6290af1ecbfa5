package docsign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/vanthu/vanthu/signing/appearance"
)

func encode(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeSignaturePNG(t *testing.T) {
	opaque := image.NewRGBA(image.Rect(0, 0, 30, 10))
	for i := range opaque.Pix {
		opaque.Pix[i] = 0xff
	}
	paletted := image.NewPaletted(image.Rect(0, 0, 30, 10), color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{0, 0, 128, 255}})
	gray := image.NewGray(image.Rect(0, 0, 30, 10))
	tall := image.NewNRGBA(image.Rect(0, 0, 10, MaxImageHeight+1))
	good := encode(t, appearance.DemoSignature("Nguyễn Văn An"))
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"demo signature", good, nil},
		{"palette with a transparent entry", encode(t, paletted), nil},
		{"opaque RGBA", encode(t, opaque), ErrBadImage},
		{"gray, no alpha", encode(t, gray), ErrBadImage},
		{"too tall", encode(t, tall), ErrBadImage},
		{"JPEG magic", []byte("\xff\xd8\xff\xe0 not a png"), ErrBadImage},
		{"empty", nil, ErrBadImage},
		{"truncated", good[:100], ErrBadImage},
		{"over the byte limit", append(append([]byte{}, good...), make([]byte, MaxImageBytes)...), ErrImageTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := decodeSignaturePNG(c.in)
			if c.want == nil {
				if err != nil || img == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzDecodeSignaturePNG: no input panics the check of uploaded images.
func FuzzDecodeSignaturePNG(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeSignaturePNG(b)
	})
}

// The decoded handwritten signatures are kept by the SHA-256 of their
// PNG: the same bytes decode once, other bytes are decoded as themselves,
// a PNG that does not decode is refused every time, and the pixels kept
// stay under the bound. Each signer's last image is known by its SHA-256
// (heldFor, for the opening to leave its PNG out) while it is kept.
func TestDecodedSignaturesKept(t *testing.T) {
	c := &decodedCache{max: 3 * 4 * 600 * 220}
	an := encode(t, appearance.DemoSignature("Nguyễn Văn An"))
	binh := encode(t, appearance.DemoSignature("Trần Thị Bình"))
	if held := c.heldFor("an"); held != "" {
		t.Fatalf("an's image held before it was decoded: %s", held)
	}
	anSum := sha256.Sum256(an)
	first, err := c.decode("an", anSum, an)
	if err != nil {
		t.Fatal(err)
	}
	if held := c.heldFor("an"); held != hex.EncodeToString(anSum[:]) || c.get(anSum) != first {
		t.Fatalf("an's image held as %q", held)
	}
	again, err := c.decode("an", anSum, an)
	if err != nil || again != first {
		t.Fatalf("the same PNG was decoded again (%v)", err)
	}
	other, err := c.decode("binh", sha256.Sum256(binh), binh)
	if err != nil || other == first {
		t.Fatalf("another PNG answered with the first's image (%v)", err)
	}
	broken := append(bytes.Clone(an[:len(an)/2]), 0)
	for range 2 {
		if _, err := c.decode("an", sha256.Sum256(broken), broken); err == nil {
			t.Fatal("a broken PNG decoded")
		}
	}
	for i := range 10 {
		b := encode(t, appearance.DemoSignature(fmt.Sprint("Người ký ", i)))
		if _, err := c.decode(fmt.Sprint("signer-", i), sha256.Sum256(b), b); err != nil {
			t.Fatal(err)
		}
		if c.used > c.max {
			t.Fatalf("%d bytes of pixels kept, bound %d", c.used, c.max)
		}
	}
	// Started again when full: an's image is no longer held, and the
	// opening reads its PNG again.
	if held := c.heldFor("an"); held != "" || c.get(anSum) != nil {
		t.Fatalf("an's image still held after the cache started again: %q", held)
	}
}
