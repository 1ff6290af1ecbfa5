package diff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vanthu/vanthu/signing/pdf"
)

// catalog permits changes to the document catalog only in the keys a
// signer or an LTV update writes; every other key must be equal (pyHanko's
// catalog rule). /AcroForm may appear when there was none, or change inside
// when it is a direct dictionary.
func (a *analyzer) catalog(oldObj, newObj pdf.Object) (string, string) {
	od, nd := dictOf(oldObj), dictOf(newObj)
	if od == nil && nd != nil {
		return "", "document catalog added"
	}
	for _, k := range unionKeys(od, nd) {
		ov, nv := od[k], nd[k]
		if pdf.Equal(ov, nv, nil) {
			continue
		}
		switch k {
		case "DSS", "Extensions", "Metadata":
			continue // DSS and XMP objects are judged by their own rules
		case "Version":
			continue // a higher version declares features, it does not draw
		case "MarkInfo":
			// Tagged-PDF flags: signing a tagged document may set them.
			if a.level >= FormFilling && markInfoOnly(a.new.get(nv)) {
				continue
			}
		case "AcroForm":
			if ov == nil {
				if _, isRef := nv.(pdf.Ref); isRef {
					continue // the new form dictionary is judged on its own
				}
			}
			if od2, ok := ov.(pdf.Dict); ok {
				if nd2, ok := nv.(pdf.Dict); ok {
					if r, why := a.acroForm(od2, nd2); r == "" {
						return "", "catalog /AcroForm: " + why
					}
					continue
				}
			}
			if ov == nil {
				if nd2, ok := nv.(pdf.Dict); ok {
					if r, why := a.acroForm(nil, nd2); r == "" {
						return "", "catalog /AcroForm: " + why
					}
					continue
				}
			}
			return "", fmt.Sprintf("catalog /AcroForm replaced (%s -> %s)", pdf.Format(ov), pdf.Format(nv))
		}
		return "", fmt.Sprintf("catalog /%s %s", k, changeWord(ov, nv))
	}
	return RuleCatalog, "catalog changed only in /AcroForm, /DSS, /Extensions, /Metadata or /Version"
}

// acroForm permits the form dictionary to change in /Fields (growing by new
// signature fields), /SigFlags, and at FormFilling also /NeedAppearances
// and /DR, /DA when they only add entries.
func (a *analyzer) acroForm(od, nd pdf.Dict) (string, string) {
	for _, k := range unionKeys(od, nd) {
		ov, nv := od[k], nd[k]
		if pdf.Equal(ov, nv, nil) {
			continue
		}
		switch k {
		case "Fields":
			if _, isRef := nv.(pdf.Ref); isRef && ov == nil {
				continue
			}
			oa, _ := ov.(pdf.Array)
			na, ok := nv.(pdf.Array)
			if !ok {
				return "", "/AcroForm /Fields replaced by " + pdf.Format(nv)
			}
			if r, why := a.fieldsGrow(oa, na); r == "" {
				return "", why
			}
			continue
		case "SigFlags":
			continue
		case "NeedAppearances":
			if a.level >= FormFilling {
				continue
			}
		case "DR":
			if a.level >= FormFilling && a.extends(ov, nv, 0) {
				continue
			}
		case "DA":
			if a.level >= FormFilling && ov == nil {
				continue
			}
		}
		return "", fmt.Sprintf("/AcroForm /%s %s", k, changeWord(ov, nv))
	}
	return RuleAcroForm, "form dictionary changed only in permitted keys"
}

// extends says whether dictionary nv keeps every entry of ov unchanged
// (adding fonts to /DR is harmless, replacing one is a shadow attack).
func (a *analyzer) extends(ov, nv pdf.Object, depth int) bool {
	if ov == nil {
		return true
	}
	if pdf.Equal(ov, nv, nil) {
		return true
	}
	if depth > 3 {
		return false
	}
	od, _ := a.old.f.Resolve(ov, a.rev-1)
	ndo, _ := a.new.f.Resolve(nv, a.rev)
	o, ok1 := od.(pdf.Dict)
	n, ok2 := ndo.(pdf.Dict)
	if !ok1 || !ok2 {
		return false
	}
	if r, ok := ov.(pdf.Ref); ok {
		if r2, ok := nv.(pdf.Ref); !ok || r != r2 {
			return false
		}
	}
	for k, v := range o {
		if !a.extends(v, n[k], depth+1) {
			return false
		}
	}
	return true
}

// fieldsGrow permits a /Fields (or /Kids) array to grow by signature fields
// newly signed in this revision, keeping every old entry in order.
func (a *analyzer) fieldsGrow(oa, na pdf.Array) (string, string) {
	if len(na) < len(oa) {
		return "", "form field removed"
	}
	for i := range oa {
		if !pdf.Equal(oa[i], na[i], nil) {
			return "", fmt.Sprintf("form field %s replaced by %s", pdf.Format(oa[i]), pdf.Format(na[i]))
		}
	}
	for _, e := range na[len(oa):] {
		r, ok := e.(pdf.Ref)
		if !ok || !a.signingAllowed(r) {
			return "", fmt.Sprintf("form field %s added that is not a permitted new signature", pdf.Format(e))
		}
		if _, existed := a.old.fields[r]; existed {
			return "", fmt.Sprintf("form field %s listed twice", pdf.Format(e))
		}
	}
	return RuleFieldsGrow, "fields grew by new signature fields only"
}

// page permits a page dictionary to change only in /Annots, growing by
// widgets of new signatures (or, at level 3, any annotation).
func (a *analyzer) page(n int, od, nd pdf.Dict) (string, string) {
	for _, k := range unionKeys(od, nd) {
		ov, nv := od[k], nd[k]
		if pdf.Equal(ov, nv, nil) {
			continue
		}
		if k == "Annots" {
			var oa, na pdf.Array
			if ov != nil {
				oa, _ = a.old.get(ov).(pdf.Array)
			}
			na, _ = a.new.get(nv).(pdf.Array)
			if _, isRef := ov.(pdf.Ref); isRef {
				if _, isRef2 := nv.(pdf.Ref); !isRef2 {
					return "", fmt.Sprintf("page %d /Annots array replaced", n)
				}
			}
			if r, why := a.annotsGrow(n, oa, na); r == "" {
				return "", why
			}
			continue
		}
		return "", fmt.Sprintf("page %d /%s %s", n, k, changeWord(ov, nv))
	}
	return RuleAnnotsGrow, fmt.Sprintf("page %d changed only in /Annots", n)
}

func (a *analyzer) annotsGrow(n int, oa, na pdf.Array) (string, string) {
	old := map[pdf.Ref]bool{}
	for _, e := range oa {
		if r, ok := e.(pdf.Ref); ok {
			old[r] = true
		}
	}
	kept := map[pdf.Ref]bool{}
	for _, e := range na {
		r, ok := e.(pdf.Ref)
		if !ok {
			return "", fmt.Sprintf("page %d: direct annotation added", n)
		}
		if old[r] {
			kept[r] = true
			continue
		}
		if field, isWidget := a.new.widget[r]; isWidget && a.signingAllowed(field) {
			continue
		}
		if _, isWidget := a.new.widget[r]; !isWidget && a.annotate() {
			if a.level >= Annotations {
				continue
			}
			if c, why := a.covers(r); c {
				return "", why
			}
			continue
		}
		return "", fmt.Sprintf("page %d: annotation %s added", n, pdf.Format(r))
	}
	if len(kept) < len(old) && a.level < Annotations {
		return "", fmt.Sprintf("page %d: annotation removed", n)
	}
	return RuleAnnotsGrow, fmt.Sprintf("page %d annotations grew by permitted annotations", n)
}

// fieldOrWidget judges a form field or widget annotation. New ones must
// belong to a newly signed signature field; existing ones may change only
// in the keys signing or filling in writes.
func (a *analyzer) fieldOrWidget(ref pdf.Ref, kind string, od, nd pdf.Dict) (string, string) {
	field, ok := a.new.widget[ref]
	if !ok {
		field = ref
	}
	fi := a.new.fields[field]
	if fi == nil {
		return "", fmt.Sprintf("non-terminal form field %d %d %s", ref.Num, ref.Gen, kind)
	}
	if kind == "added" {
		if _, existed := a.old.fields[field]; !existed && a.signingAllowed(field) {
			return RuleNewSigField, "new signature field " + quote(fi.name)
		}
		return "", fmt.Sprintf("form field or widget %s added", quote(fi.name))
	}
	sig := fi.ft == "Sig"
	for _, k := range unionKeys(od, nd) {
		ov, nv := od[k], nd[k]
		if pdf.Equal(ov, nv, nil) {
			continue
		}
		switch {
		case sig && (k == "V" || k == "AP" || k == "F") && a.signingAllowed(field):
			// Signing an empty field writes its value, its appearance and
			// (Adobe) its print/hidden flags; nothing else.
			if k == "V" && ov != nil {
				return "", fmt.Sprintf("signature field %s /V replaced", quote(fi.name))
			}
			if k == "AP" && !a.ownedBy(ov, pAP+ref.String(), 0) {
				return "", fmt.Sprintf("signature field %s /AP replaced while the old appearance is used elsewhere", quote(fi.name))
			}
			continue
		case !sig && (k == "V" || k == "AS" || k == "AP") && a.canFill(fi):
			if k == "AP" && !a.ownedBy(ov, pAP+ref.String(), 0) {
				return "", fmt.Sprintf("form field %s /AP replaced while the old appearance is used elsewhere", quote(fi.name))
			}
			if k == "AP" || k == "AS" {
				// What the filled-in field shows must not lie over what
				// was signed (a shadow attack's "replace via overlay").
				if c, why := a.covers(ref); c {
					return "", fmt.Sprintf("form field %s filled in: its appearance %s", quote(fi.name), why)
				}
			}
			continue
		case k == "Annots" || k == "Kids":
		}
		return "", fmt.Sprintf("form field %s /%s %s", quote(fi.name), k, changeWord(ov, nv))
	}
	if sig {
		return RuleSignField, "signature field " + quote(fi.name) + " signed"
	}
	return RuleFormFill, "form field " + quote(fi.name) + " filled in"
}

func isSigDict(o pdf.Object) bool {
	d := dictOf(o)
	if d == nil {
		return false
	}
	_, br := d["ByteRange"]
	_, ct := d["Contents"]
	t := d.Name("Type")
	return br && ct && (t == "" || t == "Sig" || t == "DocTimeStamp")
}

func dictOf(o pdf.Object) pdf.Dict {
	switch d := o.(type) {
	case pdf.Dict:
		return d
	case *pdf.Stream:
		return d.Dict
	}
	return nil
}

func unionKeys(a, b pdf.Dict) []pdf.Name {
	m := pdf.Dict{}
	for k := range a {
		m[k] = nil
	}
	for k := range b {
		m[k] = nil
	}
	return m.Keys()
}

func changeWord(ov, nv pdf.Object) string {
	switch {
	case ov == nil:
		return "added"
	case nv == nil:
		return "removed"
	}
	if _, ok := ov.(pdf.Ref); ok {
		return "replaced"
	}
	return "changed"
}

// keyDiff names the keys whose values differ.
func keyDiff(od, nd pdf.Dict) string {
	var ks []string
	for _, k := range unionKeys(od, nd) {
		if !pdf.Equal(od[k], nd[k], nil) {
			ks = append(ks, "/"+string(k))
		}
	}
	if len(ks) == 0 {
		return "stream data"
	}
	return strings.Join(ks, ", ")
}

func hasPrefix(s labelSet, p string) bool {
	for l := range s {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func keys(s labelSet) []string {
	out := make([]string, 0, len(s))
	for l := range s {
		out = append(out, l)
	}
	return out
}

func firstLabel(s labelSet) string {
	ks := sortStrings(keys(s))
	if len(ks) == 0 {
		return ""
	}
	return ks[0]
}

func describe(l string) string {
	switch {
	case l == lContent:
		return "page content or resources"
	case l == lOther:
		return "document-level data"
	case l == lDSS:
		return "DSS data"
	case l == lStruct:
		return "structure tree"
	case l == lInfo:
		return "document information"
	case l == lMetadata:
		return "XMP metadata"
	case l == lDR:
		return "form default resources"
	case strings.HasPrefix(l, pAP):
		return "appearance of " + strings.TrimPrefix(l, pAP)
	case strings.HasPrefix(l, pSig):
		return "signature value of field " + strings.TrimPrefix(l, pSig)
	case strings.HasPrefix(l, pValue):
		return "value of field " + strings.TrimPrefix(l, pValue)
	case strings.HasPrefix(l, pData):
		return "data of " + strings.TrimPrefix(l, pData)
	}
	return l
}

// parseRef parses "12 0 R".
func parseRef(s string) (pdf.Ref, bool) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return pdf.Ref{}, false
	}
	n, err1 := strconv.ParseUint(f[0], 10, 32)
	g, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil {
		return pdf.Ref{}, false
	}
	return pdf.Ref{Num: uint32(n), Gen: uint16(g)}, true
}

func quote(s string) string { return strconv.Quote(s) }

// ownedBy says whether every object the old value o refers to (through
// appearance dictionaries, down to the streams) was reached in the old
// revision only as label l: replacing an appearance that something else
// also uses would change that other thing (pyHanko's "clobber" check).
func (a *analyzer) ownedBy(o pdf.Object, l string, depth int) bool {
	if depth > 4 {
		return true
	}
	switch x := o.(type) {
	case pdf.Ref:
		for other := range a.old.labels[x] {
			if other != l {
				return false
			}
		}
		if d, ok := a.old.get(x).(pdf.Dict); ok {
			return a.ownedBy(d, l, depth+1)
		}
	case pdf.Dict:
		for _, v := range x {
			if !a.ownedBy(v, l, depth+1) {
				return false
			}
		}
	}
	return true
}

// markInfoOnly says whether o is a /MarkInfo dictionary with only its
// defined flags.
func markInfoOnly(o pdf.Object) bool {
	d, ok := o.(pdf.Dict)
	if !ok {
		return false
	}
	for k, v := range d {
		if _, isBool := v.(pdf.Bool); !isBool || (k != "Marked" && k != "UserProperties" && k != "Suspects") {
			return false
		}
	}
	return true
}

// structChange says why a modified object of the structure tree is not a
// permitted update, or "" if it is: structure elements and number-tree
// nodes may gain kids and entries (a new field's or annotation's element,
// its parent-tree entry) but keep every one they had, and keep what they
// say (/ActualText, /Alt, /S, ...).
func (a *analyzer) structChange(oldObj, newObj pdf.Object) string {
	switch o := oldObj.(type) {
	case pdf.Array:
		n, ok := newObj.(pdf.Array)
		if !ok {
			return "array replaced"
		}
		if !keepsAll(o, n) {
			return "entries removed or replaced"
		}
		return ""
	}
	od, nd := dictOf(oldObj), dictOf(newObj)
	if od == nil || nd == nil {
		return "object type changed"
	}
	for _, k := range unionKeys(od, nd) {
		ov, nv := od[k], nd[k]
		if pdf.Equal(ov, nv, nil) {
			continue
		}
		switch k {
		case "ParentTreeNextKey", "Limits":
			continue
		case "K", "Kids", "Nums", "Names":
			oa, ok1 := ov.(pdf.Array)
			na, ok2 := nv.(pdf.Array)
			if ov == nil || ok1 && ok2 && keepsAll(oa, na) {
				continue
			}
			if ok2 && !ok1 && ov != nil && keepsAll(pdf.Array{ov}, na) {
				continue // a single kid became an array of kids
			}
		}
		return fmt.Sprintf("/%s %s", k, changeWord(ov, nv))
	}
	return ""
}

// keepsAll says whether every entry of o is still in n.
func keepsAll(o, n pdf.Array) bool {
	used := make([]bool, len(n))
	for _, e := range o {
		found := false
		for i, f := range n {
			if !used[i] && pdf.Equal(e, f, nil) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
