package pdf

import (
	"bytes"
	"fmt"
)

// parseIndirect parses "num gen obj ... endobj" at pos. If want is non-nil
// the header must name that object. An indirect /Length is resolved in
// revision lenRev (-1: only a direct /Length is accepted, as for xref
// streams, which are read before revisions exist).
func (f *File) parseIndirect(pos int, want *Ref, lenRev ...int) (Ref, Object, int, error) {
	p := &parser{b: f.data, pos: pos, maxDepth: f.lim.MaxDepth, warn: f.warn}
	num, ok1 := p.readUint()
	gen, ok2 := p.readUint()
	if !ok1 || !ok2 || num > 0xFFFFFFFF || gen > 0xFFFF || !p.expectKeyword("obj") {
		return Ref{}, nil, 0, fmt.Errorf("no object header at offset %d", pos)
	}
	ref := Ref{Num: uint32(num), Gen: uint16(gen)}
	if want != nil && *want != ref {
		return ref, nil, 0, fmt.Errorf("xref entry for %d %d points to object %d %d at offset %d", want.Num, want.Gen, ref.Num, ref.Gen, pos)
	}
	o, err := p.parseObject(0)
	if err != nil {
		return ref, nil, 0, fmt.Errorf("object %d %d: %w", ref.Num, ref.Gen, err)
	}
	d, isDict := o.(Dict)
	save := p.pos
	if isDict && p.expectKeyword("stream") {
		// The keyword is followed by CRLF or LF; a lone CR is tolerated.
		switch {
		case bytes.HasPrefix(f.data[p.pos:], []byte("\r\n")):
			p.pos += 2
		case bytes.HasPrefix(f.data[p.pos:], []byte("\n")):
			p.pos++
		case bytes.HasPrefix(f.data[p.pos:], []byte("\r")):
			f.warn(fmt.Sprintf("object %d %d: stream keyword followed by a lone CR", ref.Num, ref.Gen))
			p.pos++
		}
		start := p.pos
		length, err := f.streamLength(d, ref, lenRev...)
		if err != nil {
			return ref, nil, 0, err
		}
		ok := length >= 0 && length <= int64(len(f.data)-start)
		if ok {
			p.pos = start + int(length)
			ok = p.expectKeyword("endstream")
		}
		if !ok {
			// A wrong /Length is common in real files. Fall back to the
			// first endstream keyword, and say so: the declared and the
			// used lengths differ.
			i := bytes.Index(f.data[start:], []byte("endstream"))
			if i < 0 {
				return ref, nil, 0, fmt.Errorf("object %d %d: no endstream for stream with /Length %d", ref.Num, ref.Gen, length)
			}
			n := i
			if n > 0 && f.data[start+n-1] == '\n' {
				n--
			}
			if n > 0 && f.data[start+n-1] == '\r' {
				n--
			}
			f.warn(fmt.Sprintf("object %d %d: stream /Length %d is wrong; %d bytes up to endstream used", ref.Num, ref.Gen, length, n))
			length = int64(n)
			p.pos = start + i + len("endstream")
		}
		s := &Stream{Dict: d, Offset: int64(start), Length: length, Ref: ref}
		if !p.expectKeyword("endobj") {
			f.warn(fmt.Sprintf("object %d %d: missing endobj", ref.Num, ref.Gen))
		}
		return ref, s, p.pos, nil
	}
	p.pos = save
	if !p.expectKeyword("endobj") {
		f.warn(fmt.Sprintf("object %d %d: missing endobj", ref.Num, ref.Gen))
	}
	return ref, o, p.pos, nil
}

// maxLengthHops bounds chains of indirect stream lengths.
const maxLengthHops = 16

func (f *File) streamLength(d Dict, ref Ref, lenRev ...int) (int64, error) {
	switch l := d["Length"].(type) {
	case Integer:
		return int64(l), nil
	case Ref:
		if len(lenRev) == 0 || lenRev[0] < 0 {
			return 0, fmt.Errorf("object %d %d: indirect /Length not allowed here", ref.Num, ref.Gen)
		}
		// A /Length inside an object stream whose own /Length is inside
		// another one, and so on: each step is a stream decoded before the
		// previous can be, so the chain is kept short.
		if f.lengthHops >= maxLengthHops {
			return 0, fmt.Errorf("object %d %d: /Length through more than %d object streams", ref.Num, ref.Gen, maxLengthHops)
		}
		f.lengthHops++
		o, err := f.get(l, lenRev[0], 1)
		f.lengthHops--
		if err != nil {
			return 0, fmt.Errorf("object %d %d: /Length: %w", ref.Num, ref.Gen, err)
		}
		if n, ok := o.(Integer); ok {
			return int64(n), nil
		}
		return 0, fmt.Errorf("object %d %d: /Length %s is not an integer", ref.Num, ref.Gen, Format(o))
	}
	return 0, fmt.Errorf("object %d %d: stream without a valid /Length", ref.Num, ref.Gen)
}

// Get returns the object ref as visible in revision rev. An object that is
// not defined, or freed, is Null, as the PDF specification says.
func (f *File) Get(ref Ref, rev int) (Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get(ref, rev, 0)
}

func (f *File) get(ref Ref, rev int, depth int) (Object, error) {
	if rev < 0 || rev >= len(f.revs) {
		return nil, fmt.Errorf("pdf: revision %d out of range", rev)
	}
	if depth > f.lim.MaxDepth {
		return nil, fmt.Errorf("pdf: object %d %d: references nested too deeply", ref.Num, ref.Gen)
	}
	e, _, ok := f.Lookup(ref, rev)
	if !ok || e.Free {
		return Null{}, nil
	}
	if e.InStream != nil {
		return f.getInStream(ref, e, rev, depth)
	}
	key := cacheKey{off: e.Offset}
	if o, ok := f.cache[key]; ok {
		return o, nil
	}
	if f.resolving[key] {
		return nil, fmt.Errorf("pdf: object %d %d refers to itself while being read", ref.Num, ref.Gen)
	}
	f.resolving[key] = true
	defer delete(f.resolving, key)
	pos, err := f.locate(e.Offset, fmt.Sprintf("object %d %d", ref.Num, ref.Gen))
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	want := ref
	_, o, _, err := f.parseIndirect(pos, &want, rev)
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	f.cache[key] = o
	return o, nil
}

// objStm is a decoded object stream.
type objStm struct {
	data    []byte
	charged int64 // to the budget, released when the cache lets it go
	first   int
	nums    []uint32
	offs    []int
}

func (f *File) getInStream(ref Ref, e Entry, rev, depth int) (Object, error) {
	if ref.Gen != 0 {
		return Null{}, nil
	}
	key := cacheKey{off: e.Offset, stm: e.InStream.Num + 1, idx: e.Index}
	if o, ok := f.cache[key]; ok {
		return o, nil
	}
	sk := cacheKey{off: e.Offset}
	if err := f.badStms[sk]; err != nil {
		// Decoding it again would fail again, at the same cost.
		return nil, err
	}
	os, ok := f.objStms[sk]
	if !ok {
		if f.resolving[key] {
			return nil, fmt.Errorf("pdf: object stream %d contains itself", e.InStream.Num)
		}
		f.resolving[key] = true
		defer delete(f.resolving, key)
		so, err := f.get(*e.InStream, rev, depth+1)
		if err != nil {
			return nil, fmt.Errorf("pdf: object stream %d for object %d: %w", e.InStream.Num, ref.Num, err)
		}
		st, ok := so.(*Stream)
		if !ok || st.Dict.Name("Type") != "ObjStm" {
			return nil, fmt.Errorf("pdf: object %d 0 (holding object %d) is not an object stream", e.InStream.Num, ref.Num)
		}
		os, err = f.readObjStm(st)
		if err != nil {
			err = fmt.Errorf("pdf: object stream %d: %w", e.InStream.Num, err)
			f.badStms[sk] = err
			return nil, err
		}
		f.objStms[sk] = os
	}
	if e.Index < 0 || e.Index >= len(os.nums) {
		return nil, fmt.Errorf("pdf: object %d: index %d outside object stream %d of %d objects", ref.Num, e.Index, e.InStream.Num, len(os.nums))
	}
	if os.nums[e.Index] != ref.Num {
		return nil, fmt.Errorf("pdf: object stream %d holds object %d at index %d, not %d", e.InStream.Num, os.nums[e.Index], e.Index, ref.Num)
	}
	start := os.first + os.offs[e.Index]
	if start > len(os.data) {
		return nil, fmt.Errorf("pdf: object %d offset outside object stream %d", ref.Num, e.InStream.Num)
	}
	// The next object's offset ends this one only when it lies between
	// this one's start and the end of the data: headers come from the file.
	end := len(os.data)
	if e.Index+1 < len(os.offs) {
		if next := os.first + os.offs[e.Index+1]; next >= start && next <= end {
			end = next
		}
	}
	p := &parser{b: os.data[:end], pos: start, maxDepth: f.lim.MaxDepth, warn: f.warn}
	o, err := p.parseObject(0)
	if err != nil {
		return nil, fmt.Errorf("pdf: object %d in object stream %d: %w", ref.Num, e.InStream.Num, err)
	}
	f.cache[key] = o
	return o, nil
}

// readObjStm decodes an object stream. Its data stays charged to the budget
// while it is cached; the caller caches it or releases os.charged.
func (f *File) readObjStm(st *Stream) (os *objStm, err error) {
	data, charged, err := f.decode(st)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.release(charged)
		}
	}()
	n, ok1 := st.Dict.Int("N")
	first, ok2 := st.Dict.Int("First")
	if !ok1 || !ok2 || n < 0 || first < 0 || first > int64(len(data)) {
		return nil, fmt.Errorf("invalid /N or /First")
	}
	if n > int64(f.lim.MaxObjects) || n*4 > first+4 {
		// Each pair needs at least 4 bytes of header ("1 0 ").
		return nil, fmt.Errorf("/N %d does not fit in /First %d", n, first)
	}
	os = &objStm{data: data, charged: charged, first: int(first)}
	p := &parser{b: data[:first], maxDepth: 1}
	for i := int64(0); i < n; i++ {
		num, ok1 := p.readUint()
		off, ok2 := p.readUint()
		if !ok1 || !ok2 || num > 0xFFFFFFFF || off > int64(len(data)) {
			return nil, fmt.Errorf("malformed header at pair %d", i)
		}
		os.nums = append(os.nums, uint32(num))
		os.offs = append(os.offs, int(off))
	}
	return os, nil
}

// Resolve follows o while it is a reference, a bounded number of times.
func (f *File) Resolve(o Object, rev int) (Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resolve(o, rev)
}

func (f *File) resolve(o Object, rev int) (Object, error) {
	for i := 0; i <= f.lim.MaxDepth; i++ {
		r, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		o, err = f.get(r, rev, 0)
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("pdf: reference chain longer than %d", f.lim.MaxDepth)
}

// StreamData returns the decoded data of s, resolving indirect filter
// parameters in revision rev. The data counts against the file's budget
// until Close; an error wrapping ErrBudget says a limit refused it.
func (f *File) StreamData(s *Stream, rev int) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("pdf: nil stream")
	}
	d := Dict{}
	for k, v := range s.Dict {
		d[k] = v
	}
	for _, k := range []Name{"Filter", "DecodeParms"} {
		v, err := f.resolve(d[k], rev)
		if err != nil {
			return nil, fmt.Errorf("pdf: stream %d %d /%s: %w", s.Ref.Num, s.Ref.Gen, k, err)
		}
		if arr, ok := v.(Array); ok {
			out := make(Array, len(arr))
			for i := range arr {
				if out[i], err = f.resolve(arr[i], rev); err != nil {
					return nil, err
				}
			}
			v = out
		}
		if v != nil {
			d[k] = v
		}
	}
	c := *s
	c.Dict = d
	// The result stays charged to the budget until Close: callers keep
	// what they read from it (certificates, revocation data).
	out, _, err := f.decode(&c)
	if err != nil {
		return nil, fmt.Errorf("pdf: stream %d %d: %w", s.Ref.Num, s.Ref.Gen, err)
	}
	return out, nil
}

// RawStreamData returns the stream's bytes as stored in the file.
func (f *File) RawStreamData(s *Stream) []byte {
	if s == nil {
		return nil
	}
	return f.Bytes(s.Offset, s.Offset+s.Length)
}
