package signing

import (
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
