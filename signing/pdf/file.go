package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Limits bound the work done on one file. Zero fields take the default.
type Limits struct {
	MaxRevisions    int   // xref sections followed through /Prev
	MaxObjects      int   // xref entries over all sections, and objects per object stream
	MaxDepth        int   // nesting of arrays and dictionaries, and reference hops
	MaxStreamBytes  int64 // decoded size of one stream
	MaxTotalDecoded int64 // decoded bytes produced over the whole file: the decoding work, not memory
	MaxFileBytes    int64 // size of the file itself (it is read into memory)
	// Budget bounds the decoded data held in memory at once; nil gives the
	// file a budget of its own of DefaultBudget bytes. Decoded data is
	// charged to it from before it is allocated until it is released.
	Budget *Budget
}

// DefaultLimits suit signed office documents with generous headroom.
func DefaultLimits() Limits {
	return Limits{
		MaxRevisions:    1000,
		MaxObjects:      2_000_000,
		MaxDepth:        64,
		MaxStreamBytes:  DefaultBudget,
		MaxTotalDecoded: 4 * DefaultBudget,
		MaxFileBytes:    1 << 30,
	}
}

func (l *Limits) fill() {
	d := DefaultLimits()
	if l.MaxRevisions <= 0 {
		l.MaxRevisions = d.MaxRevisions
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = d.MaxObjects
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxStreamBytes <= 0 {
		l.MaxStreamBytes = d.MaxStreamBytes
	}
	if l.MaxTotalDecoded <= 0 {
		l.MaxTotalDecoded = d.MaxTotalDecoded
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
}

// Entry is one cross-reference entry. For an object in an object stream,
// InStream names the stream and Offset is the offset of that stream's own
// definition as visible in the same revision, so callers can always tell
// which bytes of the file define the object.
type Entry struct {
	Ref      Ref
	Offset   int64 // of "num gen obj" (or of the containing object stream)
	InStream *Ref
	Index    int // index within the object stream
	Free     bool
}

// Revision is one incremental revision of the file: the bytes [0, End)
// are the file as it was when this revision was written.
type Revision struct {
	Index      int   // 0 = original document
	StartXref  int64 // offset of this revision's xref section
	End        int64 // offset just past this revision's %%EOF and its EOL
	Trailer    Dict
	Entries    map[Ref]Entry // objects this section defines or frees
	XrefStream bool
	// Sections lists the offsets of every xref section merged into this
	// revision: more than one for a hybrid file or a linearized original.
	Sections []int64
	// EOFMarkers are the offsets of the "%%EOF" markers that end this
	// revision's xref sections.
	EOFMarkers []int64
	// Repaired, when not empty, says why this revision's cross-reference
	// data could not be used: its Entries were rebuilt from the objects
	// its bytes define, as viewers do (see repair.go).
	Repaired string
}

// File is an opened PDF. It is safe for concurrent use.
type File struct {
	data []byte
	lim  Limits
	revs []Revision

	mu         sync.Mutex
	warnings   []string
	warnSeen   map[string]bool
	cache      map[cacheKey]Object
	objStms    map[cacheKey]*objStm
	badStms    map[cacheKey]error // object streams that could not be decoded
	decoded    int64              // bytes produced by decoding, against MaxTotalDecoded
	budget     *Budget            // decoded data held, see Limits.Budget
	held       int64              // of it, charged by this file: cached object streams and StreamData results
	refusal    error              // the first decoding refused for a limit (ErrBudget)
	lengthHops int                // indirect /Length lookups in progress, see maxLengthHops
	resolving  map[cacheKey]bool
	defs       map[Ref][]int // revisions defining or freeing each object, ascending
}

type cacheKey struct {
	off int64
	stm uint32
	idx int
}

// Open reads the whole file (within lim.MaxFileBytes) and splits it into
// revisions. A nil lim means DefaultLimits.
func Open(r io.ReaderAt, size int64, lim *Limits) (*File, error) {
	l := DefaultLimits()
	if lim != nil {
		l = *lim
		l.fill()
	}
	if size < 0 || size > l.MaxFileBytes {
		return nil, fmt.Errorf("pdf: file size %d outside limit %d", size, l.MaxFileBytes)
	}
	data := make([]byte, size)
	if n, err := r.ReadAt(data, 0); int64(n) != size {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("pdf: reading file: %w", err)
	}
	return OpenBytes(data, lim)
}

// OpenBytes is Open on bytes already in memory. The slice must not be
// modified afterwards.
func OpenBytes(data []byte, lim *Limits) (*File, error) {
	l := DefaultLimits()
	if lim != nil {
		l = *lim
		l.fill()
	}
	if int64(len(data)) > l.MaxFileBytes {
		return nil, fmt.Errorf("pdf: file size %d outside limit %d", len(data), l.MaxFileBytes)
	}
	f := &File{
		data:      data,
		lim:       l,
		warnSeen:  map[string]bool{},
		cache:     map[cacheKey]Object{},
		objStms:   map[cacheKey]*objStm{},
		badStms:   map[cacheKey]error{},
		resolving: map[cacheKey]bool{},
		budget:    l.Budget,
	}
	if f.budget == nil {
		f.budget = NewBudget(DefaultBudget)
	}
	if err := f.readRevisions(); err != nil {
		// A later revision's damaged cross-reference data is rebuilt as
		// viewers do (see repair.go); the first revision must read.
		if rerr := f.repair(err); rerr != nil {
			f.Close()
			return nil, fmt.Errorf("pdf: %w", err)
		}
		return f, nil
	}
	f.checkOffsets()
	return f, nil
}

// Close releases the decoded data the file holds (cached object streams
// and everything StreamData returned) to its budget. Nothing StreamData
// returned may be used afterwards; objects already read stay valid.
func (f *File) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objStms = map[cacheKey]*objStm{}
	f.release(f.held)
}

// DecodeRefusal is the first stream decoding refused for a limit (the
// memory budget, the size of one stream, the decoding work), wrapping
// ErrBudget; nil if none was.
func (f *File) DecodeRefusal() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refusal
}

func (f *File) warn(s string) {
	if f.warnSeen[s] || len(f.warnings) >= 1000 {
		return
	}
	f.warnSeen[s] = true
	f.warnings = append(f.warnings, s)
}

// Warnings lists the recoverable oddities found so far, in order.
func (f *File) Warnings() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.warnings...)
}

// Size is the length of the file.
func (f *File) Size() int64 { return int64(len(f.data)) }

// Bytes returns the file's bytes in [from, to), clamped to the file. The
// caller must not modify them.
func (f *File) Bytes(from, to int64) []byte {
	if from < 0 {
		from = 0
	}
	if to > int64(len(f.data)) {
		to = int64(len(f.data))
	}
	if from >= to {
		return nil
	}
	return f.data[from:to]
}

// Revisions returns the revisions, oldest first.
func (f *File) Revisions() []Revision { return f.revs }

// Lookup finds the xref entry that defines ref as visible in revision rev,
// and the revision that defined it. ok is false if no revision up to rev
// mentions ref.
func (f *File) Lookup(ref Ref, rev int) (e Entry, definedIn int, ok bool) {
	if rev >= len(f.revs) {
		rev = len(f.revs) - 1
	}
	if f.defs != nil {
		// Binary search keeps lookups cheap in files with many revisions.
		d := f.defs[ref]
		i := sort.SearchInts(d, rev+1) - 1
		if i < 0 {
			return Entry{}, -1, false
		}
		return f.revs[d[i]].Entries[ref], d[i], true
	}
	for i := rev; i >= 0; i-- {
		if e, ok := f.revs[i].Entries[ref]; ok {
			return e, i, true
		}
	}
	return Entry{}, -1, false
}

// Objects lists every object visible (defined and not freed) in revision
// rev, in ascending order.
func (f *File) Objects(rev int) []Ref {
	if rev >= len(f.revs) {
		rev = len(f.revs) - 1
	}
	seen := map[Ref]bool{}
	var out []Ref
	for i := rev; i >= 0; i-- {
		for ref, e := range f.revs[i].Entries {
			if seen[ref] {
				continue
			}
			seen[ref] = true
			if !e.Free {
				out = append(out, ref)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Num != out[j].Num {
			return out[i].Num < out[j].Num
		}
		return out[i].Gen < out[j].Gen
	})
	return out
}

// StrayEOFs returns the "%%EOF" markers before the end of revision rev that
// end none of the xref sections of revisions 0..rev: traces of a trailer or
// xref section that is not part of the /Prev chain.
func (f *File) StrayEOFs(rev int) []int64 {
	if rev < 0 || rev >= len(f.revs) {
		return nil
	}
	known := map[int64]bool{}
	for i := 0; i <= rev; i++ {
		for _, m := range f.revs[i].EOFMarkers {
			known[m] = true
		}
	}
	var out []int64
	for _, m := range f.EOFMarkers() {
		if m < f.revs[rev].End && !known[m] {
			out = append(out, m)
		}
	}
	return out
}

// EOFMarkers returns the offsets of every "%%EOF" in the file. A caller can
// compare them with the revisions' ends to notice xref sections or trailers
// that are not part of the /Prev chain (for example one injected inside a
// signed byte range).
func (f *File) EOFMarkers() []int64 {
	var out []int64
	for i := 0; i < len(f.data); {
		j := bytes.Index(f.data[i:], []byte("%%EOF"))
		if j < 0 {
			break
		}
		out = append(out, int64(i+j))
		i += j + 5
	}
	return out
}

var errNoXref = errors.New("no startxref found: the file is truncated or not a PDF")

// lastStartxref finds the offset named by the last "startxref" keyword.
func (f *File) lastStartxref() (int64, error) {
	tail := 4096
	if tail > len(f.data) {
		tail = len(f.data)
	}
	from := len(f.data) - tail
	i := bytes.LastIndex(f.data[from:], []byte("startxref"))
	if i < 0 {
		return 0, errNoXref
	}
	p := &parser{b: f.data, pos: from + i + len("startxref")}
	off, ok := p.readUint()
	if !ok {
		return 0, fmt.Errorf("startxref at offset %d is not followed by an offset", from+i)
	}
	return off, nil
}
