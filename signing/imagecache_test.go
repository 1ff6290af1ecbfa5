package signing

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"sync"
	"testing"

	"github.com/vanthu/vanthu/signing/appearance"
)

func TestImageCache(t *testing.T) {
	sig := appearance.DemoSignature("Trần Thị Bình")
	other := appearance.DemoSignature("Nguyễn Văn An")
	sumA, sumB := sha256.Sum256([]byte("png A")), sha256.Sum256([]byte("png B"))

	t.Run("encodes once per key", func(t *testing.T) {
		c := NewImageCache(4, 1<<20)
		e1, err := c.Encoded(sumA, sig)
		if err != nil {
			t.Fatal(err)
		}
		e2, _ := c.Encoded(sumA, sig)
		e3, _ := c.Encoded(sumB, other)
		if e1 != e2 || e1 == e3 || c.Len() != 2 {
			t.Fatalf("same key gave a new encoding or another key the same (len %d)", c.Len())
		}
	})
	t.Run("keyed by samples", func(t *testing.T) {
		c := NewImageCache(4, 1<<20)
		copyOf := image.NewNRGBA(sig.Rect)
		copy(copyOf.Pix, sig.Pix)
		e1, _ := c.Encode(sig)
		e2, _ := c.Encode(copyOf)
		if e1 != e2 {
			t.Fatal("equal pixels encoded twice")
		}
		copyOf.Pix[len(copyOf.Pix)/2+3] ^= 1 // one alpha sample
		e3, _ := c.Encode(copyOf)
		if e3 == e1 {
			t.Fatal("a changed pixel was served the cached encoding")
		}
		// An opaque image and its copy with one alpha sample below 255
		// differ as well.
		opaque := image.NewNRGBA(image.Rect(0, 0, 8, 8))
		for i := range opaque.Pix {
			opaque.Pix[i] = 0xff
		}
		o1, _ := c.Encode(opaque)
		opaque.SetNRGBA(3, 3, color.NRGBA{0xff, 0xff, 0xff, 0xfe})
		if o2, _ := c.Encode(opaque); o2 == o1 || o2.alpha == nil {
			t.Fatal("a pixel made transparent was served the opaque encoding")
		}
	})
	t.Run("bounded by entries", func(t *testing.T) {
		c := NewImageCache(2, 1<<20)
		for i := range 5 {
			if _, err := c.Encoded(sha256.Sum256([]byte{byte(i)}), sig); err != nil {
				t.Fatal(err)
			}
		}
		if c.Len() != 2 {
			t.Fatalf("%d entries, want 2", c.Len())
		}
	})
	t.Run("kept at the best level", func(t *testing.T) {
		// What is kept is drawn into every signature: the same samples
		// as EncodeImage's, in fewer bytes.
		kept, err := NewImageCache(1, 1<<20).Encoded(sumA, sig)
		if err != nil {
			t.Fatal(err)
		}
		once, _ := EncodeImage(sig)
		if kept.Size() >= once.Size() {
			t.Fatalf("kept encoding %d bytes, EncodeImage's %d", kept.Size(), once.Size())
		}
		if !bytes.Equal(inflate(t, kept.rgb), inflate(t, once.rgb)) || !bytes.Equal(inflate(t, kept.alpha), inflate(t, once.alpha)) {
			t.Fatal("the kept encoding's samples differ from EncodeImage's")
		}
	})
	t.Run("bounded by bytes", func(t *testing.T) {
		e, _ := NewImageCache(1, 1<<20).Encoded(sumA, sig)
		c := NewImageCache(100, 3*e.Size()+e.Size()/2)
		for i := range 10 {
			c.Encoded(sha256.Sum256([]byte{byte(i)}), sig)
		}
		if c.Len() != 3 || c.bytes > c.maxBytes {
			t.Fatalf("%d entries of %d bytes, want 3 within %d", c.Len(), c.bytes, c.maxBytes)
		}
		small := NewImageCache(100, e.Size()-1)
		small.Encoded(sumA, sig)
		if small.Len() != 0 {
			t.Fatal("an image larger than the whole cache was kept")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		c := NewImageCache(3, 1<<20)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 6 {
					if _, err := c.Encoded(sha256.Sum256([]byte{byte((g + i) % 5)}), sig); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if c.Len() > 3 {
			t.Fatalf("%d entries, want at most 3", c.Len())
		}
	})
}
