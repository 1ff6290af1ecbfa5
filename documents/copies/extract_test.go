package copies

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
)

// TestExtractPages: the pages asked for, in that order; a page the
// original lacks is a PageError; what is not a PDF is ErrExtract.
func TestExtractPages(t *testing.T) {
	in := testpdf.Bytes(testpdf.Options{Pages: 4, Text: "trang"})
	cases := []struct {
		name  string
		pages []int
		want  int
		err   any
	}{
		{"every page", nil, 4, nil},
		{"two pages, reordered", []int{4, 2}, 2, nil},
		{"page 5 of 4", []int{5}, 0, &PageError{}},
		{"page 0", []int{0}, 0, &PageError{}},
	}
	for _, c := range cases {
		var out bytes.Buffer
		ex, err := ExtractPages(context.Background(), bytes.NewReader(in), c.pages, &out)
		var pe *PageError
		switch {
		case c.err != nil && !errors.As(err, &pe):
			t.Errorf("%s: %v, want a page error", c.name, err)
		case c.err == nil && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == nil && (ex.Pages != c.want || ex.PageW < 100 || !bytes.HasPrefix(out.Bytes(), []byte("%PDF-"))):
			t.Errorf("%s: %+v", c.name, ex)
		}
	}
	if _, err := ExtractPages(context.Background(), bytes.NewReader([]byte("not a pdf at all")), nil, io.Discard); !errors.Is(err, ErrExtract) {
		t.Fatalf("not a PDF: %v", err)
	}
}

// pdfOf writes a classic PDF of the given objects (numbered from 1, the
// first the catalog) with its cross-reference table.
func pdfOf(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

const (
	catalog = "<< /Type /Catalog /Pages 2 0 R >>"
	page3   = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
)

// hostileTrees are page trees that kept pdfcpu working without end (a
// /Count far over the pages, one page named again and again) or that it
// must not be given (cycles, depth, too many pages).
func hostileTrees() map[string][]byte {
	deep := []string{catalog}
	for i := 2; i < 2+maxTreeDepth+5; i++ {
		deep = append(deep, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", i+1))
	}
	deep = append(deep, "<< /Type /Page /MediaBox [0 0 200 200] >>")
	return map[string][]byte{
		"count of two thousand million over one page": pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R] /Count 2000000000 >>", page3),
		"one page named 200000 times":                 pdfOf(catalog, "<< /Type /Pages /Kids ["+strings.Repeat("3 0 R ", 200000)+"] /Count 200000 >>", page3),
		"one page named twice":                        pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>", page3),
		"a cycle":                                     pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>"),
		"a node its own kid":                          pdfOf(catalog, "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"),
		"a tree too deep":                             pdfOf(deep...),
		"more pages than copied":                      manyPages(maxPages + 1),
		"a count under the pages":                     pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 1 >>", page3, page3),
		"no page tree":                                pdfOf("<< /Type /Catalog >>"),
	}
}

func manyPages(n int) []byte {
	objs := []string{catalog}
	var kids strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&kids, "%d 0 R ", i+3)
	}
	objs = append(objs, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), n))
	for i := 0; i < n; i++ {
		objs = append(objs, page3)
	}
	return pdfOf(objs...)
}

// TestExtractRefusesHostileTrees: each is refused by the structural check
// with ErrExtract (a 422 on the API), before pdfcpu sees it — no
// extraction worker is taken.
func TestExtractRefusesHostileTrees(t *testing.T) {
	for name, data := range hostileTrees() {
		var out bytes.Buffer
		_, err := ExtractPages(context.Background(), bytes.NewReader(data), nil, &out)
		if !errors.Is(err, ErrExtract) {
			t.Errorf("%s: %v, want ErrExtract", name, err)
		}
		if out.Len() != 0 || len(extractSlots) != 0 {
			t.Errorf("%s: %d bytes written, %d workers taken", name, out.Len(), len(extractSlots))
		}
	}
	// The bound itself is not refused.
	if ex, err := ExtractPages(context.Background(), bytes.NewReader(manyPages(3)), []int{2}, io.Discard); err != nil || ex.Pages != 1 {
		t.Fatalf("three plain pages: %+v, %v", ex, err)
	}
}

// TestBudgeted: work over its budget is refused with ErrExtract while it
// keeps its worker until it returns, so abandoned work never piles up past
// the workers (then ErrBusy); what it writes once abandoned is refused; a
// worker comes back when its work returns. No clock is asserted: the work
// blocks until the test releases it.
func TestBudgeted(t *testing.T) {
	ctx := context.Background()
	slots := make(chan struct{}, 2)
	release := make(chan struct{})
	wrote := make(chan error, 2)
	blocked := func(w io.Writer) (Extracted, error) {
		<-release
		_, err := w.Write([]byte("late"))
		wrote <- err
		return Extracted{Pages: 1}, nil
	}
	var out bytes.Buffer
	for i := 0; i < 2; i++ {
		if _, err := budgeted(ctx, slots, time.Millisecond, &out, blocked); !errors.Is(err, ErrExtract) || errors.Is(err, ErrBusy) {
			t.Fatalf("work %d over its budget: %v", i, err)
		}
	}
	if len(slots) != 2 {
		t.Fatalf("%d workers held by abandoned work, want 2", len(slots))
	}
	if _, err := budgeted(ctx, slots, time.Millisecond, &out, blocked); !errors.Is(err, ErrBusy) {
		t.Fatalf("every worker taken: %v, want ErrBusy", err)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if err := <-wrote; err == nil {
			t.Fatal("abandoned work wrote to the output")
		}
	}
	for len(slots) > 0 {
		runtime.Gosched()
	}
	if out.Len() != 0 {
		t.Fatalf("output %q from abandoned work", out.String())
	}
	ex, err := budgeted(ctx, slots, time.Hour, &out, func(w io.Writer) (Extracted, error) {
		_, err := w.Write([]byte("%PDF-"))
		return Extracted{Pages: 3}, err
	})
	if err != nil || ex.Pages != 3 || out.String() != "%PDF-" {
		t.Fatalf("work in budget: %+v, %v, %q", ex, err, out.String())
	}
	if _, err := budgeted(ctx, slots, time.Hour, &out, func(io.Writer) (Extracted, error) { panic("boom") }); !errors.Is(err, ErrExtract) {
		t.Fatalf("a panic: %v", err)
	}
	for len(slots) > 0 {
		runtime.Gosched()
	}
}

// FuzzExtractPages: whatever the bytes, extraction answers an error or a
// PDF, never a panic or a hang. The seeds hold the page trees that kept
// pdfcpu working without end.
func FuzzExtractPages(f *testing.F) {
	f.Add(testpdf.Bytes(testpdf.Options{Pages: 2, Text: "trang"}), uint8(1))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"), uint8(0))
	f.Add(pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R] /Count 2000000000 >>", page3), uint8(0))
	f.Add(pdfOf(catalog, "<< /Type /Pages /Kids ["+strings.Repeat("3 0 R ", 2000)+"] /Count 2000 >>", page3), uint8(0))
	f.Add(pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>", page3), uint8(2))
	f.Add(pdfOf(catalog, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>"), uint8(1))
	f.Add(manyPages(3), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, page uint8) {
		if len(data) > 1<<20 {
			return
		}
		var pages []int
		if page > 0 {
			pages = []int{int(page % 8)}
		}
		_, _ = ExtractPages(context.Background(), bytes.NewReader(data), pages, io.Discard)
	})
}
