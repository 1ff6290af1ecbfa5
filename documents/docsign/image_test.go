package docsign

import (
	"bytes"
	"errors"
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
