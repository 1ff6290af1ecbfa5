// Package testpdf writes small, valid PDFs for tests and benchmarks: a given
// number of pages with a line of text each, optionally padded with a binary
// stream to reach a target size. It streams, so a 200 MB file costs no memory.
package testpdf

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
)

// Options shape the generated file.
type Options struct {
	Pages int    // at least 1
	Text  string // drawn on every page (WinAnsi subset: keep it ASCII)
	Size  int64  // pad with an unreferenced-looking image stream up to about this size
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Write streams the PDF to w.
func Write(w io.Writer, o Options) error {
	if o.Pages < 1 {
		o.Pages = 1
	}
	if o.Text == "" {
		o.Text = "vanthu test document"
	}
	cw := &countingWriter{w: w}
	var offsets []int64
	obj := func(body func()) {
		offsets = append(offsets, cw.n)
		fmt.Fprintf(cw, "%d 0 obj\n", len(offsets))
		body()
		fmt.Fprint(cw, "\nendobj\n")
	}
	fmt.Fprint(cw, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 pages, 3 font, 4 padding image, then page/content pairs.
	kids := &bytes.Buffer{}
	for i := 0; i < o.Pages; i++ {
		fmt.Fprintf(kids, "%d 0 R ", 5+2*i)
	}
	obj(func() { fmt.Fprint(cw, "<< /Type /Catalog /Pages 2 0 R >>") })
	obj(func() { fmt.Fprintf(cw, "<< /Type /Pages /Kids [%s] /Count %d >>", kids, o.Pages) })
	obj(func() {
		fmt.Fprint(cw, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	})
	pad := o.Size - 2048 - int64(o.Pages)*300
	if pad < 0 {
		pad = 0
	}
	obj(func() {
		fmt.Fprintf(cw, "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n", pad)
		_, _ = io.CopyN(cw, rand.New(rand.NewSource(pad)), pad)
		fmt.Fprint(cw, "\nendstream")
	})
	for i := 0; i < o.Pages; i++ {
		content := fmt.Sprintf("BT /F1 14 Tf 72 760 Td (%s - page %d) Tj ET", o.Text, i+1)
		obj(func() {
			fmt.Fprintf(cw, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Pad 4 0 R >> >> /Contents %d 0 R >>", 6+2*i)
		})
		obj(func() { fmt.Fprintf(cw, "<< /Length %d >>\nstream\n%s\nendstream", len(content)+0, content) })
	}
	xref := cw.n
	fmt.Fprintf(cw, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(cw, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(cw, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return cw.err
}

// Bytes returns the whole PDF in memory.
func Bytes(o Options) []byte {
	var b bytes.Buffer
	_ = Write(&b, o)
	return b.Bytes()
}
