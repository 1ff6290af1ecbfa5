package copies

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// ErrExtract: the original's pages could not be copied into a new PDF.
var ErrExtract = errors.New("the original's pages cannot be copied")

// pdfcpuConfig keeps pdfcpu away from the user's configuration directory:
// a service must not write ~/.config/pdfcpu on first use.
var pdfcpuConfig = sync.OnceValue(func() *model.Configuration {
	api.DisableConfigDir()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	return conf
})

// Extracted is a new PDF made of some pages of another, and the size of
// its first page (where the copy block goes).
type Extracted struct {
	Pages        int
	PageW, PageH float64
}

// ExtractPages writes to w a new PDF of the given pages of in (1-based, in
// that order; none: every page). What a viewer shows of each page stays:
// the visible widgets of the original's signatures (the signer's block, the
// seal, an earlier copy block) are drawn into the page as it shows them;
// the signatures themselves, the form and the document's permissions are
// not carried over, since the copy is signed anew by the copying
// organisation. The original's structure is checked by our own parser
// first (checkStructure), and pdfcpu's work is bounded (budgeted): an
// original it cannot copy in bounds is ErrExtract, never a hang.
func ExtractPages(ctx context.Context, in io.ReadSeeker, pages []int, w io.Writer) (Extracted, error) {
	ra, ok := in.(io.ReaderAt)
	if !ok {
		return Extracted{}, fmt.Errorf("%w: the original cannot be read at random", ErrExtract)
	}
	size, err := in.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = in.Seek(0, io.SeekStart)
	}
	if err != nil {
		return Extracted{}, fmt.Errorf("%w: %v", ErrExtract, err)
	}
	count, err := checkStructure(ra, size)
	if err != nil {
		return Extracted{}, err
	}
	for _, n := range pages {
		if n < 1 || n > count {
			return Extracted{}, &PageError{Page: n, Count: count}
		}
	}
	return budgeted(ctx, extractSlots, extractBudget, w, func(w io.Writer) (Extracted, error) {
		return extractPages(in, pages, count, w)
	})
}

// extractPages is pdfcpu's part of ExtractPages, on an original that
// passed the structural check and has count pages.
func extractPages(in io.ReadSeeker, pages []int, count int, w io.Writer) (out Extracted, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrExtract, p)
		}
	}()
	pctx, err := api.ReadContext(in, pdfcpuConfig())
	if err != nil {
		return out, fmt.Errorf("%w: read: %v", ErrExtract, err)
	}
	if err := pctx.EnsurePageCount(); err != nil {
		return out, fmt.Errorf("%w: page count: %v", ErrExtract, err)
	}
	if pctx.PageCount != count {
		return out, fmt.Errorf("%w: the page tree holds %d pages, pdfcpu reads %d", ErrExtract, count, pctx.PageCount)
	}
	if len(pages) == 0 {
		for i := 1; i <= pctx.PageCount; i++ {
			pages = append(pages, i)
		}
	}
	for _, n := range pages {
		if n < 1 || n > pctx.PageCount {
			return out, &PageError{Page: n, Count: pctx.PageCount}
		}
	}
	flattened := map[int]bool{}
	for _, n := range pages {
		if flattened[n] {
			continue
		}
		if err := flattenWidgets(pctx, n); err != nil {
			return out, fmt.Errorf("%w: page %d: %v", ErrExtract, n, err)
		}
		flattened[n] = true
	}
	// Without the form, no field or signature goes into the copy.
	pctx.Form = nil
	dest, err := pdfcpu.ExtractPages(pctx, pages, false)
	if err != nil {
		return out, fmt.Errorf("%w: %v", ErrExtract, err)
	}
	if err := dest.EnsurePageCount(); err != nil {
		return out, fmt.Errorf("%w: page count: %v", ErrExtract, err)
	}
	dims, err := dest.PageDims()
	if err != nil || len(dims) == 0 {
		return out, fmt.Errorf("%w: page size: %v", ErrExtract, err)
	}
	if err := api.WriteContext(dest, w); err != nil {
		return out, fmt.Errorf("%w: write: %v", ErrExtract, err)
	}
	return Extracted{Pages: dest.PageCount, PageW: dims[0].Width, PageH: dims[0].Height}, nil
}

// PageError is a page asked for that the original does not have.
type PageError struct{ Page, Count int }

func (e *PageError) Error() string {
	return fmt.Sprintf("page %d is not in the original, which has %d pages", e.Page, e.Count)
}

// annotation flags (PDF 32000-1 12.5.3).
const (
	flagHidden  = 1 << 1
	flagNoView  = 1 << 5
	maxWidgets  = 500
	flatXObject = "VTCopyFlat"
)

// flattenWidgets draws the normal appearance of each visible widget of
// page n into its content, as a viewer places it (PDF 32000-1 12.5.5), and
// removes the widgets; other annotations stay.
func flattenWidgets(ctx *model.Context, n int) error {
	page, _, inh, err := ctx.PageDict(n, false)
	if err != nil {
		return err
	}
	annots, err := ctx.DereferenceArray(page["Annots"])
	if err != nil || len(annots) == 0 {
		return nil // no annotations, or unreadable ones: nothing to draw
	}
	var keep types.Array
	var content bytes.Buffer
	xobjects := types.Dict{}
	for i, a := range annots {
		if i >= maxWidgets {
			keep = append(keep, annots[i:]...)
			break
		}
		d, err := ctx.DereferenceDict(a)
		if err != nil || d == nil {
			keep = append(keep, a)
			continue
		}
		if st := d.NameEntry("Subtype"); st == nil || *st != "Widget" {
			keep = append(keep, a)
			continue
		}
		ap, ok := widgetAppearance(ctx, d)
		if !ok {
			continue
		}
		name := flatXObject + strconv.Itoa(len(xobjects))
		xobjects[name] = ap.ref
		fmt.Fprintf(&content, "q %s %s %s %s %s %s cm /%s Do Q\n",
			num(ap.m[0]), num(ap.m[1]), num(ap.m[2]), num(ap.m[3]), num(ap.m[4]), num(ap.m[5]), name)
	}
	if len(keep) > 0 {
		page["Annots"] = keep
	} else {
		delete(page, "Annots")
	}
	if len(xobjects) == 0 {
		return nil
	}
	if err := addXObjects(ctx, page, inh, xobjects); err != nil {
		return err
	}
	return wrapContent(ctx, page, content.Bytes())
}

type placedAppearance struct {
	ref types.IndirectRef
	m   [6]float64
}

// widgetAppearance finds the widget's normal appearance stream and the
// matrix that maps it onto the widget's rectangle.
func widgetAppearance(ctx *model.Context, d types.Dict) (placedAppearance, bool) {
	var out placedAppearance
	if f := d.IntEntry("F"); f != nil && *f&(flagHidden|flagNoView) != 0 {
		return out, false
	}
	rect, err := ctx.DereferenceArray(d["Rect"])
	if err != nil || len(rect) != 4 {
		return out, false
	}
	var r [4]float64
	for i := range r {
		if r[i], err = ctx.DereferenceNumber(rect[i]); err != nil {
			return out, false
		}
	}
	x1, y1, x2, y2 := min(r[0], r[2]), min(r[1], r[3]), max(r[0], r[2]), max(r[1], r[3])
	if !(x2-x1 >= 1 && y2-y1 >= 1) {
		return out, false // an invisible signature
	}
	ap, err := ctx.DereferenceDict(d["AP"])
	if err != nil || ap == nil {
		return out, false
	}
	nObj := ap["N"]
	if states, err := ctx.DereferenceDict(nObj); err == nil && states != nil && states.Type() == nil && states["BBox"] == nil {
		// An appearance per state (check boxes): the one /AS names.
		as := d.NameEntry("AS")
		if as == nil {
			return out, false
		}
		nObj = states[*as]
	}
	ref, ok := nObj.(types.IndirectRef)
	if !ok {
		return out, false
	}
	sd, _, err := ctx.DereferenceStreamDict(ref)
	if err != nil || sd == nil {
		return out, false
	}
	bbox, err := ctx.DereferenceArray(sd.Dict["BBox"])
	if err != nil || len(bbox) != 4 {
		return out, false
	}
	var b [4]float64
	for i := range b {
		if b[i], err = ctx.DereferenceNumber(bbox[i]); err != nil {
			return out, false
		}
	}
	m := [6]float64{1, 0, 0, 1, 0, 0}
	if arr, err := ctx.DereferenceArray(sd.Dict["Matrix"]); err == nil && len(arr) == 6 {
		for i := range m {
			if m[i], err = ctx.DereferenceNumber(arr[i]); err != nil {
				return out, false
			}
		}
	}
	// The transformed bounding box, then the mapping of it onto the Rect.
	tx1, ty1, tx2, ty2 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [][2]float64{{b[0], b[1]}, {b[2], b[1]}, {b[0], b[3]}, {b[2], b[3]}} {
		x := m[0]*c[0] + m[2]*c[1] + m[4]
		y := m[1]*c[0] + m[3]*c[1] + m[5]
		tx1, ty1, tx2, ty2 = min(tx1, x), min(ty1, y), max(tx2, x), max(ty2, y)
	}
	if !(tx2-tx1 > 0 && ty2-ty1 > 0) {
		return out, false
	}
	sx, sy := (x2-x1)/(tx2-tx1), (y2-y1)/(ty2-ty1)
	// A = M × [sx 0 0 sy (x1 - sx·tx1) (y1 - sy·ty1)]; the form applies its
	// own /Matrix when drawn, so the cm is the mapping alone.
	out.m = [6]float64{sx, 0, 0, sy, x1 - sx*tx1, y1 - sy*ty1}
	for _, v := range out.m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return out, false
		}
	}
	if sd.Dict.NameEntry("Subtype") == nil {
		sd.Dict.InsertName("Type", "XObject")
		sd.Dict.InsertName("Subtype", "Form")
	}
	out.ref = ref
	return out, true
}

// addXObjects names the appearances in the page's own resources (a copy of
// the inherited ones when it has none).
func addXObjects(ctx *model.Context, page types.Dict, inh *model.InheritedPageAttrs, xobjects types.Dict) error {
	res, err := ctx.DereferenceDict(page["Resources"])
	if err != nil {
		return err
	}
	if res == nil {
		if inh != nil && inh.Resources != nil {
			res = inh.Resources.Clone().(types.Dict)
		} else {
			res = types.Dict{}
		}
	} else {
		res = res.Clone().(types.Dict)
	}
	xo, err := ctx.DereferenceDict(res["XObject"])
	if err != nil {
		return err
	}
	if xo == nil {
		xo = types.Dict{}
	} else {
		xo = xo.Clone().(types.Dict)
	}
	for k, v := range xobjects {
		xo[k] = v
	}
	res["XObject"] = xo
	page["Resources"] = res
	return nil
}

// wrapContent puts the page's content between q and Q, so whatever state
// it leaves does not move what is drawn after it, and appends extra.
func wrapContent(ctx *model.Context, page types.Dict, extra []byte) error {
	var parts types.Array
	switch c := page["Contents"].(type) {
	case nil:
	case types.IndirectRef:
		o, err := ctx.Dereference(c)
		if err != nil {
			return err
		}
		if arr, ok := o.(types.Array); ok {
			parts = append(parts, arr...)
		} else {
			parts = append(parts, c)
		}
	case types.Array:
		parts = append(parts, c...)
	default:
		return fmt.Errorf("page /Contents of an unexpected kind")
	}
	open, err := ctx.StreamDictIndRef([]byte("q\n"))
	if err != nil {
		return err
	}
	closing, err := ctx.StreamDictIndRef(append([]byte("\nQ\n"), extra...))
	if err != nil {
		return err
	}
	page["Contents"] = append(append(types.Array{*open}, parts...), *closing)
	return nil
}

func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 4, 64)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 1 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
