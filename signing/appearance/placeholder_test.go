package appearance

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
)

// The blanks of the number and the date on the Chromium-printed Decree 30
// drafts, at poppler's word boxes ("Số:" ends at 128.45, "/QĐ-UBND" starts
// at 151.20; "ngày" ends at 357.86, "tháng" spans 377.35–406.95, "năm"
// starts at 426.45), and none on a page that prints no placeholder.
func TestFindPlaceholders(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.5 }
	for _, file := range []string{"qd-chu-tich.pdf", "qd-kt-pho-chu-tich.pdf"} {
		b, err := os.ReadFile(filepath.Join(testharness.Drafts(t), file))
		if err != nil {
			t.Fatal(err)
		}
		ph, err := FindPlaceholders(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if ph.Number == nil || ph.Day == nil || ph.Month == nil || ph.Year != 2026 || ph.Page != 1 {
			t.Fatalf("%s: %+v", file, ph)
		}
		for _, c := range []struct {
			name   string
			s      *Slot
			x1, x2 float64
		}{{"number", ph.Number, 128.45, 151.20}, {"day", ph.Day, 357.86, 377.35}, {"month", ph.Month, 406.95, 426.45}} {
			if !near(c.s.Rect.X1, c.x1) || !near(c.s.Rect.X2, c.x2) || !near(c.s.Size, 13) || c.s.Baseline < c.s.Rect.Y1 || c.s.Baseline > c.s.Rect.Y2 {
				t.Errorf("%s: %s blank %+v, want x %.2f–%.2f at 13 pt", file, c.name, *c.s, c.x1, c.x2)
			}
		}
	}
	plain := testpdf.Bytes(testpdf.Options{Text: "QUYET DINH So: 05/QD-UBND ngay 05 thang 3 nam 2020"})
	ph, err := FindPlaceholders(bytes.NewReader(plain), int64(len(plain)))
	if err != nil || ph.Number != nil || ph.Day != nil || ph.Month != nil {
		t.Fatalf("a page without blanks: %+v %v", ph, err)
	}
	if _, err := FindPlaceholders(bytes.NewReader([]byte("%PDF-1.7\n garbage")), 17); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestTextWidth(t *testing.T) {
	w, err := TextWidth("05", 13)
	if err != nil || math.Abs(w-13) > 0.01 { // Times digits are half an em
		t.Fatalf("width of 05 at 13 pt: %v %v", w, err)
	}
}
