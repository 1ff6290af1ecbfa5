package register_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/documents/register"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/storage"
)

// pixelCounter is a seal image that counts the pixels read from it (its
// type is none the encoder reads from the pixel slice, so every sample
// goes through At).
type pixelCounter struct {
	*image.NRGBA
	reads *atomic.Int64
}

func (c pixelCounter) At(x, y int) color.Color {
	c.reads.Add(1)
	return c.NRGBA.At(x, y)
}

// TestStoredSealReadOnce counts the seal's pixels issuing reads: a seal
// kept as a file (register.StoredSealImage) is keyed by the file's hash
// and read once, to encode it, whatever the number of issues; a bare image
// is read whole at every issue, to key its encoding by its pixels.
func TestStoredSealReadOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// A seal no other test draws, so the encodings kept are this test's.
	seal := appearance.DemoSeal(fmt.Sprintf("Ủy ban nhân dân %d", time.Now().UnixNano()))
	pixels := int64(seal.Bounds().Dx() * seal.Bounds().Dy())
	var file bytes.Buffer
	if err := png.Encode(&file, seal); err != nil {
		t.Fatal(err)
	}
	stored, err := register.DecodeSealImage(file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		image     func(reads *atomic.Int64) image.Image
		wantReads func(issues int64) int64
	}{
		{"stored seal", func(reads *atomic.Int64) image.Image {
			return &register.StoredSealImage{Image: pixelCounter{stored.Image.(*image.NRGBA), reads}, SHA256: stored.SHA256}
		}, func(int64) int64 { return pixels }},
		{"bare image", func(reads *atomic.Int64) image.Image {
			return pixelCounter{seal, reads}
		}, func(issues int64) int64 { return issues * pixels }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads atomic.Int64
			img := tc.image(&reads)
			w.svc.SealImage = func(context.Context, storage.Organization) (image.Image, error) { return img, nil }
			const issues = 3
			for i := 0; i < issues; i++ {
				d := w.signedDocument("QĐ", "thuong")
				if _, err := w.svc.Issue(ctx, w.clerk, d.ID, register.IssueRequest{Recipients: toSoTC(w)}); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := reads.Load(), tc.wantReads(issues); got != want {
				t.Errorf("%d pixels read for %d issues, want %d (%d a pass)", got, issues, want, pixels)
			}
		})
	}
}

// TestDecodeSealImage: a stored seal's content key is its file's SHA-256;
// a file that is not an image is refused.
func TestDecodeSealImage(t *testing.T) {
	var file bytes.Buffer
	if err := png.Encode(&file, image.NewNRGBA(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file []byte
		ok   bool
	}{
		{"png", file.Bytes(), true},
		{"empty", nil, false},
		{"not an image", []byte("%PDF-1.7"), false},
		{"truncated", file.Bytes()[:file.Len()/2], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := register.DecodeSealImage(tc.file)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if tc.ok && (s.Bounds().Dx() != 3 || s.Bounds().Dy() != 2) {
				t.Errorf("bounds %v", s.Bounds())
			}
		})
	}
}
