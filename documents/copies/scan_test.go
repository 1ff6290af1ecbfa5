package copies_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents"
	"github.com/vanthu/vanthu/documents/copies"
	"github.com/vanthu/vanthu/documents/publicverify"
)

// scanPDF is a scanned paper original as a scanner writes it: pages of
// widthPt×heightPt points, each a colour JPEG drawn over the whole page at
// dpi.
func scanPDF(t *testing.T, pages int, widthPt, heightPt float64, dpi int) []byte {
	t.Helper()
	w, h := int(widthPt*float64(dpi)/72), int(heightPt*float64(dpi)/72)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(200 + x%50), uint8(180 + y%70), 150, 255})
		}
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			b.WriteString("\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	kids := make([]string, pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 4+3*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages), nil)
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>", w, h, jpg.Len()), jpg.Bytes())
	for i := 0; i < pages; i++ {
		content := fmt.Sprintf("q %g 0 0 %g 0 0 cm /Im0 Do Q", widthPt, heightPt)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources << /XObject << /Im0 3 0 R >> >> /Contents %d 0 R >>", widthPt, heightPt, 5+3*i), nil)
		obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
		obj("<< >>", nil) // keeps the numbering regular
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// TestCopyFromScan: a SAO Y of a scanned paper original is checked first
// (a refusal takes no number and stores nothing), then numbered, VALID,
// linked to the original's description and found publicly; a TRÍCH SAO
// takes the chosen page of the scan.
func TestCopyFromScan(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	scan := scanPDF(t, 2, 298, 420, 200) // A6 at 200 dpi
	req := copies.ScanRequest{Form: "SY", Original: "Giấy chứng nhận số 12/GCN-UBND ngày 01/3/2026 của UBND xã An Bình", Subject: "Giấy chứng nhận quyền sử dụng đất"}

	if _, err := w.svc.MakeFromScan(ctx, w.clerk, req, bytes.NewReader(scan)); !errors.Is(err, copies.ErrNoScanCheck) {
		t.Fatalf("without a scan check: %v", err)
	}
	refusal := errors.New("page 2: 150 dpi, at least 200 dpi needed")
	checked := 0
	w.svc.CheckScan = func(pdf []byte) error {
		checked++
		if !bytes.Equal(pdf, scan) {
			return errors.New("the check saw other bytes than the upload")
		}
		if checked == 1 {
			return refusal
		}
		return nil
	}
	_, err := w.svc.MakeFromScan(ctx, w.clerk, req, bytes.NewReader(scan))
	if !errors.Is(err, copies.ErrScanRefused) || !strings.Contains(err.Error(), "page 2: 150 dpi") {
		t.Fatalf("refused scan: %v", err)
	}
	if n := count(t, w.db, "SELECT count(*) FROM documents WHERE type_code = 'SY'") + count(t, w.db, "SELECT count(*) FROM register_counters"); n != 0 {
		t.Fatalf("a refused scan left %d documents or counters", n)
	}
	var input *documents.InputError
	if _, err := w.svc.MakeFromScan(ctx, w.clerk, copies.ScanRequest{Form: "SY", Subject: "x"}, bytes.NewReader(scan)); !errors.As(err, &input) {
		t.Fatalf("without a description of the original: %v", err)
	}
	if _, err := w.svc.MakeFromScan(ctx, w.drafter, req, bytes.NewReader(scan)); err == nil {
		t.Fatal("a drafter copied a paper original")
	}

	c, err := w.svc.MakeFromScan(ctx, w.clerk, req, bytes.NewReader(scan))
	if err != nil {
		t.Fatal(err)
	}
	if c.Symbol != "01/SY-UBND" || c.OriginalID != "" || c.Subject != req.Subject {
		t.Fatalf("copy of a scan: %+v", c)
	}
	pdf := w.file(c)
	w.valid("SAO Y of a scan", pdf, 1)
	if n := pageCount(t, pdf); n != 2 {
		t.Fatalf("%d pages, want 2", n)
	}
	a, err := w.pub.BySHA256(ctx, c.SHA256)
	if err != nil || !a.Found || a.CopyOf == nil || a.CopyOf.Description != req.Original || a.Kind != publicverify.KindCopy {
		t.Fatalf("public answer: %+v %v", a, err)
	}

	req.Form, req.Pages = "TrS", []int{2}
	trs, err := w.svc.MakeFromScan(ctx, w.clerk, req, bytes.NewReader(scan))
	if err != nil {
		t.Fatal(err)
	}
	if trs.Symbol != "02/TrS-UBND" || pageCount(t, w.file(trs)) != 1 {
		t.Fatalf("TRÍCH SAO of a scan: %+v", trs)
	}
}
