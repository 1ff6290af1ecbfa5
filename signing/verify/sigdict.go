package verify

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// sigDict is a signature (or document timestamp) dictionary read straight
// from the file bytes, with the exact position of its /Contents string: the
// ByteRange gap must be that string and nothing else.
type sigDict struct {
	ObjOffset     int64 // offset of "n g obj" (or of the dictionary when unknown)
	ObjNum        int64
	Type          string
	SubFilter     string
	Filter        string
	ByteRange     []int64
	ByteRangeOK   bool // parsed as an array of integers
	Contents      []byte
	ContentsStart int64 // offset of '<'
	ContentsEnd   int64 // offset just past '>'
	ContentsHex   bool
	M             string
	Name          string
	Reason        string
	Location      string
	DocMDP        int  // P of a DocMDP transform in /Reference, 0 if none
	FieldMDP      bool // /Reference carries a FieldMDP transform
	RefIndirect   bool // /Reference or its parts are indirect: resolve with the PDF reader
}

// maxDictBytes bounds how far a signature dictionary may extend; /Contents
// of real signatures is at most a few hundred kilobytes.
const maxDictBytes = 4 << 20

// value is a parsed PDF value from the mini parser.
type value struct {
	kind  byte // 'n' name, 'i' int, 'r' real, 's' string, 'h' hex, 'a' array, 'd' dict, 'R' ref, 'b' bool, 'z' null
	str   []byte
	num   int64
	arr   []value
	dict  map[string]value
	start int64
	end   int64
}

type miniParser struct {
	b    []byte
	pos  int
	base int64
}

var errMini = errors.New("malformed object")

func (p *miniParser) ws() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			p.pos++
		case c == '%':
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
		default:
			return
		}
	}
}

func isDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/% \n\r\t\f\x00"), c) >= 0
}

func (p *miniParser) parse(depth int) (value, error) {
	if depth > 32 {
		return value{}, errMini
	}
	p.ws()
	if p.pos >= len(p.b) {
		return value{}, io.ErrUnexpectedEOF
	}
	start := p.pos
	c := p.b[p.pos]
	v := value{start: p.base + int64(start)}
	switch {
	case c == '/':
		p.pos++
		for p.pos < len(p.b) && !isDelim(p.b[p.pos]) {
			p.pos++
		}
		v.kind, v.str = 'n', p.b[start+1:p.pos]
	case c == '<' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '<':
		p.pos += 2
		v.kind, v.dict = 'd', map[string]value{}
		for {
			p.ws()
			if p.pos+1 < len(p.b) && p.b[p.pos] == '>' && p.b[p.pos+1] == '>' {
				p.pos += 2
				break
			}
			k, err := p.parse(depth + 1)
			if err != nil || k.kind != 'n' {
				return value{}, errMini
			}
			val, err := p.parse(depth + 1)
			if err != nil {
				return value{}, err
			}
			if _, dup := v.dict[string(k.str)]; dup {
				// Two values for one key is how dictionary spoofing hides.
				v.dict["\x00dup"] = value{kind: 'b', num: 1}
			}
			v.dict[string(k.str)] = val
		}
	case c == '<':
		p.pos++
		var out []byte
		var hi byte
		half := false
		for {
			if p.pos >= len(p.b) {
				return value{}, io.ErrUnexpectedEOF
			}
			c := p.b[p.pos]
			p.pos++
			if c == '>' {
				break
			}
			d, ok := hexVal(c)
			if !ok {
				if c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' {
					continue
				}
				return value{}, errMini
			}
			if half {
				out = append(out, hi<<4|d)
			} else {
				hi = d
			}
			half = !half
		}
		if half {
			out = append(out, hi<<4)
		}
		v.kind, v.str = 'h', out
	case c == '(':
		p.pos++
		var out []byte
		nest := 1
		for nest > 0 {
			if p.pos >= len(p.b) {
				return value{}, io.ErrUnexpectedEOF
			}
			c := p.b[p.pos]
			p.pos++
			switch c {
			case '\\':
				if p.pos < len(p.b) {
					e := p.b[p.pos]
					p.pos++
					switch e {
					case 'n':
						out = append(out, '\n')
					case 'r':
						out = append(out, '\r')
					case 't':
						out = append(out, '\t')
					case 'b':
						out = append(out, '\b')
					case 'f':
						out = append(out, '\f')
					case '\r', '\n':
					default:
						if e >= '0' && e <= '7' {
							n := int(e - '0')
							for k := 0; k < 2 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; k++ {
								n = n*8 + int(p.b[p.pos]-'0')
								p.pos++
							}
							out = append(out, byte(n))
						} else {
							out = append(out, e)
						}
					}
				}
				continue
			case '(':
				nest++
			case ')':
				nest--
				if nest == 0 {
					continue
				}
			}
			out = append(out, c)
		}
		v.kind, v.str = 's', out
	case c == '[':
		p.pos++
		v.kind = 'a'
		for {
			p.ws()
			if p.pos < len(p.b) && p.b[p.pos] == ']' {
				p.pos++
				break
			}
			e, err := p.parse(depth + 1)
			if err != nil {
				return value{}, err
			}
			v.arr = append(v.arr, e)
			if len(v.arr) > 1<<16 {
				return value{}, errMini
			}
		}
		// Fold "n g R" triples into references.
		v.arr = foldRefs(v.arr)
	default:
		for p.pos < len(p.b) && !isDelim(p.b[p.pos]) {
			p.pos++
		}
		tok := p.b[start:p.pos]
		if len(tok) == 0 {
			p.pos++
			return value{}, errMini
		}
		switch string(tok) {
		case "true", "false":
			v.kind = 'b'
			if tok[0] == 't' {
				v.num = 1
			}
		case "null":
			v.kind = 'z'
		case "R":
			v.kind = 'R' // folded by the container
		default:
			if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
				v.kind, v.num = 'i', n
			} else if _, err := strconv.ParseFloat(string(tok), 64); err == nil {
				v.kind = 'r'
			} else {
				return value{}, errMini
			}
		}
		// A dictionary value "n g R".
		if v.kind == 'i' {
			save := p.pos
			p.ws()
			g := p.pos
			for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
				p.pos++
			}
			if p.pos > g {
				p.ws()
				if p.pos < len(p.b) && p.b[p.pos] == 'R' && (p.pos+1 >= len(p.b) || isDelim(p.b[p.pos+1])) {
					p.pos++
					v.kind = 'R'
					break
				}
			}
			p.pos = save
		}
	}
	v.end = p.base + int64(p.pos)
	return v, nil
}

func foldRefs(a []value) []value {
	out := a[:0]
	for _, e := range a {
		if e.kind == 'R' && len(out) >= 2 && out[len(out)-1].kind == 'i' && out[len(out)-2].kind == 'i' && e.num == 0 && e.end-e.start == 1 {
			n := out[len(out)-2]
			out = out[:len(out)-2]
			out = append(out, value{kind: 'R', num: n.num, start: n.start, end: e.end})
			continue
		}
		out = append(out, e)
	}
	return out
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseSigDictAt parses the object at off ("n g obj << ... >>" or a bare
// dictionary) from r.
func parseSigDictAt(r io.ReaderAt, size, off int64) (*sigDict, error) {
	n := int64(maxDictBytes)
	if off < 0 || off >= size {
		return nil, errors.New("signature dictionary offset outside the file")
	}
	if off+n > size {
		n = size - off
	}
	buf, err := span(r, off, n)
	if err != nil {
		return nil, err
	}
	p := &miniParser{b: buf, base: off}
	p.ws()
	sd := &sigDict{ObjOffset: off, ObjNum: -1}
	// Optional "n g obj" header.
	save := p.pos
	if a, err := p.parse(0); err == nil && a.kind == 'i' {
		if b, err := p.parse(0); err == nil && b.kind == 'i' {
			p.ws()
			if bytes.HasPrefix(buf[p.pos:], []byte("obj")) {
				p.pos += 3
				sd.ObjNum = a.num
			} else {
				p.pos = save
			}
		} else {
			p.pos = save
		}
	} else {
		p.pos = save
	}
	d, err := p.parse(0)
	if err != nil {
		return nil, err
	}
	if d.kind != 'd' {
		return nil, errors.New("not a dictionary")
	}
	fillSigDict(sd, d)
	return sd, nil
}

func fillSigDict(sd *sigDict, d value) {
	name := func(k string) string {
		if v, ok := d.dict[k]; ok && v.kind == 'n' {
			return string(v.str)
		}
		return ""
	}
	str := func(k string) string {
		if v, ok := d.dict[k]; ok && (v.kind == 's' || v.kind == 'h') {
			return pdfText(v.str)
		}
		return ""
	}
	sd.Type, sd.SubFilter, sd.Filter = name("Type"), name("SubFilter"), name("Filter")
	sd.M, sd.Name, sd.Reason, sd.Location = str("M"), str("Name"), str("Reason"), str("Location")
	if br, ok := d.dict["ByteRange"]; ok && br.kind == 'a' {
		sd.ByteRangeOK = true
		for _, e := range br.arr {
			if e.kind != 'i' {
				sd.ByteRangeOK = false
				break
			}
			sd.ByteRange = append(sd.ByteRange, e.num)
		}
	}
	if c, ok := d.dict["Contents"]; ok && (c.kind == 'h' || c.kind == 's') {
		sd.Contents, sd.ContentsStart, sd.ContentsEnd, sd.ContentsHex = c.str, c.start, c.end, c.kind == 'h'
	}
	if _, dup := d.dict["\x00dup"]; dup {
		sd.ByteRangeOK = false // a duplicated key makes the dictionary ambiguous
	}
	if ref, ok := d.dict["Reference"]; ok {
		if ref.kind != 'a' {
			sd.RefIndirect = true
		}
		for _, e := range ref.arr {
			if e.kind != 'd' {
				sd.RefIndirect = true
				continue
			}
			tm := e.dict["TransformMethod"]
			switch string(tm.str) {
			case "DocMDP":
				sd.DocMDP = 2 // default P
				if tp, ok := e.dict["TransformParams"]; ok {
					if tp.kind != 'd' {
						sd.RefIndirect = true
					} else if pv, ok := tp.dict["P"]; ok && pv.kind == 'i' && pv.num >= 1 && pv.num <= 3 {
						sd.DocMDP = int(pv.num)
					}
				}
			case "FieldMDP":
				sd.FieldMDP = true
			}
		}
	}
}

// pdfText decodes a PDF text string (UTF-16BE with BOM, or PDFDocEncoding
// treated as Latin-1, which covers what signers put in /Name and /Reason).
func pdfText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		var rs []rune
		for i := 2; i+1 < len(b); i += 2 {
			u := rune(b[i])<<8 | rune(b[i+1])
			if u >= 0xd800 && u < 0xdc00 && i+3 < len(b) {
				l := rune(b[i+2])<<8 | rune(b[i+3])
				u = 0x10000 + (u-0xd800)<<10 + (l - 0xdc00)
				i += 2
			}
			rs = append(rs, u)
		}
		return string(rs)
	}
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return string(b[3:])
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// scanSigDicts finds every dictionary in the raw bytes that has a
// /ByteRange key, by streaming over the file. It is how hidden signatures
// (and signatures of a file whose structure cannot be read) are found.
func scanSigDicts(r io.ReaderAt, size int64) []int64 {
	const chunk = 1 << 20
	pat := []byte("/ByteRange")
	var hits []int64
	for off := int64(0); off < size; off += chunk {
		b, _ := span(r, off, min(chunk+int64(len(pat)), size-off))
		for i := 0; ; {
			j := bytes.Index(b[i:], pat)
			if j < 0 {
				break
			}
			pos := off + int64(i+j)
			if pos < off+chunk || off+chunk >= size {
				if len(hits) == 0 || hits[len(hits)-1] != pos {
					hits = append(hits, pos)
				}
			}
			i += j + len(pat)
		}
		if len(hits) > 10000 {
			break
		}
	}
	return hits
}

// findObjectStart walks back from pos to the "n g obj" that opens the
// object holding pos, or to the dictionary opening "<<" when there is none.
func findObjectStart(r io.ReaderAt, pos int64) (int64, bool) {
	const back = 64 << 10
	from := max(0, pos-back)
	buf, err := span(r, from, pos-from)
	if err != nil || int64(len(buf)) != pos-from {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("obj"))
	for i >= 0 {
		// Skip "endobj".
		if i >= 3 && string(buf[i-3:i]) == "end" {
			return 0, false
		}
		// Walk back over "n g ".
		j := i - 1
		for j >= 0 && isWSByte(buf[j]) {
			j--
		}
		k := j
		for k >= 0 && buf[k] >= '0' && buf[k] <= '9' {
			k--
		}
		if k == j {
			return 0, false
		}
		for k >= 0 && isWSByte(buf[k]) {
			k--
		}
		m := k
		for m >= 0 && buf[m] >= '0' && buf[m] <= '9' {
			m--
		}
		if m == k {
			return 0, false
		}
		return from + int64(m+1), true
	}
	return 0, false
}

func isWSByte(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}
