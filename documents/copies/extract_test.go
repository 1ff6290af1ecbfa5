package copies

import (
	"bytes"
	"errors"
	"io"
	"testing"

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
		ex, err := ExtractPages(bytes.NewReader(in), c.pages, &out)
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
	if _, err := ExtractPages(bytes.NewReader([]byte("not a pdf at all")), nil, io.Discard); !errors.Is(err, ErrExtract) {
		t.Fatalf("not a PDF: %v", err)
	}
}

// FuzzExtractPages: whatever the bytes, extraction answers an error or a
// PDF, never a panic or a hang.
func FuzzExtractPages(f *testing.F) {
	f.Add(testpdf.Bytes(testpdf.Options{Pages: 2, Text: "trang"}), uint8(1))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, page uint8) {
		if len(data) > 1<<20 {
			return
		}
		var pages []int
		if page > 0 {
			pages = []int{int(page % 8)}
		}
		_, _ = ExtractPages(bytes.NewReader(data), pages, io.Discard)
	})
}
