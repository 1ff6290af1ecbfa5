package pdf

import (
	"bytes"
	"fmt"
	"sort"
)

// Repairing damaged cross-reference data of later revisions.
//
// Viewers do not refuse a file whose newest cross-reference section cannot
// be read, or whose entries point at the wrong bytes: they rebuild the table
// by scanning the file for "num gen obj" and show what they find. A
// verifier that gives up instead lets an attacker hide a change behind a
// damaged section (a shadow attack the signature check never sees). So a
// revision after the first whose cross-reference data is damaged is
// rebuilt the way viewers do, from the objects defined in its own bytes,
// and marked Repaired; the revisions before it must still read strictly.
// The first revision is never rebuilt: without it nothing was signed.

// maxRepairPrefixes bounds how many %%EOF markers are tried as the end of
// the last strictly readable revision.
const maxRepairPrefixes = 64

// repair opens the file as its longest strictly readable prefix that ends
// at a %%EOF marker, followed by one repaired revision holding the rest.
func (f *File) repair(cause error) error {
	markers := f.EOFMarkers()
	tried := 0
	for i := len(markers) - 1; i >= 0 && tried < maxRepairPrefixes; i-- {
		end := eolAfter(f.data, int(markers[i])+5)
		if end >= len(f.data) {
			continue // the whole file: that is what failed
		}
		tried++
		// The prefix decodes on the file's own budget and gives back what it
		// holds once its revisions are read.
		sub := &File{data: f.data[:end], lim: f.lim, warnSeen: map[string]bool{}, cache: map[cacheKey]Object{},
			objStms: map[cacheKey]*objStm{}, badStms: map[cacheKey]error{}, resolving: map[cacheKey]bool{}, budget: f.budget}
		err := sub.readRevisions()
		sub.Close()
		if err != nil {
			continue
		}
		prev := sub.revs[len(sub.revs)-1]
		// The strict revisions first, so that an indirect /Length in the
		// damaged revision can be resolved while it is rebuilt.
		f.revs, f.defs = sub.revs, nil
		rev, err := f.rebuild(len(sub.revs), prev, int64(end), int64(len(f.data)))
		if err != nil {
			f.revs = nil
			return err
		}
		rev.Repaired = fmt.Sprintf("cross-reference data after offset %d cannot be read (%v)", end, cause)
		f.revs = append(sub.revs, rev)
		for _, w := range sub.warnings {
			f.warn(w)
		}
		if err := f.checkRevisions(); err != nil {
			return err
		}
		f.index()
		f.checkOffsets()
		f.warn(fmt.Sprintf("REPAIRED: revision %d (bytes %d to %d): %s; rebuilt from the %d objects defined in its bytes, as viewers do", rev.Index, end, len(f.data), rev.Repaired, len(rev.Entries)))
		return nil
	}
	return cause
}

// checkOffsets rebuilds every revision after the first whose entries point
// at bytes that do not define the object they name: viewers then scan for
// the objects, and what they show is what the revision's bytes define.
func (f *File) checkOffsets() {
	for i := 1; i < len(f.revs); i++ {
		r := &f.revs[i]
		var bad []string
		for ref, e := range r.Entries {
			if e.Free || e.InStream != nil || f.definesAt(e.Offset, ref) {
				continue
			}
			bad = append(bad, fmt.Sprintf("%d %d at %d", ref.Num, ref.Gen, e.Offset))
		}
		if len(bad) == 0 {
			continue
		}
		sort.Strings(bad)
		if len(bad) > 5 {
			bad = append(bad[:5], "…")
		}
		rebuilt, err := f.rebuild(i, f.revs[i-1], f.revs[i-1].End, r.End)
		if err != nil {
			continue
		}
		rebuilt.Trailer, rebuilt.StartXref, rebuilt.XrefStream, rebuilt.Sections, rebuilt.EOFMarkers = r.Trailer, r.StartXref, r.XrefStream, r.Sections, r.EOFMarkers
		rebuilt.Repaired = fmt.Sprintf("its cross-reference entries point at no definition of the objects they name (%v)", bad)
		f.revs[i] = rebuilt
		f.index()
		f.warn(fmt.Sprintf("REPAIRED: revision %d (bytes %d to %d): %s; rebuilt from the %d objects defined in its bytes, as viewers do", i, f.revs[i-1].End, r.End, rebuilt.Repaired, len(rebuilt.Entries)))
	}
}

// definesAt says whether "num gen obj" for ref starts at off (after the
// whitespace slack locate tolerates).
func (f *File) definesAt(off int64, ref Ref) bool {
	if off < 0 || off >= int64(len(f.data)) {
		return false
	}
	pos := int(off)
	for n := 0; pos < len(f.data) && isWS(f.data[pos]) && n < 64; n++ {
		pos++
	}
	p := &parser{b: f.data, pos: pos, maxDepth: 1}
	num, ok1 := p.readUint()
	gen, ok2 := p.readUint()
	return ok1 && ok2 && num == int64(ref.Num) && gen == int64(ref.Gen) && p.expectKeyword("obj")
}

// rebuild makes revision index from the objects defined in bytes
// [from, to): the last definition of each object wins, as in a viewer's
// reconstruction. Its trailer is the last trailer dictionary (or xref
// stream dictionary) in those bytes, else the previous revision's.
func (f *File) rebuild(index int, prev Revision, from, to int64) (Revision, error) {
	rev := Revision{Index: index, StartXref: from, End: to, Entries: map[Ref]Entry{}}
	seg := f.data[from:to]
	var trailer Dict
	xrefAt := -1
	for pos := 0; pos < len(seg); {
		i := bytes.Index(seg[pos:], []byte("obj"))
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + 3
		start, ok := headerStart(seg, at)
		if !ok {
			continue
		}
		if len(rev.Entries) >= f.lim.MaxObjects {
			return Revision{}, fmt.Errorf("more than %d objects in a repaired revision", f.lim.MaxObjects)
		}
		abs := int(from) + start
		ref, obj, end, err := f.parseIndirect(abs, nil, index-1)
		if err != nil {
			// Unreadable: still a definition a viewer would try; skip past
			// its endobj so its bytes are not scanned for headers.
			j := bytes.Index(seg[pos:], []byte("endobj"))
			if j < 0 {
				// No complete object follows: stop rather than search
				// the rest again for every later "obj".
				if ref.Num != 0 {
					rev.Entries[ref] = Entry{Ref: ref, Offset: int64(abs)}
				}
				break
			}
			pos += j + len("endobj")
			if ref.Num != 0 {
				rev.Entries[ref] = Entry{Ref: ref, Offset: int64(abs)}
			}
			continue
		}
		if ref.Num == 0 {
			continue
		}
		rev.Entries[ref] = Entry{Ref: ref, Offset: int64(abs)}
		if st, ok := obj.(*Stream); ok {
			switch st.Dict.Name("Type") {
			case "XRef":
				trailer, xrefAt = st.Dict, start
				rev.XrefStream = true
			case "ObjStm":
				if os, err := f.readObjStm(st); err == nil {
					for k, num := range os.nums {
						r := Ref{Num: num}
						if num != 0 {
							rev.Entries[r] = Entry{Ref: r, InStream: &Ref{Num: ref.Num, Gen: ref.Gen}, Index: k}
						}
					}
				}
			}
		}
		if end > abs {
			pos = end - int(from)
		}
	}
	if i := bytes.LastIndex(seg, []byte("trailer")); i >= 0 {
		p := &parser{b: f.data, pos: int(from) + i + len("trailer"), maxDepth: f.lim.MaxDepth, warn: f.warn}
		if o, err := p.parseObject(0); err == nil {
			if d, ok := o.(Dict); ok && i > xrefAt {
				trailer = d
				rev.XrefStream = false
			}
		}
	}
	if trailer == nil {
		trailer = Dict{}
		for k, v := range prev.Trailer {
			trailer[k] = v
		}
	}
	if _, ok := trailer["Root"]; !ok && prev.Trailer["Root"] != nil {
		t := Dict{}
		for k, v := range trailer {
			t[k] = v
		}
		t["Root"] = prev.Trailer["Root"]
		trailer = t
	}
	rev.Trailer = trailer
	if i := bytes.LastIndex(seg, []byte("startxref")); i >= 0 {
		rev.StartXref = from + int64(i)
	}
	for _, m := range f.EOFMarkers() {
		if m >= from && m < to {
			rev.EOFMarkers = append(rev.EOFMarkers, m)
		}
	}
	rev.Sections = []int64{rev.StartXref}
	return rev, nil
}

// headerStart finds the start of "num gen obj" whose keyword is at at, if
// the keyword is one and is preceded by two unsigned integers.
func headerStart(b []byte, at int) (int, bool) {
	if at+3 < len(b) && isRegular(b[at+3]) {
		return 0, false
	}
	i := at
	for n := 0; n < 2; n++ {
		j := i
		for j > 0 && isWS(b[j-1]) {
			j--
		}
		if j == i {
			return 0, false
		}
		k := j
		for k > 0 && b[k-1] >= '0' && b[k-1] <= '9' {
			k--
		}
		if k == j || j-k > 10 {
			return 0, false
		}
		i = k
	}
	if i > 0 && !isWS(b[i-1]) && !isDelim(b[i-1]) {
		return 0, false
	}
	return i, true
}

func eolAfter(b []byte, pos int) int {
	if pos < len(b) && b[pos] == '\r' {
		pos++
	}
	if pos < len(b) && b[pos] == '\n' {
		pos++
	}
	return pos
}

// indexFrom is the number of revisions from which Lookup uses an index of
// the revisions defining each object. Below it, Lookup asks each revision's
// map, newest first: a few lookups, where building the index (a map and a
// slice per object) costs more than a one-file verification's lookups.
const indexFrom = 9

// index records which revisions define each object, for Lookup, in a file
// with indexFrom revisions or more.
func (f *File) index() {
	f.defs = nil
	if len(f.revs) < indexFrom {
		return
	}
	total := 0
	for _, r := range f.revs {
		total = max(total, len(r.Entries))
	}
	defs := make(map[Ref][]int, total)
	for i, r := range f.revs {
		for ref := range r.Entries {
			defs[ref] = append(defs[ref], i)
		}
	}
	f.defs = defs
}
