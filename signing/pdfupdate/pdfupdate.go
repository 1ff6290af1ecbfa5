// Package pdfupdate appends incremental updates to existing PDFs: it reads the
// last revision's trailer and cross-reference section through an io.ReaderAt,
// lets the caller add objects and new versions of existing objects, and writes
// one update section after the original bytes, with a classic xref table or an
// xref stream matching the previous section. The original bytes are streamed,
// never held in memory, and never rewritten: earlier signatures stay valid.
package pdfupdate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/digitorus/pdf"
)

// ErrEncrypted reports an encrypted PDF: vanthu signs only unencrypted files,
// since an update to an encrypted file would have to encrypt every new string.
var ErrEncrypted = errors.New("pdfupdate: encrypted PDF is not supported")

// ErrMalformed wraps every failure to parse the input's structure.
var ErrMalformed = errors.New("pdfupdate: malformed PDF")

// Ref is an indirect object reference.
type Ref struct {
	Num uint32
	Gen uint16
}

// String renders the reference as it appears in PDF syntax ("12 0 R").
func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Doc is an opened PDF: its last revision's trailer and cross-reference
// information. It reads lazily through the io.ReaderAt given to Open.
type Doc struct {
	r    io.ReaderAt
	size int64
	rd   *pdf.Reader

	// XRefStream reports whether the last cross-reference section is a stream
	// (true) or a classic table (false); the update uses the same kind.
	XRefStream bool
	prevXRef   int64
	trailerLen uint32
	root       Ref
	info       Ref
	hasInfo    bool
	id         []byte // serialised /ID array, nil when absent
}

// Open reads the last trailer and cross-reference section of the PDF in r.
// It never panics, whatever the input: the underlying parser's panics become
// ErrMalformed errors.
func Open(r io.ReaderAt, size int64) (d *Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, recovered(p)
		}
	}()
	if size < 16 {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, size)
	}
	rd, err := NewReader(checkedReader{r}, size)
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(strings.ToLower(err.Error()), "encrypt") {
			return nil, ErrEncrypted
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	tr := rd.Trailer()
	if tr.Kind() != pdf.Dict && tr.Kind() != pdf.Stream {
		return nil, fmt.Errorf("%w: no trailer dictionary", ErrMalformed)
	}
	if !tr.Key("Encrypt").IsNull() {
		return nil, ErrEncrypted
	}
	d = &Doc{r: r, size: size, rd: rd, prevXRef: rd.XrefInformation.StartPos}
	d.XRefStream = rd.XrefInformation.Type == "stream" || tr.Kind() == pdf.Stream
	if t, ok := d.sectionKind(); ok {
		d.XRefStream = t
	}
	root := tr.Key("Root")
	if root.Kind() != pdf.Dict || root.GetPtr().GetID() == 0 {
		return nil, fmt.Errorf("%w: trailer has no /Root catalog", ErrMalformed)
	}
	d.root = refOf(root)
	if info := tr.Key("Info"); info.Kind() == pdf.Dict && info.GetPtr().GetID() != 0 {
		d.info, d.hasInfo = refOf(info), true
	}
	sz := tr.Key("Size").Int64()
	if sz <= 0 || sz > 1<<31 {
		return nil, fmt.Errorf("%w: trailer /Size %d", ErrMalformed, sz)
	}
	d.trailerLen = uint32(sz)
	if id := tr.Key("ID"); id.Kind() == pdf.Array {
		var b bytes.Buffer
		if err := writeValue(&b, id, trailerSelf(tr)); err != nil {
			return nil, fmt.Errorf("%w: trailer /ID: %v", ErrMalformed, err)
		}
		d.id = b.Bytes()
	}
	return d, nil
}

// parses counts the PDFs parsed (NewReader) in this process.
var parses atomic.Int64

// NewReader parses the PDF in r (its trailer and cross-reference sections)
// with digitorus/pdf, counting the parse: every parse of a document to be
// signed goes through here (Open, and the searches of package appearance),
// so a test can count how often a signature parses its input (Parses).
// Its methods may panic on malformed input, as pdf.NewReader's do.
func NewReader(r io.ReaderAt, size int64) (*pdf.Reader, error) {
	parses.Add(1)
	return pdf.NewReader(r, size)
}

// Parses is how many PDFs NewReader has parsed since the process started.
func Parses() int64 { return parses.Load() }

// sectionKind looks at the bytes at startxref: "xref" starts a table,
// anything else (an object header) a stream.
func (d *Doc) sectionKind() (stream bool, ok bool) {
	buf := make([]byte, 32)
	n, _ := d.r.ReadAt(buf, d.prevXRef)
	s := bytes.TrimLeft(buf[:n], " \t\r\n\f\x00")
	if len(s) == 0 {
		return false, false
	}
	return !bytes.HasPrefix(s, []byte("xref")), true
}

func trailerSelf(tr pdf.Value) uint32 { return tr.GetPtr().GetID() }

func refOf(v pdf.Value) Ref {
	p := v.GetPtr()
	return Ref{Num: p.GetID(), Gen: p.GetGen()}
}

// Size is the length in bytes of the original file.
func (d *Doc) Size() int64 { return d.size }

// Source returns the reader and size the document was opened with.
func (d *Doc) Source() (io.ReaderAt, int64) { return d.r, d.size }

// Root is the reference of the document catalog.
func (d *Doc) Root() Ref { return d.root }

// Reader is the parser positioned on the last revision, for reading objects
// (catalog, pages, AcroForm) the caller wants to update. Its methods may
// panic on malformed input; use Get or Safe around them.
func (d *Doc) Reader() *pdf.Reader { return d.rd }

// Catalog returns the document catalog.
func (d *Doc) Catalog() (pdf.Value, error) {
	var v pdf.Value
	err := Safe(func() error {
		v = d.rd.Trailer().Key("Root")
		if v.Kind() != pdf.Dict {
			return fmt.Errorf("%w: catalog is not a dictionary", ErrMalformed)
		}
		return nil
	})
	return v, err
}

// Page returns page n (1-based) and its reference.
func (d *Doc) Page(n int) (pdf.Value, Ref, error) {
	var v pdf.Value
	err := Safe(func() error {
		if n < 1 || n > d.rd.NumPage() {
			return fmt.Errorf("pdfupdate: page %d out of range 1..%d", n, d.rd.NumPage())
		}
		v = d.rd.Page(n).V
		if v.Kind() != pdf.Dict || v.GetPtr().GetID() == 0 {
			return fmt.Errorf("%w: page %d is not an indirect dictionary", ErrMalformed, n)
		}
		return nil
	})
	return v, refOf(v), err
}

// NumPages returns the page count.
func (d *Doc) NumPages() (n int, err error) {
	err = Safe(func() error { n = d.rd.NumPage(); return nil })
	return n, err
}

// Safe runs f, turning a parser panic into an ErrMalformed error.
func Safe(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = recovered(p)
		}
	}()
	return f()
}

// readFailure carries an I/O error out of the parser, which ignores the
// errors of ReadAt and would go on reading zeros (or search the same bytes
// forever) when the input cannot be read.
type readFailure struct{ err error }

// checkedReader turns a failed read into a readFailure panic, recovered by
// Open and Safe as an I/O error rather than a parse result.
type checkedReader struct{ r io.ReaderAt }

func (c checkedReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		// The parser computed an offset from garbage: a malformed file,
		// not a failing disk.
		return 0, io.EOF
	}
	n, err := c.r.ReadAt(p, off)
	if err != nil && err != io.EOF {
		panic(readFailure{err})
	}
	return n, err
}

func recovered(p any) error {
	if rf, ok := p.(readFailure); ok {
		return fmt.Errorf("pdfupdate: read input: %w", rf.err)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, p)
}

// Update collects the objects of one incremental update.
type Update struct {
	doc  *Doc
	next uint32
	objs map[uint32]*object
}

type object struct {
	ref  Ref
	body []byte
}

// NewUpdate starts an empty update; new object numbers continue after the
// trailer's /Size.
func (d *Doc) NewUpdate() *Update {
	return &Update{doc: d, next: d.trailerLen, objs: map[uint32]*object{}}
}

// Reserve allocates a new object number, to be given a body with Set. It lets
// objects refer to each other before either is serialised.
func (u *Update) Reserve() Ref {
	r := Ref{Num: u.next}
	u.next++
	u.objs[r.Num] = &object{ref: r}
	return r
}

// Add appends a new object with the given serialised body (everything between
// "N G obj" and "endobj", streams included) and returns its reference.
func (u *Update) Add(body []byte) Ref {
	r := u.Reserve()
	u.objs[r.Num].body = body
	return r
}

// Set gives a body to a reserved object, or a new version to an existing one
// (the same object number and generation as in the original file).
func (u *Update) Set(r Ref, body []byte) {
	u.objs[r.Num] = &object{ref: r, body: body}
}

// Result locates what Write appended.
type Result struct {
	Start   int64            // offset of the first byte of the update section
	End     int64            // total length of the written file
	Offsets map[uint32]int64 // object number → offset of its "N G obj" line
	Bodies  map[uint32]int64 // object number → offset of the first byte of its body
}

// Write streams the original file into w followed by the update section. See
// AppendTo for writing only the section.
func (u *Update) Write(w io.Writer) (*Result, error) {
	if _, err := io.Copy(w, io.NewSectionReader(u.doc.r, 0, u.doc.size)); err != nil {
		return nil, fmt.Errorf("pdfupdate: copy original bytes: %w", err)
	}
	return u.AppendTo(w)
}

// AppendTo writes only the update section, assuming w already holds the
// original bytes (so offsets start at Doc.Size()).
func (u *Update) AppendTo(w io.Writer) (*Result, error) {
	b, res, err := u.Bytes()
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("pdfupdate: write update: %w", err)
	}
	return res, nil
}

// Bytes serialises the update section (to be placed right after the original
// bytes) and reports where everything lands in the resulting file.
func (u *Update) Bytes() ([]byte, *Result, error) {
	d := u.doc
	var buf bytes.Buffer
	base := d.size
	// The original may end without an end-of-line after %%EOF; the next
	// object header must start on its own line.
	last := make([]byte, 1)
	if _, err := d.r.ReadAt(last, d.size-1); err != nil {
		return nil, nil, fmt.Errorf("pdfupdate: read last byte: %w", err)
	}
	if last[0] != '\n' && last[0] != '\r' {
		buf.WriteByte('\n')
	}
	nums := make([]uint32, 0, len(u.objs))
	for n, o := range u.objs {
		if o.body == nil {
			return nil, nil, fmt.Errorf("pdfupdate: reserved object %d has no body", n)
		}
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	res := &Result{Start: base, Offsets: map[uint32]int64{}, Bodies: map[uint32]int64{}}
	for _, n := range nums {
		o := u.objs[n]
		res.Offsets[n] = base + int64(buf.Len())
		fmt.Fprintf(&buf, "%d %d obj\n", o.ref.Num, o.ref.Gen)
		res.Bodies[n] = base + int64(buf.Len())
		buf.Write(o.body)
		buf.WriteString("\nendobj\n")
	}
	size := u.next
	if d.trailerLen > size {
		size = d.trailerLen
	}
	xrefAt := base + int64(buf.Len())
	if d.XRefStream {
		// The xref stream is an object too and lists itself.
		self := Ref{Num: size}
		size++
		entries := append([]uint32(nil), nums...)
		entries = append(entries, self.Num)
		offs := map[uint32]int64{self.Num: xrefAt}
		gens := map[uint32]uint16{self.Num: 0}
		for _, n := range nums {
			offs[n] = res.Offsets[n]
			gens[n] = u.objs[n].ref.Gen
		}
		w2 := byteWidth(uint64(xrefAt))
		var data bytes.Buffer
		for _, n := range entries {
			data.WriteByte(1)
			writeBE(&data, uint64(offs[n]), w2)
			writeBE(&data, uint64(gens[n]), 2)
		}
		fmt.Fprintf(&buf, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 %d 2] /Index [%s] /Prev %d /Root %s",
			self.Num, size, w2, indexRuns(entries), d.prevXRef, d.root)
		u.trailerExtras(&buf)
		fmt.Fprintf(&buf, " /Length %d >>\nstream\n", data.Len())
		buf.Write(data.Bytes())
		buf.WriteString("\nendstream\nendobj\n")
	} else {
		buf.WriteString("xref\n")
		for _, run := range runs(nums) {
			fmt.Fprintf(&buf, "%d %d\n", run[0], len(run))
			for _, n := range run {
				fmt.Fprintf(&buf, "%010d %05d n\r\n", res.Offsets[n], u.objs[n].ref.Gen)
			}
		}
		fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %s /Prev %d", size, d.root, d.prevXRef)
		u.trailerExtras(&buf)
		buf.WriteString(" >>\n")
	}
	fmt.Fprintf(&buf, "startxref\n%d\n%%%%EOF\n", xrefAt)
	res.End = base + int64(buf.Len())
	return buf.Bytes(), res, nil
}

func (u *Update) trailerExtras(buf *bytes.Buffer) {
	if u.doc.hasInfo {
		fmt.Fprintf(buf, " /Info %s", u.doc.info)
	}
	if u.doc.id != nil {
		buf.WriteString(" /ID ")
		buf.Write(u.doc.id)
	}
}

func byteWidth(v uint64) int {
	w := 1
	for v >= 1<<(8*w) {
		w++
	}
	return w
}

func writeBE(b *bytes.Buffer, v uint64, w int) {
	for i := w - 1; i >= 0; i-- {
		b.WriteByte(byte(v >> (8 * i)))
	}
}

// runs splits sorted object numbers into consecutive runs, one xref subsection each.
func runs(nums []uint32) [][]uint32 {
	var out [][]uint32
	for i, n := range nums {
		if i == 0 || n != nums[i-1]+1 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], n)
	}
	return out
}

func indexRuns(nums []uint32) string {
	var parts []string
	for _, r := range runs(nums) {
		parts = append(parts, fmt.Sprintf("%d %d", r[0], len(r)))
	}
	return strings.Join(parts, " ")
}
