package pdf

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// section is one cross-reference section as found in the file.
type section struct {
	off        int64
	entries    map[Ref]Entry
	trailer    Dict
	xrefStream bool
	end        int64 // just past the trailer dictionary or the xref stream object
	extra      []int64
}

// readRevisions follows the /Prev chain from the last startxref and builds
// the revisions, oldest first.
func (f *File) readRevisions() error {
	if !bytes.HasPrefix(f.data, []byte("%PDF-")) {
		i := bytes.Index(f.data[:min(len(f.data), 1024)], []byte("%PDF-"))
		if i < 0 {
			return fmt.Errorf("no %%PDF- header")
		}
		// Offsets are then relative to the header for some viewers, absolute
		// for others; we do not guess.
		f.warn(fmt.Sprintf("%d bytes of junk before the %%PDF- header", i))
	}
	off, err := f.lastStartxref()
	if err != nil {
		return err
	}
	visited := map[int64]bool{}
	var chain []*section // newest first
	total := 0
	for {
		if visited[off] {
			return fmt.Errorf("cyclic /Prev chain: xref section at offset %d is reached twice", off)
		}
		visited[off] = true
		if len(chain) >= f.lim.MaxRevisions {
			return fmt.Errorf("more than %d xref sections", f.lim.MaxRevisions)
		}
		s, firstErr := f.readSection(off, total)
		if firstErr != nil {
			// Some writers record a wrong /Prev or startxref. Recover the
			// section that ends at the preceding %%EOF, loudly, or fail.
			// The file's own startxref is never second-guessed.
			if len(chain) == 0 {
				return fmt.Errorf("xref section at offset %d: %w", off, firstErr)
			}
			roff, ok := f.recoverSection(chain[len(chain)-1].off, visited)
			if !ok {
				return fmt.Errorf("xref section at offset %d: %w", off, firstErr)
			}
			var err error
			s, err = f.readSection(roff, total)
			if err != nil {
				return fmt.Errorf("xref section at offset %d: %w (and recovering from the one at %d: %v)", off, firstErr, roff, err)
			}
			f.warn(fmt.Sprintf("RECOVERED: no xref section at offset %d (%v); used the one at %d that ends at the preceding %%%%EOF", off, firstErr, roff))
			visited[roff] = true
			off = roff
		}
		total += len(s.entries)
		chain = append(chain, s)
		prev, hasPrev := s.trailer[Name("Prev")]
		if !hasPrev {
			break
		}
		p, ok := prev.(Integer)
		if !ok || p < 0 || int64(p) >= int64(len(f.data)) {
			return fmt.Errorf("xref section at offset %d: invalid /Prev %s", off, Format(prev))
		}
		off = int64(p)
	}
	// Group sections into revisions. A section whose /Prev points forward is
	// a linearized file's first-page section: it and the main section it
	// points to form one revision.
	type group struct{ secs []*section }
	var groups []group
	for i := 0; i < len(chain); i++ {
		g := group{secs: []*section{chain[i]}}
		if i+1 < len(chain) && chain[i+1].off > chain[i].off {
			if !f.isLinearized() {
				f.warn(fmt.Sprintf("xref section at offset %d has a forward /Prev in a file that is not linearized; both treated as one revision", chain[i].off))
			}
			g.secs = append(g.secs, chain[i+1])
			i++
		}
		groups = append(groups, g)
	}
	f.revs = make([]Revision, len(groups))
	for gi, g := range groups {
		idx := len(groups) - 1 - gi
		rev := Revision{Index: idx, StartXref: g.secs[0].off, Trailer: g.secs[0].trailer, XrefStream: g.secs[0].xrefStream}
		if len(g.secs) == 1 {
			// The usual case: the section's own map is the revision's (a
			// copy costs as much as reading the section again).
			rev.Entries = g.secs[0].entries
		} else {
			n := 0
			for _, s := range g.secs {
				n += len(s.entries)
			}
			rev.Entries = make(map[Ref]Entry, n)
		}
		// Older-in-chain sections first so that the first section wins.
		for k := len(g.secs) - 1; k >= 0; k-- {
			s := g.secs[k]
			if len(g.secs) > 1 {
				for r, e := range s.entries {
					rev.Entries[r] = e
				}
			}
			rev.Sections = append(rev.Sections, s.off)
			rev.Sections = append(rev.Sections, s.extra...)
		}
		var end int64
		for _, s := range g.secs {
			e, err := f.findEOF(s, idx == len(groups)-1)
			if err != nil {
				return fmt.Errorf("revision %d: %w", idx, err)
			}
			end = max(end, e)
			if m := bytes.LastIndex(f.data[:e], []byte("%%EOF")); m >= 0 && int64(m) >= s.end {
				rev.EOFMarkers = append(rev.EOFMarkers, int64(m))
			}
		}
		rev.End = end
		f.revs[idx] = rev
	}
	if err := f.checkRevisions(); err != nil {
		return err
	}
	f.index()
	return nil
}

func (f *File) isLinearized() bool {
	p := &parser{b: f.data[:min(len(f.data), 2048)], maxDepth: 8}
	p.skipWS()
	if _, ok := p.readUint(); !ok {
		return false
	}
	if _, ok := p.readUint(); !ok {
		return false
	}
	if !p.expectKeyword("obj") {
		return false
	}
	o, err := p.parseObject(0)
	if err != nil {
		return false
	}
	d, _ := o.(Dict)
	_, ok := d["Linearized"]
	return ok
}

// checkRevisions enforces that each revision's bytes are self-contained and
// that revisions appear in file order: a revision whose objects live past
// its own end would let unsigned bytes change what a signature covers.
func (f *File) checkRevisions() error {
	for i := range f.revs {
		r := &f.revs[i]
		if i > 0 && r.End <= f.revs[i-1].End {
			return fmt.Errorf("revision %d ends at %d, not after revision %d (ends at %d): xref sections out of file order", i, r.End, i-1, f.revs[i-1].End)
		}
		if r.StartXref >= r.End {
			return fmt.Errorf("revision %d: xref section at %d lies past its end %d", i, r.StartXref, r.End)
		}
		for ref, e := range r.Entries {
			if e.Free {
				continue
			}
			if e.InStream != nil {
				se, _, ok := f.Lookup(*e.InStream, i)
				if !ok || se.Free || se.InStream != nil {
					return fmt.Errorf("revision %d: object %d %d is in object stream %d, which is not a plain object in that revision", i, ref.Num, ref.Gen, e.InStream.Num)
				}
				e.Offset = se.Offset
				r.Entries[ref] = e
			}
			if e.Offset < 0 || e.Offset >= r.End {
				return fmt.Errorf("revision %d: object %d %d at offset %d lies outside the revision's bytes [0, %d)", i, ref.Num, ref.Gen, e.Offset, r.End)
			}
		}
	}
	if last := f.revs[len(f.revs)-1].End; last < int64(len(f.data)) {
		rest := f.data[last:]
		if len(bytes.Trim(rest, "\x00\t\n\f\r ")) > 0 {
			f.warn(fmt.Sprintf("%d bytes after the last revision's %%%%EOF are not part of any revision", len(rest)))
		}
	}
	return nil
}

// findEOF returns the end of the revision whose xref section is s: just past
// the "%%EOF" that follows it, and its end-of-line.
func (f *File) findEOF(s *section, last bool) (int64, error) {
	p := &parser{b: f.data, pos: int(s.end)}
	for p.pos < len(p.b) && isWS(p.b[p.pos]) {
		p.pos++
	}
	strict := false
	if bytes.HasPrefix(p.b[p.pos:], []byte("startxref")) {
		p.pos += len("startxref")
		if v, ok := p.readUint(); ok {
			for p.pos < len(p.b) && isWS(p.b[p.pos]) {
				p.pos++
			}
			if bytes.HasPrefix(p.b[p.pos:], []byte("%%EOF")) {
				strict = true
				if v != s.off && v != 0 {
					f.warn(fmt.Sprintf("startxref after the section at %d says %d", s.off, v))
				}
			}
		}
	}
	if !strict {
		i := bytes.Index(f.data[s.end:], []byte("%%EOF"))
		if i < 0 {
			if last {
				f.warn("the last revision has no %%EOF marker")
				return int64(len(f.data)), nil
			}
			return 0, fmt.Errorf("no %%%%EOF after the xref section at %d", s.off)
		}
		f.warn(fmt.Sprintf("no well-formed startxref/%%%%EOF directly after the xref section at %d", s.off))
		p.pos = int(s.end) + i
	}
	p.pos += 5
	if p.pos < len(p.b) && p.b[p.pos] == '\r' {
		p.pos++
	}
	if p.pos < len(p.b) && p.b[p.pos] == '\n' {
		p.pos++
	}
	return int64(p.pos), nil
}

// locate returns off moved past whitespace, warning when it had to.
func (f *File) locate(off int64, what string) (int, error) {
	if off < 0 || off >= int64(len(f.data)) {
		return 0, fmt.Errorf("%s offset %d outside the file (size %d)", what, off, len(f.data))
	}
	pos := int(off)
	for pos < len(f.data) && isWS(f.data[pos]) && pos-int(off) < 64 {
		pos++
	}
	if pos != int(off) {
		f.warn(fmt.Sprintf("%s offset %d points %d whitespace bytes before it", what, off, pos-int(off)))
	}
	return pos, nil
}

func (f *File) readSection(off int64, total int) (*section, error) {
	pos, err := f.locate(off, "xref")
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(f.data[pos:], []byte("xref")) {
		s, err := f.readTable(pos, total)
		if err != nil {
			return nil, err
		}
		s.off = off
		if xs, ok := s.trailer[Name("XRefStm")]; ok {
			// Hybrid file: the stream's entries come after the table's.
			xo, ok := xs.(Integer)
			if !ok {
				return nil, fmt.Errorf("invalid /XRefStm %s", Format(xs))
			}
			hs, err := f.readXrefStream(int64(xo), total+len(s.entries))
			if err != nil {
				return nil, fmt.Errorf("/XRefStm at %d: %w", xo, err)
			}
			for r, e := range hs.entries {
				if _, ok := s.entries[r]; !ok {
					s.entries[r] = e
				}
			}
			s.extra = append(s.extra, int64(xo))
		}
		return s, nil
	}
	s, err := f.readXrefStream(off, total)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (f *File) readTable(pos int, total int) (*section, error) {
	p := &parser{b: f.data, pos: pos + 4, maxDepth: f.lim.MaxDepth, warn: f.warn}
	s := &section{entries: map[Ref]Entry{}}
	for {
		p.skipWS()
		if bytes.HasPrefix(f.data[p.pos:], []byte("trailer")) {
			p.pos += len("trailer")
			break
		}
		start, ok1 := p.readUint()
		count, ok2 := p.readUint()
		if !ok1 || !ok2 {
			return nil, p.errorf("malformed xref subsection header")
		}
		if total+len(s.entries)+int(min(count, int64(f.lim.MaxObjects)+1)) > f.lim.MaxObjects {
			return nil, fmt.Errorf("more than %d xref entries", f.lim.MaxObjects)
		}
		if start+count > 1<<32 {
			return nil, p.errorf("xref subsection %d %d exceeds object numbers", start, count)
		}
		if count*18 > int64(len(f.data)-p.pos) {
			return nil, p.errorf("xref subsection of %d entries does not fit in the file", count)
		}
		if len(s.entries) == 0 && count > 8 {
			s.entries = make(map[Ref]Entry, count) // built once, not grown row by row
		}
		for i := int64(0); i < count; i++ {
			o, ok1 := p.readUint()
			g, ok2 := p.readUint()
			p.skipWS()
			if !ok1 || !ok2 || g > 0xFFFF || p.pos >= len(f.data) {
				return nil, p.errorf("malformed xref entry")
			}
			kind := f.data[p.pos]
			p.pos++
			if kind != 'n' && kind != 'f' {
				return nil, p.errorf("xref entry type %q", kind)
			}
			num := uint32(start + i)
			if num == 0 {
				continue // object 0 is the head of the free list
			}
			ref := Ref{Num: num, Gen: uint16(g)}
			e := Entry{Ref: ref, Offset: o, Free: kind == 'f'}
			if !e.Free && o == 0 {
				f.warn(fmt.Sprintf("xref entry for %d %d has offset 0; treated as free", num, g))
				e.Free = true
			}
			if e.Free {
				// A free entry's generation is the next one to use; the
				// freed object is the one with the previous generation.
				if g > 0 {
					ref.Gen = uint16(g - 1)
				}
				e.Ref = ref
			}
			s.entries[ref] = e
		}
	}
	o, err := p.parseObject(0)
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	d, ok := o.(Dict)
	if !ok {
		return nil, fmt.Errorf("trailer is not a dictionary")
	}
	s.trailer = d
	s.end = int64(p.pos)
	return s, nil
}

func (f *File) readXrefStream(off int64, total int) (*section, error) {
	pos, err := f.locate(off, "xref stream")
	if err != nil {
		return nil, err
	}
	ref, obj, end, err := f.parseIndirect(pos, nil)
	if err != nil {
		return nil, fmt.Errorf("neither an xref table nor an xref stream: %w", err)
	}
	st, ok := obj.(*Stream)
	if !ok || st.Dict.Name("Type") != "XRef" {
		return nil, fmt.Errorf("object %d %d is not an xref stream", ref.Num, ref.Gen)
	}
	data, charged, err := f.decode(st)
	if err != nil {
		return nil, fmt.Errorf("xref stream: %w", err)
	}
	defer f.release(charged) // the entries are read from it here, then it is done
	w, ok := st.Dict["W"].(Array)
	if !ok || len(w) != 3 {
		return nil, fmt.Errorf("xref stream /W must be an array of 3 integers")
	}
	var ws [3]int
	row := 0
	for i := range w {
		n, ok := w[i].(Integer)
		if !ok || n < 0 || n > 8 {
			return nil, fmt.Errorf("xref stream /W %s out of range", Format(w))
		}
		ws[i] = int(n)
		row += int(n)
	}
	if row == 0 {
		return nil, fmt.Errorf("xref stream /W is all zero")
	}
	size, ok := st.Dict.Int("Size")
	if !ok || size < 0 {
		return nil, fmt.Errorf("xref stream without a valid /Size")
	}
	index := Array{Integer(0), Integer(size)}
	if ix, ok := st.Dict["Index"]; ok {
		index, ok = ix.(Array)
		if !ok || len(index)%2 != 0 {
			return nil, fmt.Errorf("xref stream /Index must be pairs of integers")
		}
	}
	// Sized for the rows the data can hold, so the map is built once.
	hint := min(len(data)/row, max(f.lim.MaxObjects-total, 0))
	s := &section{entries: make(map[Ref]Entry, hint), trailer: st.Dict, xrefStream: true, end: int64(end), off: off}
	p := 0
	for i := 0; i < len(index); i += 2 {
		start, ok1 := index[i].(Integer)
		count, ok2 := index[i+1].(Integer)
		if !ok1 || !ok2 || start < 0 || count < 0 || int64(start)+int64(count) > 1<<32 {
			return nil, fmt.Errorf("xref stream /Index %s invalid", Format(index))
		}
		if int64(count) > int64(f.lim.MaxObjects) || total+len(s.entries)+int(count) > f.lim.MaxObjects {
			return nil, fmt.Errorf("more than %d xref entries", f.lim.MaxObjects)
		}
		if int64(count)*int64(row) > int64(len(data)-p) {
			return nil, fmt.Errorf("xref stream data too short for /Index %s and /W %s", Format(index), Format(w))
		}
		for j := int64(0); j < int64(count); j++ {
			var fld [3]uint64
			for k := 0; k < 3; k++ {
				fld[k] = beUint(data[p : p+ws[k]])
				p += ws[k]
			}
			if ws[0] == 0 {
				fld[0] = 1
			}
			num := uint32(int64(start) + j)
			if num == 0 {
				continue
			}
			switch fld[0] {
			case 0:
				g := fld[2]
				if g > 0 {
					g--
				}
				r := Ref{Num: num, Gen: uint16(g)}
				s.entries[r] = Entry{Ref: r, Free: true}
			case 1:
				if fld[2] > 0xFFFF || fld[1] > 1<<62 {
					return nil, fmt.Errorf("xref stream entry for object %d out of range", num)
				}
				r := Ref{Num: num, Gen: uint16(fld[2])}
				s.entries[r] = Entry{Ref: r, Offset: int64(fld[1])}
			case 2:
				if fld[1] > 0xFFFFFFFF || fld[2] > 1<<31 {
					return nil, fmt.Errorf("xref stream entry for object %d out of range", num)
				}
				r := Ref{Num: num}
				sr := Ref{Num: uint32(fld[1])}
				s.entries[r] = Entry{Ref: r, InStream: &sr, Index: int(fld[2])}
			default:
				// Reserved types are references to the null object.
				f.warn(fmt.Sprintf("xref stream entry type %d for object %d ignored", fld[0], num))
			}
		}
	}
	return s, nil
}

func beUint(b []byte) uint64 {
	var buf [8]byte
	copy(buf[8-len(b):], b)
	return binary.BigEndian.Uint64(buf[:])
}

// recoverSection finds the xref section of the revision that ends at the
// last %%EOF before offset before: the one its startxref names if that is
// valid, else the last "xref" keyword at the start of a line in that
// revision's bytes.
func (f *File) recoverSection(before int64, visited map[int64]bool) (int64, bool) {
	if before > int64(len(f.data)) || before < 0 {
		return 0, false
	}
	eof := bytes.LastIndex(f.data[:before], []byte("%%EOF"))
	if eof < 0 {
		return 0, false
	}
	lo := bytes.LastIndex(f.data[:eof], []byte("%%EOF")) + 1
	seg := f.data[lo:eof]
	if i := bytes.LastIndex(seg, []byte("startxref")); i >= 0 {
		p := &parser{b: f.data, pos: lo + i + len("startxref")}
		if v, ok := p.readUint(); ok && v > int64(lo) && v < int64(eof) && !visited[v] {
			q := &parser{b: f.data, pos: int(v), maxDepth: 4}
			q.skipWS()
			if bytes.HasPrefix(f.data[q.pos:], []byte("xref")) {
				return v, true
			}
			if _, ok := q.readUint(); ok {
				if _, ok := q.readUint(); ok && q.expectKeyword("obj") {
					return v, true
				}
			}
		}
	}
	for end := len(seg); end > 0; {
		i := bytes.LastIndex(seg[:end], []byte("xref"))
		if i < 0 {
			break
		}
		if i > 0 && (seg[i-1] == '\n' || seg[i-1] == '\r') && !visited[int64(lo+i)] {
			return int64(lo + i), true
		}
		end = i
	}
	return 0, false
}
