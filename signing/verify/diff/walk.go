package diff

import (
	"fmt"
	"strings"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Labels say how an object is reached from the trailer in one revision.
// Role labels name structural objects; the others are prefixes of subtrees,
// some owned by one field or annotation ("ap:12 0 R").
const (
	lCatalog  = "catalog"
	lPageTree = "pagetree"
	lPage     = "page"
	lAnnots   = "annots" // an indirect /Annots array
	lAcroForm = "acroform"
	lFields   = "fields" // an indirect /Fields or /Kids array
	lField    = "field"
	lWidget   = "widget"
	lAnnot    = "annot"
	lContent  = "content" // page contents, resources and anything else a page uses
	lDSS      = "dss"
	lInfo     = "info"
	lMetadata = "metadata"
	lDR       = "dr"
	lOther    = "other"
	lStruct   = "struct" // the structure tree: elements, parent tree, role and class maps
	pAP       = "ap:"    // appearance subtree of the annotation or field named
	pSig      = "sig:"   // signature dictionary subtree of the field named
	pValue    = "value:" // indirect form field value of the field named
	pData     = "data:"  // other entries of the field or annotation named
)

type labelSet map[string]bool

func (s labelSet) has(l string) bool { return s[l] }

func (s labelSet) String() string {
	var out []string
	for l := range s {
		out = append(out, l)
	}
	return strings.Join(sortStrings(out), ", ")
}

type fieldInfo struct {
	ref     pdf.Ref
	name    string
	ft      pdf.Name
	value   pdf.Object // /V as written (a reference for signatures)
	widgets []pdf.Ref
}

// view is what one revision looks like from its trailer.
type view struct {
	f       *pdf.File
	rev     int
	root    pdf.Ref
	info    pdf.Object
	labels  map[pdf.Ref]labelSet
	pages   []pdf.Ref
	fields  map[pdf.Ref]*fieldInfo
	widget  map[pdf.Ref]pdf.Ref // widget annotation -> its terminal field
	visited map[string]bool
	budget  int
	// annotPage maps each annotation listed in a page's /Annots to the page.
	annotPage map[pdf.Ref]pdf.Ref
	content   map[pdf.Ref]contentResult // measured page content, by page
	err       error
}

func newView(f *pdf.File, rev int) (*view, error) {
	v := &view{f: f, rev: rev, labels: map[pdf.Ref]labelSet{}, fields: map[pdf.Ref]*fieldInfo{},
		widget: map[pdf.Ref]pdf.Ref{}, visited: map[string]bool{}, budget: 2_000_000, annotPage: map[pdf.Ref]pdf.Ref{}}
	tr := f.Revisions()[rev].Trailer
	root, ok := tr["Root"].(pdf.Ref)
	if !ok {
		return nil, fmt.Errorf("revision %d: trailer has no /Root reference", rev)
	}
	v.root = root
	v.label(root, lCatalog)
	cat, err := v.dict(root)
	if err != nil {
		return nil, fmt.Errorf("revision %d: catalog: %w", rev, err)
	}
	v.info = tr["Info"]
	v.visit(tr["Info"], lInfo, 0)
	for _, k := range tr.Keys() {
		switch k {
		case "Root", "Info", "Prev", "XRefStm", "Size", "ID", "Encrypt", "W", "Index", "Length", "Filter", "DecodeParms", "Type":
		default:
			// Anything else a trailer refers to is reachable: judge it.
			v.visit(tr[k], lOther, 0)
		}
	}
	for _, k := range cat.Keys() {
		val := cat[k]
		switch k {
		case "Pages":
			v.pageTree(val, 0)
		case "AcroForm":
			v.acroForm(val)
		case "DSS":
			v.visit(val, lDSS, 0)
		case "Metadata":
			v.visit(val, lMetadata, 0)
		case "StructTreeRoot":
			v.visit(val, lStruct, 0)
		default:
			v.visit(val, lOther, 0)
		}
	}
	if v.err != nil {
		return nil, fmt.Errorf("revision %d: %w", rev, v.err)
	}
	return v, nil
}

func (v *view) label(r pdf.Ref, l string) bool {
	s := v.labels[r]
	if s == nil {
		s = labelSet{}
		v.labels[r] = s
	}
	if s[l] {
		return false
	}
	s[l] = true
	return true
}

func (v *view) get(o pdf.Object) pdf.Object {
	if v.budget--; v.budget < 0 {
		if v.err == nil {
			v.err = fmt.Errorf("document graph too large to analyse")
		}
		return nil
	}
	r, err := v.f.Resolve(o, v.rev)
	if err != nil {
		return nil // reading errors are reported per changed object
	}
	return r
}

func (v *view) dict(o pdf.Object) (pdf.Dict, error) {
	r, err := v.f.Resolve(o, v.rev)
	if err != nil {
		return nil, err
	}
	switch d := r.(type) {
	case pdf.Dict:
		return d, nil
	case *pdf.Stream:
		return d.Dict, nil
	}
	return nil, nil
}

func (v *view) dictOf(o pdf.Object) pdf.Dict {
	d, _ := v.dict(o)
	return d
}

// visit labels every object reachable from o with l. Pages met outside the
// page tree are labelled but not entered: their role comes from the tree.
func (v *view) visit(o pdf.Object, l string, depth int) {
	if depth > 200 || v.err != nil {
		return
	}
	switch x := o.(type) {
	case pdf.Ref:
		if !v.label(x, l) {
			return
		}
		obj := v.get(x)
		if d := v.dictOf(obj); d != nil {
			if t := d.Name("Type"); (t == "Page" || t == "Pages") && l != lContent {
				return
			}
		}
		v.visit(obj, l, depth+1)
	case pdf.Array:
		for _, e := range x {
			v.visit(e, l, depth+1)
		}
	case pdf.Dict:
		_, sigRef := x["TransformMethod"]
		for _, k := range x.Keys() {
			if k == "Parent" || k == "P" {
				continue
			}
			if l == lStruct && (k == "Pg" || k == "Obj" || k == "Stm" || k == "StmOwn") {
				// What a structure element tags is judged where the
				// page or annotation tree reaches it.
				continue
			}
			if k == "Data" && sigRef {
				// A signature reference's /Data names the object the
				// transform applies to (the catalog, for DocMDP and
				// FieldMDP): it points at the document, it is not part
				// of the signature dictionary.
				continue
			}
			v.visit(x[k], l, depth+1)
		}
	case *pdf.Stream:
		v.visit(x.Dict, l, depth+1)
	}
}

func (v *view) pageTree(o pdf.Object, depth int) {
	r, ok := o.(pdf.Ref)
	if !ok || depth > 64 || v.visited["pt"+r.String()] {
		return
	}
	v.visited["pt"+r.String()] = true
	d := v.dictOf(r)
	if d == nil {
		v.label(r, lPageTree)
		return
	}
	if kids, isNode := d["Kids"]; isNode || d.Name("Type") == "Pages" {
		v.label(r, lPageTree)
		if kr, ok := kids.(pdf.Ref); ok {
			v.label(kr, lPageTree)
		}
		ka, _ := v.get(kids).(pdf.Array)
		for _, k := range ka {
			v.pageTree(k, depth+1)
		}
		for _, k := range d.Keys() {
			if k != "Kids" && k != "Parent" {
				v.visit(d[k], lContent, 0)
			}
		}
		return
	}
	v.label(r, lPage)
	v.pages = append(v.pages, r)
	for _, k := range d.Keys() {
		switch k {
		case "Parent":
		case "Annots":
			if ar, ok := d[k].(pdf.Ref); ok {
				v.label(ar, lAnnots)
			}
			arr, _ := v.get(d[k]).(pdf.Array)
			for _, a := range arr {
				if ar, ok := a.(pdf.Ref); ok {
					if _, seen := v.annotPage[ar]; !seen {
						v.annotPage[ar] = r
					}
				}
				v.annot(a)
			}
		default:
			v.visit(d[k], lContent, 0)
		}
	}
}

func (v *view) annot(o pdf.Object) {
	r, ok := o.(pdf.Ref)
	if !ok {
		v.visit(o, lContent, 0) // a direct annotation is part of the page
		return
	}
	d := v.dictOf(r)
	if d == nil {
		v.label(r, lAnnot)
		return
	}
	role := lAnnot
	if d.Name("Subtype") == "Widget" {
		role = lWidget
	}
	if !v.label(r, role) {
		return
	}
	for _, k := range d.Keys() {
		switch k {
		case "P", "Parent", "V", "Kids", "Lock", "SV", "T", "FT":
			// Field entries are walked from the field tree.
		case "AP":
			v.visit(d[k], pAP+r.String(), 0)
		case "Popup", "IRT":
			if pr, ok := d[k].(pdf.Ref); ok {
				v.label(pr, lAnnot)
			}
		default:
			v.visit(d[k], pData+r.String(), 0)
		}
	}
}

func (v *view) acroForm(o pdf.Object) {
	if r, ok := o.(pdf.Ref); ok {
		v.label(r, lAcroForm)
	}
	d := v.dictOf(o)
	for _, k := range d.Keys() {
		switch k {
		case "Fields":
			if r, ok := d[k].(pdf.Ref); ok {
				v.label(r, lFields)
			}
			arr, _ := v.get(d[k]).(pdf.Array)
			for _, f := range arr {
				v.field(f, "", "", 0)
			}
		case "DR":
			v.visit(d[k], lDR, 0)
		default:
			v.visit(d[k], lOther, 0)
		}
	}
}

func (v *view) field(o pdf.Object, parent string, ft pdf.Name, depth int) {
	r, ok := o.(pdf.Ref)
	if !ok || depth > 32 || v.visited["f"+r.String()] {
		return
	}
	v.visited["f"+r.String()] = true
	d := v.dictOf(r)
	if d == nil {
		v.label(r, lField)
		return
	}
	v.label(r, lField)
	name := parent
	if t, ok := d["T"].(pdf.String); ok {
		if name != "" {
			name += "."
		}
		name += string(t)
	}
	if t := d.Name("FT"); t != "" {
		ft = t
	}
	kids, _ := v.get(d["Kids"]).(pdf.Array)
	if kr, ok := d["Kids"].(pdf.Ref); ok {
		v.label(kr, lFields)
	}
	terminal := true
	for _, k := range kids {
		if kd := v.dictOf(k); kd != nil {
			if _, hasT := kd["T"]; hasT {
				terminal = false
			}
		}
	}
	fi := &fieldInfo{ref: r, name: name, ft: ft, value: d["V"]}
	if terminal {
		v.fields[r] = fi
		if d.Name("Subtype") == "Widget" {
			fi.widgets = append(fi.widgets, r)
			v.widget[r] = r
		}
	}
	owner := r.String()
	for _, k := range d.Keys() {
		switch k {
		case "Parent", "P":
		case "Kids":
			for _, kid := range kids {
				kr, ok := kid.(pdf.Ref)
				if !ok {
					continue
				}
				if terminal {
					fi.widgets = append(fi.widgets, kr)
					v.widget[kr] = r
					v.label(kr, lWidget)
					kd := v.dictOf(kr)
					for _, kk := range kd.Keys() {
						switch kk {
						case "Parent", "P":
						case "AP":
							v.visit(kd[kk], pAP+kr.String(), 0)
						default:
							v.visit(kd[kk], pData+kr.String(), 0)
						}
					}
				} else {
					v.field(kid, name, ft, depth+1)
				}
			}
		case "V":
			if ft == "Sig" {
				v.visit(d[k], pSig+owner, 0)
			} else {
				v.visit(d[k], pValue+owner, 0)
			}
		case "AP":
			v.visit(d[k], pAP+owner, 0)
		default:
			v.visit(d[k], pData+owner, 0)
		}
	}
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
