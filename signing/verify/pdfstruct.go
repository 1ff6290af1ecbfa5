package verify

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify/chain"
	"github.com/vanthu/vanthu/signing/verify/diff"
)

// pdfStructure reads the object structure with signing/pdf.
type pdfStructure struct {
	f     *pdf.File
	ends  []int64
	last  int
	unmap func()
	// views: the change analyses of the file's signatures share the
	// views of its revisions.
	views *diff.Cache
}

// openStructure reads the PDF structure, falling back to the raw scan (with
// the reason) when the file's cross-reference structure cannot be read.
func openStructure(r io.ReaderAt, size int64, lim *pdf.Limits) structure {
	var f *pdf.File
	var err error
	unmap := func() {}
	if m, ok := r.(memReader); ok {
		// Verify mapped the file: only the pages the parser touches
		// become resident, so a 100 MB document stays cheap.
		f, err = pdf.OpenBytes(m, lim)
	} else {
		f, err = pdf.Open(r, size, lim)
	}
	if err != nil {
		unmap()
		return newScanStructure(r, size, err)
	}
	s := &pdfStructure{f: f, unmap: func() { f.Close(); unmap() }}
	for _, rv := range f.Revisions() {
		s.ends = append(s.ends, rv.End)
	}
	s.last = len(s.ends) - 1
	if s.last < 0 {
		s.unmap()
		return newScanStructure(r, size, fmt.Errorf("no revisions"))
	}
	return s
}

func (s *pdfStructure) close()                { s.unmap() }
func (s *pdfStructure) decodeRefusal() error  { return s.f.DecodeRefusal() }
func (s *pdfStructure) err() error            { return nil }
func (s *pdfStructure) warnings() []string    { return append([]string(nil), s.f.Warnings()...) }
func (s *pdfStructure) revisionEnds() []int64 { return s.ends }

func (s *pdfStructure) get(o pdf.Object) pdf.Object {
	v, err := s.f.Resolve(o, s.last)
	if err != nil {
		return nil
	}
	return v
}

func (s *pdfStructure) dict(o pdf.Object) pdf.Dict {
	d, _ := s.get(o).(pdf.Dict)
	if d == nil {
		if st, ok := s.get(o).(*pdf.Stream); ok {
			return st.Dict
		}
	}
	return d
}

func (s *pdfStructure) catalog() pdf.Dict {
	return s.dict(s.f.Revisions()[s.last].Trailer["Root"])
}

// fields walks the AcroForm field tree of the latest revision.
func (s *pdfStructure) fields() []sigField {
	form := s.dict(s.catalog()["AcroForm"])
	if form == nil {
		return nil
	}
	var out []sigField
	visited := map[pdf.Ref]bool{}
	var walk func(o pdf.Object, prefix string, ft pdf.Name, depth int)
	walk = func(o pdf.Object, prefix string, ft pdf.Name, depth int) {
		if depth > 32 || len(out) > maxSignatures {
			return
		}
		if r, ok := o.(pdf.Ref); ok {
			if visited[r] {
				return
			}
			visited[r] = true
		}
		d := s.dict(o)
		if d == nil {
			return
		}
		name := prefix
		if t, ok := s.get(d["T"]).(pdf.String); ok {
			if name != "" {
				name += "."
			}
			name += pdfText(t)
		}
		if n := d.Name("FT"); n != "" {
			ft = n
		}
		if kids, ok := s.get(d["Kids"]).(pdf.Array); ok {
			for _, k := range kids {
				walk(k, name, ft, depth+1)
			}
		}
		v, hasV := d["V"]
		if ft != "Sig" || !hasV {
			return
		}
		ref, ok := v.(pdf.Ref)
		if !ok {
			if _, isNull := v.(pdf.Null); isNull || v == nil {
				return
			}
			out = append(out, sigField{name: name, offset: -1, problem: "signature dictionary is a direct object"})
			return
		}
		if _, isDict := s.get(ref).(pdf.Dict); !isDict {
			return // an empty field pointing nowhere
		}
		e, _, ok := s.f.Lookup(ref, s.last)
		switch {
		case !ok || e.Free:
			return
		case e.InStream != nil:
			out = append(out, sigField{name: name, offset: -1, problem: "in object stream " + e.InStream.String()})
		default:
			out = append(out, sigField{name: name, offset: e.Offset})
		}
	}
	if arr, ok := s.get(form["Fields"]).(pdf.Array); ok {
		for _, fo := range arr {
			walk(fo, "", "", 0)
		}
	}
	return out
}

// streamSigDicts finds signature dictionaries hidden in object streams.
func (s *pdfStructure) streamSigDicts() []string {
	var out []string
	// Only object streams whose text holds "/ByteRange" (or a '#', with
	// which a name can spell it in escapes) can hide one: checking the
	// decoded stream once is much cheaper than parsing every object in it.
	candidate := map[pdf.Ref]bool{}
	holds := func(stm pdf.Ref) bool {
		c, seen := candidate[stm]
		if !seen {
			c = true // if the stream cannot be read here, let Get decide
			if st, ok := s.get(stm).(*pdf.Stream); ok {
				if b, err := s.f.StreamData(st, s.last); err == nil {
					c = bytes.Contains(b, []byte("/ByteRange")) || bytes.IndexByte(b, '#') >= 0
				}
			}
			candidate[stm] = c
		}
		return c
	}
	for _, ref := range s.f.Objects(s.last) {
		e, _, ok := s.f.Lookup(ref, s.last)
		if !ok || e.InStream == nil || !holds(*e.InStream) {
			continue
		}
		o, err := s.f.Get(ref, s.last)
		if err != nil {
			continue
		}
		if d, ok := o.(pdf.Dict); ok {
			if _, has := d["ByteRange"]; has {
				out = append(out, ref.String())
			}
		}
	}
	return out
}

func (s *pdfStructure) streams(o pdf.Object) [][]byte {
	arr, _ := s.get(o).(pdf.Array)
	var out [][]byte
	for _, e := range arr {
		st, ok := s.get(e).(*pdf.Stream)
		if !ok {
			continue
		}
		b, err := s.f.StreamData(st, s.last)
		if err == nil {
			out = append(out, b)
		}
	}
	return out
}

// dss reads /DSS: certificates, OCSP responses and CRLs.
func (s *pdfStructure) dss() chain.Evidence {
	d := s.dict(s.catalog()["DSS"])
	if d == nil {
		return chain.Evidence{}
	}
	ev := chain.Evidence{OCSP: s.streams(d["OCSPs"]), CRLs: s.streams(d["CRLs"])}
	for _, b := range s.streams(d["Certs"]) {
		if cs, err := chain.ParseCertificates(b); err == nil {
			ev.Certs = append(ev.Certs, cs...)
		}
	}
	return ev
}

// certification reads the DocMDP P of the signature named by /Perms.
func (s *pdfStructure) certification() int {
	perms := s.dict(s.catalog()["Perms"])
	if perms == nil {
		return 0
	}
	sig := s.dict(perms["DocMDP"])
	if sig == nil {
		return 0
	}
	p, _ := s.transforms(sig)
	return p
}

// transforms reads a signature dictionary's /Reference: the DocMDP P and
// the FieldMDP locks.
func (s *pdfStructure) transforms(sig pdf.Dict) (int, []diff.Lock) {
	p := 0
	var locks []diff.Lock
	refs, _ := s.get(sig["Reference"]).(pdf.Array)
	for _, r := range refs {
		rd := s.dict(r)
		if rd == nil {
			continue
		}
		params := s.dict(rd["TransformParams"])
		switch s.get(rd["TransformMethod"]) {
		case pdf.Name("DocMDP"):
			p = 2
			if params != nil {
				if n, ok := s.get(params["P"]).(pdf.Integer); ok && n >= 1 && n <= 3 {
					p = int(n)
				}
			}
		case pdf.Name("FieldMDP"):
			if params == nil {
				continue
			}
			l := diff.Lock{Action: string(params.Name("Action"))}
			if fs, ok := s.get(params["Fields"]).(pdf.Array); ok {
				for _, f := range fs {
					if t, ok := s.get(f).(pdf.String); ok {
						l.Fields = append(l.Fields, pdfText(t))
					}
				}
			}
			locks = append(locks, l)
		}
	}
	return p, locks
}

// analyze runs the change analysis on everything after signedRev.
func (s *pdfStructure) analyze(signedRev, certLevel int, e *sigEntry) (Modifications, []Change, error) {
	// An approval signature tolerates form filling, further signatures
	// and annotations drawn over nothing it signed.
	level := diff.Approval
	if certLevel > 0 {
		level = diff.Level(certLevel)
	}
	var locks []diff.Lock
	if e.dict != nil && e.dict.ObjNum >= 0 {
		if sig, ok := s.sigDictAt(e.dict.ObjOffset); ok {
			p, l := s.transforms(sig)
			locks = l
			if p > 0 && (certLevel == 0 || p < certLevel) {
				level = diff.Level(p)
			}
		}
	}
	if s.views == nil {
		s.views = diff.NewCache(s.f)
	}
	res, err := s.views.Analyze(signedRev, level, locks)
	if err != nil {
		return ModUnknown, nil, err
	}
	var out []Change
	budgetOnly := res.Disallowed
	for _, c := range res.Changes {
		out = append(out, Change{Object: c.Ref.String(), Revision: c.Revision, Kind: c.Kind, Rule: c.Rule, Allowed: c.Allowed, Detail: c.Detail, Visual: c.Visual})
		if !c.Allowed && !strings.Contains(c.Detail, pdf.ErrBudget.Error()) {
			budgetOnly = false
		}
	}
	if refusal := s.f.DecodeRefusal(); budgetOnly && refusal != nil {
		// Objects the memory budget kept us from reading are unknown, not
		// disallowed: what they hold may be harmless or not.
		return ModUnknown, out, fmt.Errorf("objects changed after signing were not read: %w", refusal)
	}
	switch {
	case res.Disallowed:
		return ModDisallowed, out, nil
	case len(out) > 0:
		return ModAllowed, out, nil
	}
	return ModNone, out, nil
}

// sigDictAt finds the latest-revision object defined at offset off.
func (s *pdfStructure) sigDictAt(off int64) (pdf.Dict, bool) {
	for i := s.last; i >= 0; i-- {
		for ref, e := range s.f.Revisions()[i].Entries {
			if e.Offset == off && e.InStream == nil && !e.Free {
				o, err := s.f.Get(ref, i)
				if err != nil {
					return nil, false
				}
				d, ok := o.(pdf.Dict)
				return d, ok
			}
		}
	}
	return nil, false
}
