package scancheck_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/scancheck"
	"github.com/vanthu/vanthu/documents/scancheck/scantest"
	"github.com/vanthu/vanthu/internal/testharness"
)

// small keeps test images quick to encode: a 3 × 4 inch page.
func small(dpi float64, c scantest.Colour) scantest.Page {
	return scantest.Page{Width: 216, Height: 288, DPI: dpi, Colour: c}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		opts      scantest.Options
		wantCodes []string
		wantPages []int
		wantDPI   []float64
	}{
		{name: "three colour pages at 200 dpi", opts: scantest.Options{Pages: []scantest.Page{small(200, scantest.RGB), small(200, scantest.RGB), small(300, scantest.RGB)}}},
		{name: "PDF 1.4 is enough", opts: scantest.Options{Version: "1.4", Pages: []scantest.Page{small(200, scantest.RGB)}}},
		{name: "image through a scaled form", opts: scantest.Options{Pages: []scantest.Page{{Width: 216, Height: 288, DPI: 200, InForm: true}}}},
		{name: "PDF 1.3 refused", opts: scantest.Options{Version: "1.3", Pages: []scantest.Page{small(200, scantest.RGB)}}, wantCodes: []string{scancheck.CodeVersion}, wantPages: []int{0}},
		{name: "150 dpi on page 2", opts: scantest.Options{Pages: []scantest.Page{small(200, scantest.RGB), small(150, scantest.RGB)}},
			wantCodes: []string{scancheck.CodeResolution}, wantPages: []int{2}, wantDPI: []float64{150}},
		{name: "199 dpi refused", opts: scantest.Options{Pages: []scantest.Page{small(199, scantest.RGB)}},
			wantCodes: []string{scancheck.CodeResolution}, wantPages: []int{1}, wantDPI: []float64{199}},
		{name: "greyscale page 3", opts: scantest.Options{Pages: []scantest.Page{small(200, scantest.RGB), small(200, scantest.RGB), small(200, scantest.Gray)}},
			wantCodes: []string{scancheck.CodeNotColour}, wantPages: []int{3}},
		{name: "grey ICC profile", opts: scantest.Options{Pages: []scantest.Page{small(200, scantest.GrayICC)}},
			wantCodes: []string{scancheck.CodeNotColour}, wantPages: []int{1}},
		{name: "1-bit page", opts: scantest.Options{Pages: []scantest.Page{small(300, scantest.BiLevel)}},
			wantCodes: []string{scancheck.CodeNotColour}, wantPages: []int{1}},
		{name: "grey and low on the same page, both said", opts: scantest.Options{Pages: []scantest.Page{small(100, scantest.Gray)}},
			wantCodes: []string{scancheck.CodeNotColour, scancheck.CodeResolution}, wantPages: []int{1, 1}, wantDPI: []float64{0, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := scancheck.Check(scantest.PDF(tt.opts))
			if len(tt.wantCodes) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(rep.Pages) != len(tt.opts.Pages) {
					t.Fatalf("%d pages reported, want %d", len(rep.Pages), len(tt.opts.Pages))
				}
				for i, p := range rep.Pages {
					if want := tt.opts.Pages[i].DPI; p.DPI < want-1 || p.DPI > want+1 {
						t.Errorf("page %d: %.1f dpi, want %.0f", i+1, p.DPI, want)
					}
				}
				return
			}
			var ref *scancheck.Refusal
			if !errors.As(err, &ref) || !errors.Is(err, scancheck.ErrRefused) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if len(ref.Problems) != len(tt.wantCodes) {
				t.Fatalf("problems %+v, want codes %v", ref.Problems, tt.wantCodes)
			}
			for i, p := range ref.Problems {
				if p.Code != tt.wantCodes[i] || p.Page != tt.wantPages[i] {
					t.Errorf("problem %d = %+v, want %s on page %d", i, p, tt.wantCodes[i], tt.wantPages[i])
				}
				if tt.wantDPI != nil && p.DPI != tt.wantDPI[i] {
					t.Errorf("problem %d dpi %.0f, want %.0f", i, p.DPI, tt.wantDPI[i])
				}
				if p.Page > 0 && !strings.Contains(p.Message, "page ") {
					t.Errorf("message %q does not name the page", p.Message)
				}
			}
		})
	}
}

func TestMessageNamesPageAndDPI(t *testing.T) {
	_, err := scancheck.Check(scantest.PDF(scantest.Options{Pages: []scantest.Page{small(200, scantest.RGB), small(150, scantest.RGB)}}))
	if err == nil || !strings.Contains(err.Error(), "page 2 is scanned at 150 dpi") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotAPDF(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello"), []byte("%PDF-1.7\n%%EOF\n")} {
		_, err := scancheck.Check(in)
		var ref *scancheck.Refusal
		if !errors.As(err, &ref) || ref.Problems[0].Code != scancheck.CodeNotPDF {
			t.Errorf("Check(%q) = %v, want not_pdf", in, err)
		}
	}
}

func TestCatalogVersionRaisesHeader(t *testing.T) {
	data := scantest.PDF(scantest.Options{Version: "1.3", CatalogVersion: "1.7", Pages: []scantest.Page{small(200, scantest.RGB)}})
	rep, err := scancheck.Check(data)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if rep.Version != "1.7" {
		t.Fatalf("version %q, want 1.7", rep.Version)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(scantest.PDF(scantest.Options{Pages: []scantest.Page{{Width: 20, Height: 20, DPI: 200}}}))
	f.Add(scantest.PDF(scantest.Options{Version: "1.2", Pages: []scantest.Page{{Width: 20, Height: 30, DPI: 100, Colour: scantest.BiLevel, InForm: true}}}))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := scancheck.Check(data)
		if err == nil && rep == nil {
			t.Fatal("nil report without an error")
		}
		if err != nil && !errors.Is(err, scancheck.ErrRefused) {
			t.Fatalf("error %v is not a refusal", err)
		}
	})
}

// A document printed by Chromium (a Decree 30 draft) is not a scan: every
// page is refused for having no scanned image, with its number.
func TestPrintedDocumentIsNotAScan(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testharness.Drafts(t), "qd-chu-tich.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = scancheck.Check(data)
	var ref *scancheck.Refusal
	if !errors.As(err, &ref) || len(ref.Problems) == 0 {
		t.Fatalf("a printed draft: %v", err)
	}
	for i, p := range ref.Problems {
		if p.Code != scancheck.CodeNoImage || p.Page != i+1 {
			t.Errorf("problem %d: %+v, want no_image on page %d", i, p, i+1)
		}
	}
}
