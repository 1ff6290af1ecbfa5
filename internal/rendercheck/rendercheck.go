// Package rendercheck holds the test checks of what a signature draws on a
// page, with poppler's tools as the independent judge: the last page is
// rendered before and after signing (pdftoppm) and every changed pixel must
// lie in the gap between the printed title and the printed name, located from
// poppler's own word boxes (pdftotext -bbox). Tests only.
package rendercheck

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/text/unicode/norm"
)

// Word is a word box from pdftotext -bbox, in points from the page's top left.
type Word struct {
	Text                   string
	XMin, YMin, XMax, YMax float64
}

func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed by this test; install it with: apt-get install -y poppler-utils", name)
	}
	return p
}

// Pages returns the page count (pdfinfo).
func Pages(t testing.TB, pdf []byte) int {
	t.Helper()
	out, err := exec.Command(tool(t, "pdfinfo"), writeTemp(t, pdf)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err == nil {
				return n
			}
		}
	}
	t.Fatalf("pdfinfo gave no page count:\n%s", out)
	return 0
}

func writeTemp(t testing.TB, b []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

// Words returns the words of page n.
func Words(t testing.TB, pdf []byte, n int) []Word {
	t.Helper()
	p := strconv.Itoa(n)
	out, err := exec.Command(tool(t, "pdftotext"), "-bbox", "-f", p, "-l", p, writeTemp(t, pdf), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	var doc struct {
		Words []struct {
			XMin float64 `xml:"xMin,attr"`
			YMin float64 `xml:"yMin,attr"`
			XMax float64 `xml:"xMax,attr"`
			YMax float64 `xml:"yMax,attr"`
			Text string  `xml:",chardata"`
		} `xml:"body>doc>page>word"`
	}
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("pdftotext -bbox output: %v", err)
	}
	var ws []Word
	for _, w := range doc.Words {
		ws = append(ws, Word{norm.NFC.String(w.Text), w.XMin, w.YMin, w.XMax, w.YMax})
	}
	return ws
}

// Render renders page n at dpi (pdftoppm).
func Render(t testing.TB, pdf []byte, n, dpi int) image.Image {
	t.Helper()
	dir := t.TempDir()
	p := strconv.Itoa(n)
	out, err := exec.Command(tool(t, "pdftoppm"), "-png", "-r", strconv.Itoa(dpi), "-f", p, "-l", p, "-singlefile", writeTemp(t, pdf), filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
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

// Box is a rectangle in points from the page's top left.
type Box struct{ X1, Y1, X2, Y2 float64 }

func (b Box) String() string { return fmt.Sprintf("[%.1f %.1f %.1f %.1f]", b.X1, b.Y1, b.X2, b.Y2) }

// NameGap finds name printed on page n (its words in order on one line) and
// the nearest printed line above it in its column, and returns the gap
// between them: from the bottom of that line to the top of the name, as wide
// as the two lines plus margin.
func NameGap(t testing.TB, pdf []byte, n int, name string) (gap, nameBox, titleBox Box) {
	t.Helper()
	ws := Words(t, pdf, n)
	want := strings.Fields(norm.NFC.String(name))
	found := -1
	for i := 0; i+len(want) <= len(ws); i++ {
		ok := true
		for j, w := range want {
			if ws[i+j].Text != w {
				ok = false
				break
			}
		}
		if ok {
			if found >= 0 {
				t.Fatalf("%q printed twice on page %d", name, n)
			}
			found = i
		}
	}
	if found < 0 {
		t.Fatalf("%q not printed on page %d", name, n)
	}
	nameBox = Box{ws[found].XMin, ws[found].YMin, ws[found].XMax, ws[found].YMax}
	for _, w := range ws[found : found+len(want)] {
		nameBox = Box{min(nameBox.X1, w.XMin), min(nameBox.Y1, w.YMin), max(nameBox.X2, w.XMax), max(nameBox.Y2, w.YMax)}
	}
	titleBox = Box{Y2: -1}
	for _, w := range ws {
		if w.YMax > nameBox.Y1 || w.XMax < nameBox.X1-40 || w.XMin > nameBox.X2+40 {
			continue
		}
		if w.YMax > titleBox.Y2 {
			titleBox = Box{w.XMin, w.YMin, w.XMax, w.YMax}
		}
	}
	if titleBox.Y2 < 0 {
		t.Fatalf("nothing printed above %q on page %d", name, n)
	}
	for _, w := range ws {
		if w.YMin == titleBox.Y1 && w.XMax >= nameBox.X1-120 && w.XMin <= nameBox.X2+120 {
			titleBox = Box{min(titleBox.X1, w.XMin), titleBox.Y1, max(titleBox.X2, w.XMax), titleBox.Y2}
		}
	}
	x1, x2 := min(nameBox.X1, titleBox.X1)-40, max(nameBox.X2, titleBox.X2)+40
	return Box{x1, titleBox.Y2, x2, nameBox.Y1}, nameBox, titleBox
}

// AssertOnlyInNameGap renders the last page of before and after at 100 dpi
// and fails unless some pixels changed and every changed pixel lies in the
// gap between the printed title and the printed name (nothing drawn over
// the printed text, nothing drawn twice). It returns the changed area.
func AssertOnlyInNameGap(t testing.TB, before, after []byte, name string) Box {
	t.Helper()
	n := Pages(t, before)
	if m := Pages(t, after); m != n {
		t.Fatalf("signing changed the page count from %d to %d", n, m)
	}
	gap, nameBox, titleBox := NameGap(t, before, n, name)
	const dpi = 100
	a, b := Render(t, before, n, dpi), Render(t, after, n, dpi)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("page size changed: %v → %v", a.Bounds(), b.Bounds())
	}
	px := func(pt float64) float64 { return pt * dpi / 72 }
	changed, outside := 0, 0
	var area Box
	first := true
	bd := a.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if diff(r1, r2)+diff(g1, g2)+diff(b1, b2) < 3*0x0800 {
				continue
			}
			changed++
			fx, fy := float64(x), float64(y)
			if fx+1 < px(gap.X1) || fx > px(gap.X2)+1 || fy+1 < px(gap.Y1) || fy > px(gap.Y2)+1 {
				outside++
			}
			ptx, pty := fx*72/dpi, fy*72/dpi
			if first {
				area, first = Box{ptx, pty, ptx, pty}, false
			}
			area = Box{min(area.X1, ptx), min(area.Y1, pty), max(area.X2, ptx), max(area.Y2, pty)}
		}
	}
	if changed == 0 {
		t.Fatalf("the last page looks the same after signing: no signature image drawn")
	}
	if outside > 0 {
		t.Fatalf("%d of %d changed pixels lie outside the gap %s between the title %s and the name %s (changed area %s)", outside, changed, gap, titleBox, nameBox, area)
	}
	return area
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// AssertPdfsigValid runs poppler's pdfsig (without certificate trust: the
// dev root is not in NSS's store) and fails unless it lists n signatures,
// each "Signature is Valid.".
func AssertPdfsigValid(t testing.TB, pdf []byte, n int) {
	t.Helper()
	out, _ := exec.Command(tool(t, "pdfsig"), "-nocert", writeTemp(t, pdf)).CombinedOutput()
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "- Signature Validation: "); ok {
			got = append(got, v)
		}
	}
	if len(got) != n {
		t.Fatalf("pdfsig lists %d signatures, want %d:\n%s", len(got), n, out)
	}
	for i, g := range got {
		if g != "Signature is Valid." {
			t.Fatalf("pdfsig: signature #%d: %q\n%s", i+1, g, out)
		}
	}
}

// WordBox is the box of the first word of page n whose text is text, and
// whether there is one.
func WordBox(t testing.TB, pdf []byte, n int, text string) (Box, bool) {
	t.Helper()
	for _, w := range Words(t, pdf, n) {
		if w.Text == norm.NFC.String(text) {
			return Box{w.XMin, w.YMin, w.XMax, w.YMax}, true
		}
	}
	return Box{}, false
}

// AssertChangesOnlyIn renders page n of before and after at 100 dpi and
// fails unless every changed pixel lies in one of the allowed boxes and
// each box has some changed pixels. It returns the changed area of each box.
func AssertChangesOnlyIn(t testing.TB, before, after []byte, n int, allowed ...Box) []Box {
	t.Helper()
	const dpi = 100
	a, b := Render(t, before, n, dpi), Render(t, after, n, dpi)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("page size changed: %v → %v", a.Bounds(), b.Bounds())
	}
	px := func(pt float64) float64 { return pt * dpi / 72 }
	areas := make([]Box, len(allowed))
	seen := make([]bool, len(allowed))
	outside := 0
	var stray Box
	bd := a.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if diff(r1, r2)+diff(g1, g2)+diff(b1, b2) < 3*0x0800 {
				continue
			}
			fx, fy := float64(x), float64(y)
			ptx, pty := fx*72/dpi, fy*72/dpi
			in := -1
			for i, box := range allowed {
				if fx+1 >= px(box.X1) && fx <= px(box.X2)+1 && fy+1 >= px(box.Y1) && fy <= px(box.Y2)+1 {
					in = i
					break
				}
			}
			if in < 0 {
				if outside == 0 {
					stray = Box{ptx, pty, ptx, pty}
				}
				stray = Box{min(stray.X1, ptx), min(stray.Y1, pty), max(stray.X2, ptx), max(stray.Y2, pty)}
				outside++
				continue
			}
			if !seen[in] {
				areas[in], seen[in] = Box{ptx, pty, ptx, pty}, true
			}
			ar := areas[in]
			areas[in] = Box{min(ar.X1, ptx), min(ar.Y1, pty), max(ar.X2, ptx), max(ar.Y2, pty)}
		}
	}
	if outside > 0 {
		t.Fatalf("%d changed pixels lie outside %v, in %s", outside, allowed, stray)
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("nothing changed in %s", allowed[i])
		}
	}
	return areas
}

// PageHeight is the height in points of page n (pdfinfo), for turning PDF
// user space (y up) into the word boxes' space (y down).
func PageHeight(t testing.TB, pdf []byte, n int) float64 {
	t.Helper()
	p := strconv.Itoa(n)
	out, err := exec.Command(tool(t, "pdfinfo"), "-f", p, "-l", p, writeTemp(t, pdf)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if _, v, ok := strings.Cut(l, "size:"); ok && strings.HasPrefix(l, "Page") {
			f := strings.Fields(v) // "594.96 x 841.92 pts (A4)"
			if len(f) >= 3 {
				if h, err := strconv.ParseFloat(f[2], 64); err == nil {
					return h
				}
			}
		}
	}
	t.Fatalf("pdfinfo gave no size of page %d:\n%s", n, out)
	return 0
}

// QR fails t unless the page image img, rendered at dpi, shows the QR code
// of url (medium error correction) in the square of side points whose top
// left corner is at (x, y) points from the page's top left: the centre of
// every module must be dark exactly where the code's is (a decoder would
// read url).
func QR(t testing.TB, img image.Image, dpi int, url string, x, y, side float64) {
	t.Helper()
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap()
	scale := float64(dpi) / 72
	module := side / float64(len(bm))
	wrong := 0
	for r, row := range bm {
		for col, dark := range row {
			px := int((x + (float64(col)+0.5)*module) * scale)
			py := int((y + (float64(r)+0.5)*module) * scale)
			cr, _, _, _ := img.At(px, py).RGBA()
			if (cr < 0x8000) != dark {
				wrong++
			}
		}
	}
	if wrong != 0 {
		t.Fatalf("%d of %d modules of the rendered code differ from the QR code of %s", wrong, len(bm)*len(bm), url)
	}
}
