package appearance

import (
	"fmt"
	"io"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// Parsed is a PDF parsed once for several searches on the same bytes
// (SignatureGap, PlaceSigner, Placeholders, Anchor): a service that checks,
// places and signs a version parses it once (signing.Source). The
// package-level functions parse their input for one search each. A Parsed
// is used by one goroutine at a time.
type Parsed struct{ rd *pdf.Reader }

// ParsedReader searches the PDF rd has parsed.
func ParsedReader(rd *pdf.Reader) *Parsed { return &Parsed{rd: rd} }

// open parses r for one search; what names the search in errors.
func open(r io.ReaderAt, size int64, what string) (d *Parsed, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("%s: malformed PDF: %v", what, p)
		}
	}()
	rd, err := pdfupdate.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: open PDF: %w", what, err)
	}
	return &Parsed{rd: rd}, nil
}
