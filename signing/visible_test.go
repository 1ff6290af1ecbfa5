package signing

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/appearance"
	"github.com/vanthu/vanthu/signing/devpki"
)

// renderPage rasterises page 1 at dpi with poppler.
func renderPage(t *testing.T, pdfPath string, dpi int) image.Image {
	t.Helper()
	tool(t, "pdftoppm", "poppler-utils")
	prefix := filepath.Join(t.TempDir(), "page")
	if b, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-f", "1", "-l", "1", "-singlefile", "-png", pdfPath, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, b)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func crop(img image.Image, r [4]float64, pageH float64, dpi int) image.Image {
	s := float64(dpi) / 72
	rect := image.Rect(int(r[0]*s+0.5), int((pageH-r[3])*s+0.5), int(r[2]*s+0.5), int((pageH-r[1])*s+0.5))
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(rect)
}

// TestVisibleAppearance signs with a Vietnamese Decree 30 appearance and
// checks that poppler's rendering of the page shows that image where asked:
// at an explicit rectangle and below anchor text.
func TestVisibleAppearance(t *testing.T) {
	const dpi, pageH = 144, 842
	spec := appearance.Spec{
		Kind: appearance.Signer, Authority: "KT. CHỦ TỊCH", Title: "PHÓ CHỦ TỊCH",
		Name: "Trần Thị Bình", SignatureImage: appearance.DemoSignature("Trần Thị Bình"),
		Time: time.Date(2026, 3, 12, 9, 41, 5, 0, time.FixedZone("+07", 7*3600)),
	}
	const w, h = 200.0, 120.0
	want, err := appearance.Render(spec, w, h, dpi)
	if err != nil {
		t.Fatal(err)
	}
	other, err := appearance.Render(appearance.Spec{Kind: appearance.Signer, Title: "CHỦ TỊCH", Name: "Nguyễn Văn An"}, w, h, dpi)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		vis  Visible
		rect [4]float64 // expected placement; zero = from the anchor
	}{
		{"explicit rectangle", Visible{Page: 1, Rect: [4]float64{340, 500, 340 + w, 500 + h}, Image: want}, [4]float64{340, 500, 340 + w, 500 + h}},
		{"below anchor text", Visible{Page: 1, Anchor: "page 1", Width: w, Height: h, Image: want}, [4]float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writePDF(t, dir, testpdf.Options{Pages: 1}, false)
			out := filepath.Join(dir, "out.pdf")
			vis := c.vis
			if err := SignFile(context.Background(), in, out, pkiKey(t, devpki.Deputy), Options{Visible: &vis, Name: spec.Name}); err != nil {
				t.Fatal(err)
			}
			assertAllValid(t, out, 1)
			qpdfCheck(t, out)
			rect := c.rect
			if rect == [4]float64{} {
				f, _ := os.Open(in)
				st, _ := f.Stat()
				a, err := appearance.FindAnchor(f, st.Size(), 1, "page 1")
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				p := appearance.PlaceRelative(a, w, h, appearance.Below, 2)
				rect = [4]float64{p.X1, p.Y1, p.X2, p.Y2}
			}
			page := renderPage(t, out, dpi)
			got := crop(page, rect, pageH, dpi)
			if s := appearance.CompareRegion(got, want, 0.3); s < 0.9 {
				t.Fatalf("rendered widget matches the appearance at %.2f, want ≥ 0.9", s)
			}
			if s := appearance.CompareRegion(got, other, 0.3); s > 0.8 {
				t.Fatalf("rendered widget also matches a different appearance (%.2f): comparison is not discriminating", s)
			}
		})
	}
}

// An image box and marks are drawn where asked inside the widget, each
// image encoded apart (the main one may come encoded beforehand), and a
// box that is empty or leaves the widget, or a mark without an image, is
// refused before anything is written.
func TestVisibleMarks(t *testing.T) {
	in := testpdf.Bytes(testpdf.Options{Pages: 1})
	key := pkiKey(t, devpki.Deputy)
	ctx := context.Background()
	seal := appearance.DemoSeal("Ủy ban nhân dân xã An Bình")
	enc, err := EncodeImage(seal)
	if err != nil {
		t.Fatal(err)
	}
	mark := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	for i := range mark.Pix {
		mark.Pix[i] = 0xff
	}
	rect := [4]float64{100, 100, 276, 200} // 176 x 100 points
	for _, c := range []struct {
		name    string
		box     [4]float64
		marks   []Mark
		encodes int64
		ok      bool
	}{
		{"image box and a mark", [4]float64{76, 0, 176, 100}, []Mark{{Box: [4]float64{0, 14, 72, 86}, Image: mark}}, 1, true},
		{"two marks, reversed corners", [4]float64{176, 100, 76, 0}, []Mark{{Box: [4]float64{72, 86, 0, 14}, Image: mark}, {Box: [4]float64{0, 0, 10, 10}, Image: mark}}, 2, true},
		{"image box outside", [4]float64{76, 0, 180, 100}, nil, 0, false},
		{"empty mark box", [4]float64{}, []Mark{{Box: [4]float64{5, 5, 5, 50}, Image: mark}}, 0, false},
		{"mark below the widget", [4]float64{}, []Mark{{Box: [4]float64{0, -5, 10, 10}, Image: mark}}, 0, false},
		{"mark without an image", [4]float64{}, []Mark{{Box: [4]float64{0, 0, 10, 10}}}, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := NewBuffer(len(in) + 64<<10)
			before := ImagesEncoded()
			err := Sign(ctx, bytes.NewReader(in), int64(len(in)), out, key, Options{Name: "UBND",
				Visible: &Visible{Page: 1, Rect: rect, Encoded: enc, ImageBox: c.box, Marks: c.marks}})
			if !c.ok {
				if err == nil {
					t.Fatal("signed, want a refusal")
				}
				if len(out.Bytes()) != 0 {
					t.Fatalf("%d bytes written before the refusal", len(out.Bytes()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := ImagesEncoded() - before; n != c.encodes {
				t.Fatalf("%d images encoded, want %d (the marks; the seal came encoded)", n, c.encodes)
			}
			path := filepath.Join(t.TempDir(), "marked.pdf")
			if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			assertAllValid(t, path, 1)
			// The white mark is drawn at its box: the page is white
			// there either way, so look at the seal's box instead: red
			// ink inside it, none left of it where only the mark is.
			const dpi, pageH = 72, 842
			page := renderPage(t, path, dpi)
			if !hasInk(crop(page, [4]float64{176, 100, 276, 200}, pageH, dpi)) {
				t.Fatal("no seal drawn in its box")
			}
			if hasInk(crop(page, [4]float64{100, 100, 172, 200}, pageH, dpi)) {
				t.Fatal("ink left of the seal's box")
			}
		})
	}
}

// hasInk reports whether img has a pixel that is not near white.
func hasInk(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xd000 || g < 0xd000 || bl < 0xd000 {
				return true
			}
		}
	}
	return false
}
