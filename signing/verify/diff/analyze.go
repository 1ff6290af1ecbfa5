package diff

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Rule names. Each clears one kind of change; see the rule functions.
const (
	RuleUnchanged        = "unchanged-redefinition"
	RuleUnreferenced     = "unreferenced-object"
	RuleDSS              = "dss-update"
	RuleDocInfo          = "docinfo-update"
	RuleMetadata         = "metadata-update"
	RuleCatalog          = "catalog-permitted-keys"
	RuleAcroForm         = "acroform-permitted-keys"
	RuleFieldsGrow       = "fields-add-signature-field"
	RuleAnnotsGrow       = "annots-add-permitted-annotation"
	RuleNewSigField      = "new-signature-field"
	RuleSignField        = "sign-existing-signature-field"
	RuleSigDict          = "new-signature-dictionary"
	RuleSigAppearance    = "signature-appearance"
	RuleFormFill         = "form-fill"
	RuleFormAppearance   = "form-fill-appearance"
	RuleAnnotation       = "annotation-change"
	RuleAnnotAppearance  = "annotation-appearance"
	RuleNewFormResources = "form-default-resources"
	// RuleAnnotationAdded clears an annotation added (or changed after it
	// was added) after an approval signature, drawn over no signed content.
	RuleAnnotationAdded = "approval-annotation"
	// RuleAnnotationAppearance clears the appearance of such an annotation.
	RuleAnnotationAppearance = "approval-annotation-appearance"
	// RuleAnnotationData clears other objects of such an annotation.
	RuleAnnotationData = "approval-annotation-data"
	// RuleStructTree clears updates to the tagged-PDF structure tree (and
	// its parent tree) that signing or filling in writes.
	RuleStructTree = "structure-tree-update"
	// RuleRepairedXref records that a revision's damaged cross-reference
	// data was rebuilt from its objects, as viewers do, before its changes
	// were judged (the changes themselves are judged by the other rules).
	RuleRepairedXref = "xref-rebuilt"
)

// Warns says whether a change cleared by rule, though permitted, changes
// what a reader sees or fills in, so the report warns about it (EU DSS
// reports such changes as warnings too).
func Warns(rule string) bool {
	switch rule {
	case RuleAnnotationAdded, RuleAnnotation, RuleFormFill:
		return true
	}
	return false
}

type analyzer struct {
	f     *pdf.File
	level Level
	locks []Lock
	// approval: the signature is an approval signature in a document
	// without DocMDP (Analyze's level 0).
	approval  bool
	signedRev int
	views     map[int]*view
	changes   []Change
	// per revision being analysed
	rev      int
	old, new *view
	newSigs  map[pdf.Ref]bool // signature fields signed (or added signed) in rev
	docTS    map[pdf.Ref]bool // of those, the document timestamps
}

// Analyze lists every change made after revision signedRev and clears each
// one by a named rule at level, honouring the field locks. Level 0
// (Approval) means an approval signature without DocMDP: what FormFilling
// allows, and, when no field is locked, annotations added after signing
// that are drawn over no signed content (ISO 32000-2 §12.8, EU DSS).
func Analyze(f *pdf.File, signedRev int, level Level, locks []Lock) (Result, error) {
	return NewCache(f).Analyze(signedRev, level, locks)
}

// Cache keeps what one file's analyses share: the view of each revision
// (what its object graph shows and what each object is for), which depends
// on the revision alone. A file with n signatures is analysed n times over
// its later revisions; with one Cache each revision's view is built once
// instead of up to 2n times. Not safe for concurrent use.
type Cache struct {
	f     *pdf.File
	views map[int]*view
}

// NewCache returns an empty Cache for f.
func NewCache(f *pdf.File) *Cache {
	return &Cache{f: f, views: map[int]*view{}}
}

// Analyze is the package's Analyze on the cache's file.
func (c *Cache) Analyze(signedRev int, level Level, locks []Lock) (Result, error) {
	f := c.f
	if f == nil {
		return Result{}, fmt.Errorf("diff: nil file")
	}
	revs := f.Revisions()
	if signedRev < 0 || signedRev >= len(revs) {
		return Result{}, fmt.Errorf("diff: signed revision %d out of range (0..%d)", signedRev, len(revs)-1)
	}
	a := &analyzer{f: f, level: level, locks: locks, views: c.views, signedRev: signedRev}
	if level == Approval {
		a.level, a.approval = FormFilling, true
	}
	if stray := f.StrayEOFs(signedRev); len(stray) > 0 {
		a.add(Change{Revision: signedRev, Kind: "structure", Detail: fmt.Sprintf("%d %%%%EOF marker(s) inside the signed revision (first at offset %d) end no xref section of the /Prev chain: a hidden trailer or xref section", len(stray), stray[0])})
	}
	for r := signedRev + 1; r < len(revs); r++ {
		if err := a.revision(r); err != nil {
			return Result{}, fmt.Errorf("diff: %w", err)
		}
	}
	res := Result{Changes: a.changes}
	for _, c := range res.Changes {
		if !c.Allowed {
			res.Disallowed = true
		}
	}
	return res, nil
}

func (a *analyzer) view(rev int) (*view, error) {
	if v, ok := a.views[rev]; ok {
		return v, nil
	}
	v, err := newView(a.f, rev)
	if err != nil {
		return nil, err
	}
	a.views[rev] = v
	return v, nil
}

func (a *analyzer) add(c Change) {
	if c.Rule != "" {
		c.Allowed = true
	}
	a.changes = append(a.changes, c)
}

func (a *analyzer) revision(r int) error {
	var err error
	if a.old, err = a.view(r - 1); err != nil {
		return err
	}
	if a.new, err = a.view(r); err != nil {
		a.add(Change{Revision: r, Kind: "structure", Detail: fmt.Sprintf("revision cannot be analysed: %v", err)})
		return nil
	}
	a.rev = r
	revs := a.f.Revisions()
	if why := revs[r].Repaired; why != "" {
		a.add(Change{Revision: r, Kind: "structure", Rule: RuleRepairedXref, Detail: fmt.Sprintf("revision %d: %s; rebuilt from the objects its bytes define, as viewers do, and judged as rebuilt", r, why)})
	}
	oldT, newT := revs[r-1].Trailer, revs[r].Trailer
	if !pdf.Equal(oldT["Root"], newT["Root"], nil) {
		a.add(Change{Revision: r, Kind: "structure", Visual: true, Detail: fmt.Sprintf("trailer /Root changed from %s to %s: document catalog replaced", pdf.Format(oldT["Root"]), pdf.Format(newT["Root"]))})
	}
	if !pdf.Equal(oldT["Encrypt"], newT["Encrypt"], nil) {
		a.add(Change{Revision: r, Kind: "structure", Detail: "trailer /Encrypt changed"})
	}
	if len(a.new.pages) != len(a.old.pages) {
		what := "page added"
		if len(a.new.pages) < len(a.old.pages) {
			what = "page removed"
		}
		a.add(Change{Revision: r, Kind: "structure", Visual: true, Detail: fmt.Sprintf("%s: %d pages before, %d after", what, len(a.old.pages), len(a.new.pages))})
	}
	a.findNewSignatures()
	refs := make([]pdf.Ref, 0, len(revs[r].Entries))
	for ref := range revs[r].Entries {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Num != refs[j].Num {
			return refs[i].Num < refs[j].Num
		}
		return refs[i].Gen < refs[j].Gen
	})
	for _, ref := range refs {
		a.object(ref, revs[r].Entries[ref])
	}
	return nil
}

// findNewSignatures records the signature fields that carry a signature in
// this revision but did not in the previous one.
func (a *analyzer) findNewSignatures() {
	a.newSigs, a.docTS = map[pdf.Ref]bool{}, map[pdf.Ref]bool{}
	for ref, fi := range a.new.fields {
		if fi.ft != "Sig" || fi.value == nil {
			continue
		}
		if of, ok := a.old.fields[ref]; ok && of.value != nil {
			continue
		}
		sd := a.new.dictOf(fi.value)
		if sd == nil {
			continue
		}
		a.newSigs[ref] = true
		if sd.Name("Type") == "DocTimeStamp" {
			a.docTS[ref] = true
		}
	}
}

// signingAllowed says whether the new signature in field may be added at
// this level: document timestamps always (PAdES exempts them from DocMDP),
// other signatures from FormFilling on.
func (a *analyzer) signingAllowed(field pdf.Ref) bool {
	return a.newSigs[field] && (a.docTS[field] || a.level >= FormFilling)
}

func (a *analyzer) object(ref pdf.Ref, e pdf.Entry) {
	c := Change{Ref: ref, Revision: a.rev}
	_, prevRev, existed := a.f.Lookup(ref, a.rev-1)
	oldE, _, _ := a.f.Lookup(ref, a.rev-1)
	switch {
	case e.Free:
		c.Kind = "freed"
	case !existed || oldE.Free:
		c.Kind = "added"
	default:
		c.Kind = "modified"
	}
	_ = prevRev
	oldL, newL := a.old.labels[ref], a.new.labels[ref]
	if c.Kind == "freed" {
		if existed && !oldE.Free && len(newL) > 0 {
			c.Detail = fmt.Sprintf("object %d %d freed but still referenced (%s)", ref.Num, ref.Gen, newL)
		} else {
			c.Rule, c.Detail = RuleUnreferenced, "freed object is not referenced"
		}
		a.add(c)
		return
	}
	newObj, err := a.f.Get(ref, a.rev)
	if err != nil {
		c.Detail = fmt.Sprintf("object %d %d cannot be read: %v", ref.Num, ref.Gen, err)
		a.add(c)
		return
	}
	var oldObj pdf.Object
	if c.Kind == "modified" {
		if oldObj, err = a.f.Get(ref, a.rev-1); err != nil {
			c.Detail = fmt.Sprintf("object %d %d cannot be read in the previous revision: %v", ref.Num, ref.Gen, err)
			a.add(c)
			return
		}
		if pdf.Equal(oldObj, newObj, a.rawEqual) {
			c.Rule, c.Detail = RuleUnchanged, "re-written with an equal value"
			a.add(c)
			return
		}
	}
	rule, detail := a.clear(ref, c.Kind, oldObj, newObj, oldL, newL)
	if rule == "" && e.InStream != nil && c.Kind == "modified" {
		detail += fmt.Sprintf(" (object %d %d redefined in an object stream)", ref.Num, ref.Gen)
	}
	c.Rule, c.Detail = rule, detail
	c.Visual = rule == "" && (shows(oldL) || shows(newL))
	a.add(c)
}

// shows says whether an object reached as labels takes part in what a
// page shows.
func shows(ls labelSet) bool {
	for l := range ls {
		switch {
		case l == lContent, l == lPage, l == lPageTree, l == lAnnots, l == lAnnot, l == lWidget, l == lCatalog, strings.HasPrefix(l, pAP):
			return true
		}
	}
	return false
}

func (a *analyzer) rawEqual(x, y *pdf.Stream) bool {
	return bytes.Equal(a.f.RawStreamData(x), a.f.RawStreamData(y))
}

// clear returns the rule that permits the change, or "" and why not.
func (a *analyzer) clear(ref pdf.Ref, kind string, oldObj, newObj pdf.Object, oldL, newL labelSet) (string, string) {
	name := fmt.Sprintf("object %d %d", ref.Num, ref.Gen)
	// A signature dictionary is never changed after it was written: the
	// ByteRange check alone cannot see a spoofed dictionary.
	if kind == "modified" && (isSigDict(oldObj) || hasPrefix(oldL, pSig)) {
		return "", fmt.Sprintf("signature dictionary %d %d redefined", ref.Num, ref.Gen)
	}
	if len(newL) == 0 {
		if kind == "added" || len(oldL) == 0 {
			return RuleUnreferenced, "not referenced from the document"
		}
		return RuleUnreferenced, "no longer referenced from the document (the change that dropped it is judged on its own)"
	}
	if newL.has(lCatalog) {
		return a.catalog(oldObj, newObj)
	}
	role := ""
	for _, l := range []string{lPageTree, lPage, lAnnots, lAcroForm, lFields, lField, lWidget, lAnnot} {
		if newL.has(l) || oldL.has(l) {
			role = l
			break
		}
	}
	switch role {
	case lPageTree:
		if kind == "added" {
			return "", fmt.Sprintf("page tree node %d %d added", ref.Num, ref.Gen)
		}
		return "", fmt.Sprintf("page tree node %d %d changed: %s", ref.Num, ref.Gen, keyDiff(dictOf(oldObj), dictOf(newObj)))
	case lPage:
		n := a.pageNumber(ref)
		if kind == "added" {
			return "", fmt.Sprintf("page %d added", n)
		}
		return a.page(n, dictOf(oldObj), dictOf(newObj))
	case lAnnots:
		// Compare with what the same page listed before, whether that was
		// this array or another one.
		n, page := a.pageOfAnnots(ref)
		var oa pdf.Array
		if od := a.old.dictOf(page); od != nil && od["Annots"] != nil {
			oa, _ = a.old.get(od["Annots"]).(pdf.Array)
		} else if kind == "modified" {
			oa, _ = oldObj.(pdf.Array)
		}
		na, _ := newObj.(pdf.Array)
		return a.annotsGrow(n, oa, na)
	case lAcroForm:
		return a.acroForm(dictOf(oldObj), dictOf(newObj))
	case lFields:
		oa, _ := oldObj.(pdf.Array)
		na, _ := newObj.(pdf.Array)
		return a.fieldsGrow(oa, na)
	case lField, lWidget:
		return a.fieldOrWidget(ref, kind, dictOf(oldObj), dictOf(newObj))
	case lAnnot:
		return a.annotation(ref, kind)
	}
	// Leaf objects: every way the object is reached must permit the change,
	// in the new revision and, for a modification, in the old one too (an
	// appearance stream shared with another field must not be clobbered).
	labels := labelSet{}
	for l := range newL {
		labels[l] = true
	}
	if kind == "modified" {
		for l := range oldL {
			labels[l] = true
		}
		if labels.has(lStruct) {
			if why := a.structChange(oldObj, newObj); why != "" {
				return "", fmt.Sprintf("%s modified, used as %s: %s", name, describe(lStruct), why)
			}
		}
	}
	rule := ""
	for _, l := range sortStrings(keys(labels)) {
		r, why := a.leaf(l, kind)
		if r == "" {
			return "", fmt.Sprintf("%s %s, used as %s: %s", name, kind, describe(l), why)
		}
		if rule == "" {
			rule = r
		}
	}
	return rule, name + " " + kind + " as " + describe(firstLabel(labels))
}

func (a *analyzer) leaf(l, kind string) (string, string) {
	switch {
	case l == lDSS:
		return RuleDSS, ""
	case l == lStruct:
		if a.level >= FormFilling {
			return RuleStructTree, ""
		}
		return "", "structure tree changed where DocMDP permits no changes"
	case l == lInfo:
		return RuleDocInfo, ""
	case l == lMetadata:
		return RuleMetadata, ""
	case l == lDR:
		if kind == "added" && a.level >= FormFilling {
			return RuleNewFormResources, ""
		}
		return "", "form default resources changed"
	case strings.HasPrefix(l, pSig):
		owner, _ := parseRef(strings.TrimPrefix(l, pSig))
		if kind == "added" && a.signingAllowed(owner) {
			return RuleSigDict, ""
		}
		return "", "signature dictionary data changed"
	case strings.HasPrefix(l, pAP):
		owner, _ := parseRef(strings.TrimPrefix(l, pAP))
		if field, ok := a.new.widget[owner]; ok {
			if a.signingAllowed(field) {
				return RuleSigAppearance, ""
			}
			if fi := a.new.fields[field]; fi != nil && fi.ft != "Sig" && a.canFill(fi) {
				if c, why := a.covers(owner); c {
					return "", "filled-in appearance " + why
				}
				return RuleFormAppearance, ""
			}
			return "", "appearance of a field that may not change"
		}
		if fi := a.new.fields[owner]; fi != nil {
			if a.signingAllowed(owner) {
				return RuleSigAppearance, ""
			}
			if fi.ft != "Sig" && a.canFill(fi) {
				if c, why := a.covers(owner); c {
					return "", "filled-in appearance " + why
				}
				return RuleFormAppearance, ""
			}
			return "", "appearance of a field that may not change"
		}
		if a.level >= Annotations {
			return RuleAnnotAppearance, ""
		}
		if a.annotate() && !a.existedAtSigning(owner) {
			if c, why := a.covers(owner); c {
				return "", why
			}
			return RuleAnnotationAppearance, ""
		}
		return "", "appearance of an annotation"
	case strings.HasPrefix(l, pData):
		owner, _ := parseRef(strings.TrimPrefix(l, pData))
		if a.new.labels[owner].has(lAnnot) && a.annotate() && (a.level >= Annotations || !a.existedAtSigning(owner)) {
			return RuleAnnotationData, ""
		}
		return "", "data of a form field or annotation"
	case strings.HasPrefix(l, pValue):
		owner, _ := parseRef(strings.TrimPrefix(l, pValue))
		if fi := a.new.fields[owner]; fi != nil && a.canFill(fi) {
			return RuleFormFill, ""
		}
		return "", "value of a field that may not change"
	}
	return "", "no rule permits this"
}

// canFill says whether form field fi may be filled in at this level.
func (a *analyzer) canFill(fi *fieldInfo) bool {
	if a.level < FormFilling {
		return false
	}
	return !a.locked(fi.name)
}

func (a *analyzer) locked(name string) bool {
	for _, l := range a.locks {
		in := false
		for _, n := range l.Fields {
			if n == name {
				in = true
			}
		}
		switch l.Action {
		case "All":
			return true
		case "Include":
			if in {
				return true
			}
		case "Exclude":
			if !in {
				return true
			}
		}
	}
	return false
}

func (a *analyzer) pageNumber(ref pdf.Ref) int {
	for i, p := range a.new.pages {
		if p == ref {
			return i + 1
		}
	}
	for i, p := range a.old.pages {
		if p == ref {
			return i + 1
		}
	}
	return 0
}

func (a *analyzer) pageOfAnnots(arr pdf.Ref) (int, pdf.Ref) {
	for i, p := range a.new.pages {
		if d := a.new.dictOf(p); d != nil && pdf.Equal(d["Annots"], arr, nil) {
			return i + 1, p
		}
	}
	return 0, pdf.Ref{}
}
