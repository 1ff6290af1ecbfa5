// Package tamper manipulates signed PDFs the way attackers (and careless
// tools) do, for the verifier's regression suite: every manipulation here
// must make `vanthu verify` say INVALID. It is project code, not test code,
// so the same cases run against the corpus, the project's own signer output
// and any file an auditor wants to probe.
package tamper

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Case is one manipulation. Apply never modifies its input.
type Case struct {
	Name  string
	Apply func(in []byte) ([]byte, error)
}

// Cases returns every manipulation. donor is another signed PDF whose
// signature is transplanted by the contents swap.
func Cases(donor []byte) []Case {
	return []Case{
		{"flip-signed-byte", FlipSignedByte},
		{"append-content-update", AppendContentUpdate},
		{"objstm-override", ObjectStreamOverride},
		{"replace-sig-dict", ReplaceSigDict},
		{"truncate", Truncate},
		{"edit-byterange", EditByteRange},
		{"swap-contents", func(in []byte) ([]byte, error) { return SwapContents(in, donor) }},
		{"add-page", AddPage},
		{"annotation-overlay", AddAnnotationOverlay},
		{"extra-trailer", ExtraTrailer},
	}
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

type sigLoc struct {
	br         [4]int64
	brStart    int // index of the 4 numbers' submatch span
	matchStart int
	matchEnd   int
	numSpans   [4][2]int
}

func signatures(in []byte) []sigLoc {
	var out []sigLoc
	for _, m := range byteRangeRE.FindAllSubmatchIndex(in, -1) {
		var s sigLoc
		s.matchStart, s.matchEnd = m[0], m[1]
		ok := true
		for i := 0; i < 4; i++ {
			v, err := strconv.ParseInt(string(in[m[2+2*i]:m[3+2*i]]), 10, 64)
			if err != nil {
				ok = false
				break
			}
			s.br[i] = v
			s.numSpans[i] = [2]int{m[2+2*i], m[3+2*i]}
		}
		if ok && s.br[1] < s.br[2] && s.br[2] <= int64(len(in)) && s.br[1] > 0 {
			out = append(out, s)
		}
	}
	return out
}

func firstSig(in []byte) (sigLoc, error) {
	s := signatures(in)
	if len(s) == 0 {
		return sigLoc{}, errors.New("tamper: no signature with a usable /ByteRange")
	}
	return s[0], nil
}

// FlipSignedByte changes one bit in the middle of the first signed range.
func FlipSignedByte(in []byte) ([]byte, error) {
	s, err := firstSig(in)
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(in)
	i := s.br[1] / 2
	out[i] ^= 0x01
	return out, nil
}

// Truncate cuts the file inside the last signed range.
func Truncate(in []byte) ([]byte, error) {
	sigs := signatures(in)
	if len(sigs) == 0 {
		return nil, errors.New("tamper: no signature")
	}
	s := sigs[len(sigs)-1]
	end := s.br[2] + s.br[3]
	cut := s.br[2] + s.br[3]/2
	if cut >= end || cut <= s.br[2] {
		cut = end - 1
	}
	return bytes.Clone(in[:cut]), nil
}

// EditByteRange shrinks the second range by one byte, in place, keeping the
// number's width so nothing else moves.
func EditByteRange(in []byte) ([]byte, error) {
	s, err := firstSig(in)
	if err != nil {
		return nil, err
	}
	sp := s.numSpans[3]
	width := sp[1] - sp[0]
	n := strconv.FormatInt(s.br[3]-1, 10)
	if len(n) > width {
		return nil, errors.New("tamper: cannot rewrite ByteRange in place")
	}
	out := bytes.Clone(in)
	copy(out[sp[0]:sp[1]], []byte(n+strings.Repeat(" ", width-len(n))))
	return out, nil
}

// SwapContents puts the donor's first signature value into the first
// signature's /Contents, padded to the same size.
func SwapContents(in, donor []byte) ([]byte, error) {
	s, err := firstSig(in)
	if err != nil {
		return nil, err
	}
	var ds sigLoc
	if sigs := signatures(in); len(sigs) > 1 {
		ds, donor = sigs[1], in // two signatures: swap within the file
	} else if ds, err = firstSig(donor); err != nil {
		return nil, fmt.Errorf("donor: %w", err)
	}
	dh := bytes.TrimRight(donor[ds.br[1]+1:ds.br[2]-1], "0")
	if len(dh)%2 == 1 {
		dh = append(bytes.Clone(dh), '0')
	}
	gap := int(s.br[2] - s.br[1] - 2)
	if len(dh) > gap {
		dh = dh[:gap]
	}
	out := bytes.Clone(in)
	copy(out[s.br[1]+1:], dh)
	for i := int(s.br[1]) + 1 + len(dh); i < int(s.br[2])-1; i++ {
		out[i] = '0'
	}
	if bytes.Equal(out, in) {
		return nil, errors.New("tamper: donor signature identical")
	}
	return out, nil
}

// update builds an incremental update on top of a file.
type update struct {
	base []byte
	f    *pdf.File
	last pdf.Revision
	next uint32
	objs map[uint32]string // object number -> body (without "n g obj")
	root pdf.Object
}

func newUpdate(in []byte) (*update, error) {
	f, err := pdf.OpenBytes(in, nil)
	if err != nil {
		return nil, fmt.Errorf("tamper: %w", err)
	}
	revs := f.Revisions()
	last := revs[len(revs)-1]
	size, _ := last.Trailer.Int("Size")
	return &update{base: in, f: f, last: last, next: uint32(size), objs: map[uint32]string{}, root: last.Trailer["Root"]}, nil
}

func (u *update) resolve(o pdf.Object) pdf.Object {
	v, err := u.f.Resolve(o, u.last.Index)
	if err != nil {
		return nil
	}
	return v
}

func (u *update) dict(o pdf.Object) (pdf.Dict, error) {
	d, ok := u.resolve(o).(pdf.Dict)
	if !ok {
		return nil, fmt.Errorf("tamper: %s is not a dictionary", pdf.Format(o))
	}
	// Copy: the reader's objects are shared.
	c := pdf.Dict{}
	for k, v := range d {
		c[k] = v
	}
	return c, nil
}

func (u *update) alloc() uint32 { u.next++; return u.next - 1 }

func (u *update) set(num uint32, body string) { u.objs[num] = body }

// firstPage returns the first page's reference and dictionary.
func (u *update) firstPage() (pdf.Ref, pdf.Dict, error) {
	cat, err := u.dict(u.root)
	if err != nil {
		return pdf.Ref{}, nil, err
	}
	node := cat["Pages"]
	for depth := 0; depth < 32; depth++ {
		d, err := u.dict(node)
		if err != nil {
			return pdf.Ref{}, nil, err
		}
		if d.Name("Type") == "Page" {
			ref, ok := node.(pdf.Ref)
			if !ok {
				return pdf.Ref{}, nil, errors.New("tamper: page is not an indirect object")
			}
			return ref, d, nil
		}
		kids, _ := u.resolve(d["Kids"]).(pdf.Array)
		if len(kids) == 0 {
			break
		}
		node = kids[0]
	}
	return pdf.Ref{}, nil, errors.New("tamper: no page found")
}

// bytes writes the update with a classic xref table and trailer.
func (u *update) bytes(extraTrailer string) []byte {
	var b bytes.Buffer
	b.Write(u.base)
	if len(u.base) > 0 && u.base[len(u.base)-1] != '\n' {
		b.WriteByte('\n')
	}
	nums := make([]int, 0, len(u.objs))
	for n := range u.objs {
		nums = append(nums, int(n))
	}
	sort.Ints(nums)
	offs := map[int]int{}
	for _, n := range nums {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, u.objs[uint32(n)])
	}
	xref := b.Len()
	b.WriteString("xref\n")
	for _, n := range nums {
		fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", n, offs[n])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %s /Prev %d%s >>\nstartxref\n%d\n%%%%EOF\n", u.next, serialize(u.root), u.last.StartXref, extraTrailer, xref)
	return b.Bytes()
}

func contentStream(text string) string {
	data := "BT /Helv 24 Tf 72 720 Td (" + text + ") Tj ET"
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data)
}

// AppendContentUpdate replaces the first page's content in an unsigned
// incremental update.
func AppendContentUpdate(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	ref, page, err := u.firstPage()
	if err != nil {
		return nil, err
	}
	cs := u.alloc()
	u.set(cs, contentStream("DA THANH TOAN 1.000.000.000 VND"))
	page["Contents"] = pdf.Ref{Num: cs}
	u.set(ref.Num, serialize(page))
	return u.bytes(""), nil
}

// ObjectStreamOverride redefines the first page inside a new object stream,
// referenced only from a cross-reference stream, where a byte-level look at
// the update shows no page object at all.
func ObjectStreamOverride(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	ref, page, err := u.firstPage()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(in)
	if in[len(in)-1] != '\n' {
		b.WriteByte('\n')
	}
	cs := u.alloc()
	stm := u.alloc()
	xrefNum := u.alloc()
	csOff := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", cs, contentStream("NOI DUNG DA BI THAY"))
	page["Contents"] = pdf.Ref{Num: cs}
	body := serialize(page)
	header := fmt.Sprintf("%d 0 ", ref.Num)
	data := header + body
	stmOff := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n%s\nendstream\nendobj\n", stm, len(header), len(data), data)
	xrefOff := b.Len()
	type row struct {
		num uint32
		typ byte
		f2  uint32
		f3  uint16
	}
	rows := []row{{ref.Num, 2, stm, 0}, {cs, 1, uint32(csOff), 0}, {stm, 1, uint32(stmOff), 0}, {xrefNum, 1, uint32(xrefOff), 0}}
	sort.Slice(rows, func(i, j int) bool { return rows[i].num < rows[j].num })
	var xs bytes.Buffer
	var index []string
	for _, r := range rows {
		xs.WriteByte(r.typ)
		xs.Write([]byte{byte(r.f2 >> 24), byte(r.f2 >> 16), byte(r.f2 >> 8), byte(r.f2)})
		xs.Write([]byte{byte(r.f3 >> 8), byte(r.f3)})
		index = append(index, fmt.Sprintf("%d 1", r.num))
	}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /Root %s /Prev %d /W [1 4 2] /Index [%s] /Length %d >>\nstream\n",
		xrefNum, u.next, serialize(u.root), u.last.StartXref, strings.Join(index, " "), xs.Len())
	b.Write(xs.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOff)
	return b.Bytes(), nil
}

// ReplaceSigDict redefines the first signature dictionary in a later
// revision (the "spoofing" attack): same /ByteRange, a new /M and /Reason.
func ReplaceSigDict(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	s, err := firstSig(in)
	if err != nil {
		return nil, err
	}
	// The object holding the first /ByteRange.
	var target pdf.Ref
	for _, ref := range u.f.Objects(u.last.Index) {
		e, _, ok := u.f.Lookup(ref, u.last.Index)
		if ok && e.InStream == nil && e.Offset < int64(s.matchStart) && (target.Num == 0 || e.Offset > mustOffset(u, target)) {
			if d, ok := u.resolve(ref).(pdf.Dict); ok {
				if _, has := d["ByteRange"]; has {
					target = ref
				}
			}
		}
	}
	if target.Num == 0 {
		return nil, errors.New("tamper: signature object not found")
	}
	d, err := u.dict(target)
	if err != nil {
		return nil, err
	}
	d["M"] = pdf.String("D:20300101000000+07'00'")
	d["Reason"] = pdf.String("Phe duyet lai")
	u.set(target.Num, serialize(d))
	return u.bytes(""), nil
}

func mustOffset(u *update, r pdf.Ref) int64 {
	e, _, _ := u.f.Lookup(r, u.last.Index)
	return e.Offset
}

// AddPage appends a new page to the page tree root.
func AddPage(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	cat, err := u.dict(u.root)
	if err != nil {
		return nil, err
	}
	pagesRef, ok := cat["Pages"].(pdf.Ref)
	if !ok {
		return nil, errors.New("tamper: /Pages is not indirect")
	}
	pages, err := u.dict(pagesRef)
	if err != nil {
		return nil, err
	}
	kids, _ := u.resolve(pages["Kids"]).(pdf.Array)
	cs := u.alloc()
	u.set(cs, contentStream("TRANG BO SUNG"))
	pg := u.alloc()
	u.set(pg, fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << >> >>", pagesRef, cs))
	kids = append(append(pdf.Array{}, kids...), pdf.Ref{Num: pg})
	pages["Kids"] = kids
	n, _ := pages.Int("Count")
	pages["Count"] = pdf.Integer(n + 1)
	u.set(pagesRef.Num, serialize(pages))
	return u.bytes(""), nil
}

// AddAnnotationOverlay lays a white square annotation over the first page,
// hiding what was signed without touching its content stream.
func AddAnnotationOverlay(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	ref, page, err := u.firstPage()
	if err != nil {
		return nil, err
	}
	ap := u.alloc()
	data := "1 1 1 rg 0 0 595 842 re f"
	u.set(ap, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length %d >>\nstream\n%s\nendstream", len(data), data))
	an := u.alloc()
	u.set(an, fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [0 0 595 842] /C [1 1 1] /IC [1 1 1] /F 4 /P %s /AP << /N %d 0 R >> >>", ref, ap))
	annots, _ := u.resolve(page["Annots"]).(pdf.Array)
	page["Annots"] = append(append(pdf.Array{}, annots...), pdf.Ref{Num: an})
	u.set(ref.Num, serialize(page))
	return u.bytes(""), nil
}

// ExtraTrailer appends a cross-reference section and trailer whose /Root is
// a new catalog: the same pages, with an /OpenAction the signer never saw.
func ExtraTrailer(in []byte) ([]byte, error) {
	u, err := newUpdate(in)
	if err != nil {
		return nil, err
	}
	cat, err := u.dict(u.root)
	if err != nil {
		return nil, err
	}
	cat["OpenAction"] = pdf.Dict{"S": pdf.Name("JavaScript"), "JS": pdf.String("app.alert('x')")}
	n := u.alloc()
	u.set(n, serialize(cat))
	u.root = pdf.Ref{Num: n}
	return u.bytes(""), nil
}

// serialize writes an object in PDF syntax. Streams cannot be inlined and
// are written as null (callers only serialise dictionaries of non-streams).
func serialize(o pdf.Object) string {
	var b strings.Builder
	ser(&b, o, 0)
	return b.String()
}

func ser(b *strings.Builder, o pdf.Object, depth int) {
	if depth > 64 {
		b.WriteString("null")
		return
	}
	switch x := o.(type) {
	case nil, pdf.Null, *pdf.Stream:
		b.WriteString("null")
	case pdf.Bool:
		b.WriteString(strconv.FormatBool(bool(x)))
	case pdf.Integer:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case pdf.Real:
		b.WriteString(strconv.FormatFloat(float64(x), 'f', -1, 64))
	case pdf.String:
		fmt.Fprintf(b, "<%x>", []byte(x))
	case pdf.Name:
		b.WriteByte('/')
		for _, c := range []byte(x) {
			if c < 0x21 || c > 0x7e || strings.IndexByte("#()<>[]{}/%", c) >= 0 {
				fmt.Fprintf(b, "#%02X", c)
			} else {
				b.WriteByte(c)
			}
		}
	case pdf.Ref:
		fmt.Fprintf(b, "%d %d R", x.Num, x.Gen)
	case pdf.Array:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			ser(b, e, depth+1)
		}
		b.WriteByte(']')
	case pdf.Dict:
		b.WriteString("<<")
		for _, k := range x.Keys() {
			ser(b, k, depth+1)
			b.WriteByte(' ')
			ser(b, x[k], depth+1)
		}
		b.WriteString(">>")
	default:
		b.WriteString("null")
	}
}
