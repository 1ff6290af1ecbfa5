// Package scantest makes scanned-looking PDFs for tests: each page one
// image of a chosen pixel size and colour, drawn over the page so that it
// has a chosen resolution at 100 % scale.
package scantest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
)

// Colour is how a page's image is stored.
type Colour int

const (
	RGB     Colour = iota // DeviceRGB JPEG
	Gray                  // DeviceGray JPEG
	GrayICC               // JPEG with a one-component ICCBased space
	BiLevel               // 1-bit DeviceGray, Flate
)

// Page describes one page. Width and Height are the paper size in points
// (72 a inch); the image has DPI pixels per inch over it.
type Page struct {
	Width, Height float64
	DPI           float64
	Colour        Colour
	// InForm draws the image through a Form XObject scaled by one half,
	// with the image twice as large inside it: the same size on the page.
	InForm bool
}

// A5 is a small paper size that keeps test images quick to encode.
const (
	A5Width  = 419.53
	A5Height = 595.28
)

// Options of a generated file.
type Options struct {
	Version string // header version; "1.7" when empty
	// CatalogVersion, when set, is the catalog's /Version, which raises
	// the header's.
	CatalogVersion string
	Pages          []Page
}

// Pages returns n A5 pages at dpi in colour c.
func Pages(n int, dpi float64, c Colour) []Page {
	out := make([]Page, n)
	for i := range out {
		out[i] = Page{Width: A5Width, Height: A5Height, DPI: dpi, Colour: c}
	}
	return out
}

// PDF builds the file.
func PDF(o Options) []byte {
	if o.Version == "" {
		o.Version = "1.7"
	}
	w := &writer{}
	fmt.Fprintf(&w.buf, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", o.Version)
	// Objects: 1 catalog, 2 pages, then per page: page, content, image, (form).
	n := len(o.Pages)
	perPage := 5
	kids := ""
	for i := range o.Pages {
		kids += fmt.Sprintf("%d 0 R ", 3+i*perPage)
	}
	catalogVersion := ""
	if o.CatalogVersion != "" {
		catalogVersion = "/Version /" + o.CatalogVersion + " "
	}
	w.obj(1, "<< /Type /Catalog "+catalogVersion+"/Pages 2 0 R >>")
	w.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, n))
	for i, p := range o.Pages {
		base := 3 + i*perPage
		pw := int(p.Width/72*p.DPI + 0.5)
		ph := int(p.Height/72*p.DPI + 0.5)
		imgDict, imgData := encode(pw, ph, p.Colour, i, base+4)
		// The profile is not a real one: readers fall back on /Alternate.
		w.stream(base+4, "<< /N 1 /Alternate /DeviceGray ", nil)
		var content string
		if p.InForm {
			content = fmt.Sprintf("q 0.5 0 0 0.5 0 0 cm /Fm0 Do Q")
			w.stream(base+3, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R >> >> ", p.Width*2, p.Height*2, base+2),
				[]byte(fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", p.Width*2, p.Height*2)))
			w.obj(base, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Fm0 %d 0 R >> >> /Contents %d 0 R >>", p.Width, p.Height, base+3, base+1))
		} else {
			content = fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", p.Width, p.Height)
			w.obj(base, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>", p.Width, p.Height, base+2, base+1))
			w.obj(base+3, "null")
		}
		w.stream(base+1, "<< ", []byte(content))
		w.stream(base+2, imgDict, imgData)
	}
	return w.finish(2 + n*perPage)
}

type writer struct {
	buf     bytes.Buffer
	offsets map[int]int
}

func (w *writer) obj(num int, body string) {
	if w.offsets == nil {
		w.offsets = map[int]int{}
	}
	w.offsets[num] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", num, body)
}

// stream writes a stream; dict is an open dictionary ("<< …") that gets
// its /Length.
func (w *writer) stream(num int, dict string, data []byte) {
	if w.offsets == nil {
		w.offsets = map[int]int{}
	}
	w.offsets[num] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s/Length %d >>\nstream\n", num, dict, len(data))
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

func (w *writer) finish(last int) []byte {
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", last+1)
	for i := 1; i <= last; i++ {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", w.offsets[i])
	}
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", last+1, xref)
	return w.buf.Bytes()
}

// encode draws a simple page-like picture: a light paper tone with dark
// bands as lines of text, tinted per page so pages differ.
func encode(w, h int, c Colour, page, iccObj int) (dict string, data []byte) {
	paper := color.RGBA{250, 246, 236, 255}
	ink := color.RGBA{uint8(20 + page*40%200), 30, 120, 255}
	if c == BiLevel {
		rowBytes := (w + 7) / 8
		raw := make([]byte, rowBytes*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !inkAt(x, y, w, h) {
					raw[y*rowBytes+x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(raw)
		zw.Close()
		return fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode ", w, h), z.Bytes()
	}
	var img image.Image
	if c == RGB {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if inkAt(x, y, w, h) {
					m.SetRGBA(x, y, ink)
				} else {
					m.SetRGBA(x, y, paper)
				}
			}
		}
		img = m
	} else {
		m := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := uint8(245)
				if inkAt(x, y, w, h) {
					v = 40
				}
				m.SetGray(x, y, color.Gray{v})
			}
		}
		img = m
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		panic(err) // encoding to memory cannot fail
	}
	cs := "/DeviceRGB"
	switch c {
	case Gray:
		cs = "/DeviceGray"
	case GrayICC:
		cs = fmt.Sprintf("[/ICCBased %d 0 R]", iccObj)
	}
	return fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode ", w, h, cs), b.Bytes()
}

func inkAt(x, y, w, h int) bool {
	mx, my := w/10, h/12
	if x < mx || x > w-mx || y < my || y > h-my {
		return false
	}
	line := (y - my) % (h / 24)
	return line < h/80
}
