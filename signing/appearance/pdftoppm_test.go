package appearance

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// imagePDF places img (with its alpha as a soft mask) at r on an A4 page,
// the way the signing engine puts an appearance into a widget.
func imagePDF(t *testing.T, img *image.NRGBA, r Rect) []byte {
	t.Helper()
	b := img.Bounds()
	var rgb, alpha bytes.Buffer
	zr, za := zlib.NewWriter(&rgb), zlib.NewWriter(&alpha)
	for i := 0; i < len(img.Pix); i += 4 {
		zr.Write(img.Pix[i : i+3])
		za.Write(img.Pix[i+3 : i+4])
	}
	zr.Close()
	za.Close()
	content := fmt.Sprintf("q %.3f 0 0 %.3f %.3f %.3f cm /Im1 Do Q", r.W(), r.H(), r.X1, r.Y1)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
		stream("", content),
		stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /SMask 6 0 R", b.Dx(), b.Dy()), rgb.String()),
		stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", b.Dx(), b.Dy()), alpha.String()),
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return out.Bytes()
}

// pdftoppmPage renders page 1 at dpi.
func pdftoppmPage(t *testing.T, doc []byte, dpi int) image.Image {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm is needed by this test; install it with: apt-get install -y poppler-utils")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-singlefile", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode pdftoppm output: %v", err)
	}
	return img
}

// crop cuts the PDF rectangle r out of a page rendered at dpi.
func crop(page image.Image, r Rect, pageH float64, dpi int) image.Image {
	k := float64(dpi) / 72
	px := image.Rect(int(r.X1*k+0.5), int((pageH-r.Y2)*k+0.5), int(r.X2*k+0.5), int((pageH-r.Y1)*k+0.5))
	return page.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(px)
}

// TestCompareRegionOnPdftoppmCrop is the check the signing engine runs on a
// signed PDF: a poppler rendering of the placed appearance matches Render,
// and the same crop does not match a different appearance.
func TestCompareRegionOnPdftoppmCrop(t *testing.T) {
	const dpi = 110
	spec := Spec{Kind: Copy, Organization: "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", Time: time.Date(2026, 3, 12, 2, 41, 5, 0, time.UTC), Lines: []string{"SAO Y", "Số: 12/SY-UBND"}}
	r := CopyRect(595, 842)
	img, err := Render(spec, r.W(), r.H(), dpi)
	if err != nil {
		t.Fatal(err)
	}
	got := crop(pdftoppmPage(t, imagePDF(t, img, r), dpi), r, 842, dpi)
	if s := CompareRegion(got, img, 0.3); s < 0.9 {
		t.Errorf("pdftoppm crop vs Render: similarity %.3f, want ≥ 0.9", s)
	}
	other := spec
	other.Organization = "SỞ TƯ PHÁP"
	other.Time = time.Date(2025, 11, 20, 8, 17, 44, 0, time.UTC)
	other.Lines = []string{"TRÍCH SAO", "Số: 87/TrS-STP"}
	otherImg, err := Render(other, r.W(), r.H(), dpi)
	if err != nil {
		t.Fatal(err)
	}
	if s := CompareRegion(got, otherImg, 0.3); s > 0.7 {
		t.Errorf("pdftoppm crop vs a different appearance: similarity %.3f, want ≤ 0.7", s)
	} else {
		t.Logf("different appearance: similarity %.3f", s)
	}
}
