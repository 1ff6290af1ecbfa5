// Package pdftest writes small PDFs with incremental updates, classic xref
// tables, xref streams and object streams, so that the reader and the change
// analysis can be tested against files whose every byte the test controls
// (clean documents and the attacks built from them).
package pdftest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"sort"
)

type entry struct {
	off  int64
	stm  uint32 // object stream number, 0 if none
	idx  int
	free bool
	gen  uint16
}

// Builder appends objects and xref sections to a growing file.
type Builder struct {
	buf     bytes.Buffer
	cur     map[uint32]entry // entries of the revision being written
	size    uint32
	prev    int64
	hasPrev bool
	Root    string // trailer /Root value, "1 0 R" by default
	Extra   string // more trailer entries, e.g. "/Info 9 0 R"
}

// New starts a file with a header.
func New() *Builder {
	b := &Builder{cur: map[uint32]entry{}, Root: "1 0 R"}
	b.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return b
}

func (b *Builder) note(num uint32, e entry) {
	b.cur[num] = e
	if num+1 > b.size {
		b.size = num + 1
	}
}

// Obj writes "num 0 obj body endobj".
func (b *Builder) Obj(num uint32, body string) {
	b.note(num, entry{off: int64(b.buf.Len())})
	fmt.Fprintf(&b.buf, "%d 0 obj\n%s\nendobj\n", num, body)
}

// Stream writes a stream object; dict is the dictionary's inner entries
// without /Length.
func (b *Builder) Stream(num uint32, dict string, data []byte) {
	b.note(num, entry{off: int64(b.buf.Len())})
	fmt.Fprintf(&b.buf, "%d 0 obj\n<<%s /Length %d>>\nstream\n", num, dict, len(data))
	b.buf.Write(data)
	b.buf.WriteString("\nendstream\nendobj\n")
}

// Free marks an object freed in the current revision.
func (b *Builder) Free(num uint32) { b.note(num, entry{free: true, gen: 1}) }

// ObjStm writes an object stream holding the given objects (flate-encoded).
func (b *Builder) ObjStm(num uint32, objs map[uint32]string) {
	nums := make([]uint32, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	var head, body bytes.Buffer
	for i, n := range nums {
		fmt.Fprintf(&head, "%d %d ", n, body.Len())
		body.WriteString(objs[n])
		body.WriteString("\n")
		b.note(n, entry{stm: num, idx: i})
	}
	data := append(head.Bytes(), body.Bytes()...)
	b.Stream(num, fmt.Sprintf("/Type /ObjStm /N %d /First %d /Filter /FlateDecode", len(nums), head.Len()), Deflate(data))
}

// ObjStmRaw writes an object stream whose header and body are given as they
// are (for malformed headers): objects nums are entered at indexes 0, 1, ….
func (b *Builder) ObjStmRaw(num uint32, nums []uint32, head, body string) {
	for i, n := range nums {
		b.note(n, entry{stm: num, idx: i})
	}
	data := []byte(head + body)
	b.Stream(num, fmt.Sprintf("/Type /ObjStm /N %d /First %d /Filter /FlateDecode", len(nums), len(head)), Deflate(data))
}

// Raw appends bytes as they are.
func (b *Builder) Raw(s string) { b.buf.WriteString(s) }

// Len is the current length of the file.
func (b *Builder) Len() int64 { return int64(b.buf.Len()) }

func (b *Builder) trailer() string {
	t := fmt.Sprintf("/Size %d /Root %s %s", b.size, b.Root, b.Extra)
	if b.hasPrev {
		t += fmt.Sprintf(" /Prev %d", b.prev)
	}
	return t
}

// EndRevision writes a classic xref table for the objects of this revision,
// the trailer, startxref and %%EOF.
func (b *Builder) EndRevision() {
	off := int64(b.buf.Len())
	b.buf.WriteString("xref\n0 1\n0000000000 65535 f \n")
	for _, n := range b.sorted() {
		e := b.cur[n]
		if e.free || e.stm != 0 {
			// A classic table cannot point into an object stream; such an
			// entry is written free, which tests of misuse will notice.
			fmt.Fprintf(&b.buf, "%d 1\n0000000000 %05d f \n", n, e.gen)
		} else {
			fmt.Fprintf(&b.buf, "%d 1\n%010d 00000 n \n", n, e.off)
		}
	}
	fmt.Fprintf(&b.buf, "trailer\n<<%s>>\nstartxref\n%d\n%%%%EOF\n", b.trailer(), off)
	b.finish(off)
}

// EndRevisionXrefStream writes an xref stream (object num, flate with a
// PNG Up predictor) for the objects of this revision.
func (b *Builder) EndRevisionXrefStream(num uint32) {
	off := int64(b.buf.Len())
	b.note(num, entry{off: off})
	var rows bytes.Buffer
	var index []string
	prevRow := make([]byte, 7)
	for _, n := range b.sorted() {
		e := b.cur[n]
		row := make([]byte, 7)
		switch {
		case e.free:
			row[0] = 0
			binary.BigEndian.PutUint16(row[5:], e.gen)
		case e.stm != 0:
			row[0] = 2
			binary.BigEndian.PutUint32(row[1:], e.stm)
			binary.BigEndian.PutUint16(row[5:], uint16(e.idx))
		default:
			row[0] = 1
			binary.BigEndian.PutUint32(row[1:], uint32(e.off))
		}
		rows.WriteByte(2) // PNG Up
		for i := range row {
			rows.WriteByte(row[i] - prevRow[i])
		}
		prevRow = row
		index = append(index, fmt.Sprintf("%d 1", n))
	}
	data := Deflate(rows.Bytes())
	fmt.Fprintf(&b.buf, "%d 0 obj\n<</Type /XRef /W [1 4 2] /Index [%s] %s /Filter /FlateDecode /DecodeParms <</Predictor 12 /Columns 7>> /Length %d>>\nstream\n",
		num, join(index), b.trailer(), len(data))
	b.buf.Write(data)
	fmt.Fprintf(&b.buf, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
	b.finish(off)
}

func (b *Builder) finish(off int64) {
	b.prev, b.hasPrev = off, true
	b.cur = map[uint32]entry{}
}

func (b *Builder) sorted() []uint32 {
	nums := make([]uint32, 0, len(b.cur))
	for n := range b.cur {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	return nums
}

// Bytes returns the file so far.
func (b *Builder) Bytes() []byte { return append([]byte(nil), b.buf.Bytes()...) }

// Deflate zlib-compresses data.
func Deflate(data []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(data)
	w.Close()
	return out.Bytes()
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

// Signed returns a one-page document with a signed signature field, as
// revision 0: catalog 1, pages 2, page 3, contents 4, font 5, AcroForm 6,
// signature field/widget 7, signature dictionary 8, appearance 9, info 10,
// text field 11. The signature's /ByteRange is a placeholder: the change
// analysis does not check cryptography.
func Signed() *Builder {
	b := New()
	b.Extra = "/Info 10 0 R"
	b.Obj(1, "<</Type /Catalog /Pages 2 0 R /AcroForm 6 0 R>>")
	b.Obj(2, "<</Type /Pages /Kids [3 0 R] /Count 1>>")
	b.Obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R /Annots [7 0 R 11 0 R]>>")
	b.Stream(4, "", []byte("BT /F1 12 Tf 72 760 Td (QUYET DINH so 05/QD-UBND) Tj ET"))
	b.Obj(5, "<</Type /Font /Subtype /Type1 /BaseFont /Times-Roman>>")
	b.Obj(6, "<</Fields [7 0 R 11 0 R] /SigFlags 3>>")
	b.Obj(7, "<</FT /Sig /T (Sig1) /Type /Annot /Subtype /Widget /F 132 /Rect [0 0 0 0] /P 3 0 R /V 8 0 R /AP <</N 9 0 R>>>>")
	b.Obj(8, "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 0 0 0] /Contents <00>>>")
	b.Stream(9, "/Type /XObject /Subtype /Form /BBox [0 0 0 0]", nil)
	b.Obj(10, "<</Producer (vanthu test)>>")
	b.Obj(11, "<</FT /Tx /T (SoVanBan) /Type /Annot /Subtype /Widget /Rect [72 700 200 720] /P 3 0 R /V (05)>>")
	b.EndRevision()
	return b
}
