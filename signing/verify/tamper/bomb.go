package tamper

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"sort"
	"strings"
	"sync"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Decompression bombs: small files whose streams inflate to gigabytes. Unlike
// the manipulations of Cases, a bomb need not make a file INVALID: the
// verifier must stay within its memory budget and say that it did not read
// everything (INDETERMINATE), never allocate what the streams claim.
//
// Every bomb is an incremental update appended to in (any readable PDF, signed
// or not), written with a cross-reference stream, so a signed file gets its
// bomb in a revision after the signature. Each adds about 2 MB and inflates
// to about 2 GiB in all.

// BombCase is one kind of decompression bomb.
type BombCase struct {
	Name  string
	Apply func(in []byte) ([]byte, error)
}

// Bombs returns every kind of decompression bomb.
func Bombs() []BombCase {
	return []BombCase{
		{"bomb-one-huge-stream", BombOneHugeStream},
		{"bomb-many-streams", BombManyStreams},
		{"bomb-nested-object-streams", BombNestedObjectStreams},
		{"bomb-xref-stream", BombXrefStream},
	}
}

// BombInflated is about how many bytes each bomb inflates to in all.
const BombInflated = 2 << 30

// BombOneHugeStream adds one object stream that redefines the document
// catalog (so the change analysis must read it) followed by 2 GiB of NULs,
// which are whitespace to a PDF parser.
func BombOneHugeStream(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	root, ok := u.root.(pdf.Ref)
	if !ok {
		return nil, fmt.Errorf("tamper: the trailer's /Root is not a reference")
	}
	cat, err := u.dict(root)
	if err != nil {
		return nil, err
	}
	x := newXrefUpdate(u)
	stm := u.alloc()
	x.objStm(stm, []objInStm{{root.Num, serialize(cat)}}, BombInflated, "")
	return x.bytes(), nil
}

// BombManyStreams adds 64 object streams of 32 MiB each: every one fits a
// 64 MiB budget alone, together they are 2 GiB.
func BombManyStreams(in []byte) ([]byte, error) {
	return ManyStreamsBomb(in, 64, BombInflated/64)
}

// ManyStreamsBomb adds n object streams of each bytes (rounded to MiB).
func ManyStreamsBomb(in []byte, n int, each int64) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	x := newXrefUpdate(u)
	for i := 0; i < n; i++ {
		obj := u.alloc()
		stm := u.alloc()
		x.objStm(stm, []objInStm{{obj, fmt.Sprintf("<< /Type /Annot /Subtype /Text /Contents (bom %d) >>", i)}}, each, "")
	}
	return x.bytes(), nil
}

// BombNestedObjectStreams adds a chain of 12 object streams of about 170 MiB
// each, where every stream's /Length is an object inside the next one: to
// read any object of the first, a reader must inflate all of them, and one
// that keeps what it inflated holds 2 GiB at once.
func BombNestedObjectStreams(in []byte) ([]byte, error) {
	return NestedObjectStreamsBomb(in, 12, BombInflated/12)
}

// NestedObjectStreamsBomb adds a chain of n object streams of each bytes
// (rounded to MiB).
func NestedObjectStreamsBomb(in []byte, n int, each int64) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	x := newXrefUpdate(u)
	stms := make([]uint32, n)
	lens := make([]uint32, n) // lens[i]: the object holding stream i's length, inside stream i+1
	objs := make([]uint32, n)
	for i := range stms {
		stms[i], lens[i], objs[i] = u.alloc(), u.alloc(), u.alloc()
	}
	// Written from the last, whose length is direct, so each stream's
	// compressed length is known when the previous one needs it.
	var nextLen int
	for i := n - 1; i >= 0; i-- {
		content := []objInStm{{objs[i], fmt.Sprintf("<< /Type /Annot /Subtype /Text /Contents (tang %d) >>", i)}}
		if i+1 < n {
			content = append(content, objInStm{lens[i+1], fmt.Sprint(nextLen)})
		}
		length := ""
		if i > 0 {
			length = fmt.Sprintf("%d 0 R", lens[i])
		}
		nextLen = x.objStm(stms[i], content, each, length)
	}
	return x.bytes(), nil
}

// BombXrefStream writes the update's cross-reference stream itself as the
// bomb: its rows are followed by 2 GiB of zero rows.
func BombXrefStream(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	x := newXrefUpdate(u)
	x.xrefPadding = BombInflated
	return x.bytes(), nil
}

// objInStm is one object stored in an object stream.
type objInStm struct {
	num  uint32
	body string
}

// xrefUpdate writes an incremental update whose cross-reference section is
// a stream, so it can index objects inside object streams.
type xrefUpdate struct {
	u           *update
	b           bytes.Buffer
	rows        []xrefRow
	xrefPadding int64 // zero bytes inflated after the rows of the xref stream
}

type xrefRow struct {
	num uint32
	typ byte
	f2  uint32
	f3  uint16
}

func newXrefUpdate(u *update) *xrefUpdate {
	x := &xrefUpdate{u: u}
	x.b.Write(u.base)
	if len(u.base) > 0 && u.base[len(u.base)-1] != '\n' {
		x.b.WriteByte('\n')
	}
	return x
}

// objStm writes object stream num holding objs, its data followed by NULs
// up to about inflated bytes, and returns the length of its compressed
// data. length, when set, is written as the /Length instead of the number.
func (x *xrefUpdate) objStm(num uint32, objs []objInStm, inflated int64, length string) int {
	var header, body strings.Builder
	for i, o := range objs {
		fmt.Fprintf(&header, "%d %d ", o.num, body.Len())
		body.WriteString(o.body)
		body.WriteString("\n")
		x.rows = append(x.rows, xrefRow{o.num, 2, num, uint16(i)})
	}
	data := zlibWithZeros([]byte(header.String()+body.String()), inflated)
	if length == "" {
		length = fmt.Sprint(len(data))
	}
	x.rows = append(x.rows, xrefRow{num, 1, uint32(x.b.Len()), 0})
	fmt.Fprintf(&x.b, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %s >>\nstream\n", num, len(objs), header.Len(), length)
	x.b.Write(data)
	x.b.WriteString("\nendstream\nendobj\n")
	return len(data)
}

// bytes appends the cross-reference stream and the trailer.
func (x *xrefUpdate) bytes() []byte {
	num := x.u.alloc()
	off := x.b.Len()
	rows := append(x.rows, xrefRow{num, 1, uint32(off), 0})
	sort.Slice(rows, func(i, j int) bool { return rows[i].num < rows[j].num })
	var raw bytes.Buffer
	var index []string
	for _, r := range rows {
		raw.WriteByte(r.typ)
		raw.Write(binary.BigEndian.AppendUint32(nil, r.f2))
		raw.Write(binary.BigEndian.AppendUint16(nil, r.f3))
		index = append(index, fmt.Sprintf("%d 1", r.num))
	}
	data := zlibWithZeros(raw.Bytes(), x.xrefPadding)
	fmt.Fprintf(&x.b, "%d 0 obj\n<< /Type /XRef /Size %d /Root %s /Prev %d /W [1 4 2] /Index [%s] /Filter /FlateDecode /Length %d >>\nstream\n",
		num, x.u.next, serialize(x.u.root), x.u.last.StartXref, strings.Join(index, " "), len(data))
	x.b.Write(data)
	fmt.Fprintf(&x.b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
	return x.b.Bytes()
}

// zlibWithZeros returns a zlib stream of prefix followed by zero bytes, about
// total bytes in all, built from one compressed mebibyte of zeros repeated:
// a deflate block that only copies the byte before it stays valid after any
// run of zeros, so 2 GiB cost 2 MB and no time to make.
func zlibWithZeros(prefix []byte, total int64) []byte {
	const mib = 1 << 20
	zeros := max(total-int64(len(prefix)), 0)
	var b bytes.Buffer
	b.Write([]byte{0x78, 0xda}) // zlib header: deflate, 32 KiB window, best compression
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(prefix)
	// More zeros than deflate's 32 KiB window written directly, so every
	// copy in the repeated block below reads zeros, whatever the prefix
	// ended with.
	first := min(zeros, 64<<10)
	w.Write(make([]byte, first))
	w.Flush()
	block := zeroBlock()
	reps := (zeros - first + mib - 1) / mib
	for i := int64(0); i < reps; i++ {
		b.Write(block)
	}
	// The final, empty stored block.
	b.Write([]byte{1, 0, 0, 0xff, 0xff})
	n := first + reps*mib
	b.Write(binary.BigEndian.AppendUint32(nil, adlerZeros(adler32.Checksum(prefix), n)))
	return b.Bytes()
}

var zeroBlockOnce = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(make([]byte, 1<<20))
	w.Flush()
	return b.Bytes()
})

// zeroBlock is one mebibyte of zeros, deflated and flushed to a byte
// boundary (not final).
func zeroBlock() []byte { return zeroBlockOnce() }

// adlerZeros extends an Adler-32 checksum over n more zero bytes: the low
// sum stays, the high sum grows by n times the low one.
func adlerZeros(sum uint32, n int64) uint32 {
	const mod = 65521
	a, b := int64(sum&0xffff), int64(sum>>16)
	b = (b + (n%mod)*a) % mod
	return uint32(b)<<16 | uint32(a)
}
