// Package scancheck owns the check a scanned paper original must pass
// before anything is signed over it (Decree 30/2020 art. 25 for copies, the
// same rule for certified copies of a citizen's original): a PDF of version
// 1.4 or later whose every page is a colour image of at least 200 dpi at
// 100 % scale.
//
// The resolution of an image is computed from its pixel size and the size
// it is drawn at on the page (the current transformation matrix at its Do
// operator, through Form XObjects), never from metadata a scanner may have
// written. A refusal names each page that fails and the dpi found there.
package scancheck

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vanthu/vanthu/signing/pdf"
	"github.com/vanthu/vanthu/signing/verify/diff"
)

// MinDPI is the lowest resolution a scan may have, in both directions.
const MinDPI = 200

// Limits on the work one check does: a scan of a few hundred pages passes
// well within them, a crafted file stops at them.
const (
	maxPages      = 2000
	maxTreeDepth  = 32
	maxFormDepth  = 8
	maxOpsPerPage = 200_000
	maxImages     = 10_000
	maxProblems   = 50
	// dpiTolerance absorbs rounding in a scanner's page size (a 200 dpi A4
	// scan placed on 595.28 pt may compute as 199.97 dpi).
	dpiTolerance = 0.5
)

// Problem codes, stable for the API and the pages.
const (
	CodeNotPDF     = "not_pdf"
	CodeVersion    = "pdf_version"
	CodeNoImage    = "no_image"
	CodeNotColour  = "not_colour"
	CodeResolution = "resolution"
	CodeUnreadable = "unreadable_page"
)

// Problem is one reason a scan is refused. Page is 1-based (0: the whole
// file); DPI is the resolution found, when the problem is resolution.
type Problem struct {
	Code    string  `json:"code"`
	Page    int     `json:"page,omitempty"`
	DPI     float64 `json:"dpi,omitempty"`
	Message string  `json:"message"`
}

// ErrRefused is wrapped by every *Refusal.
var ErrRefused = errors.New("scan refused")

// Refusal lists what is wrong with a scan, page by page (at most 50).
type Refusal struct{ Problems []Problem }

func (r *Refusal) Error() string {
	msgs := make([]string, 0, len(r.Problems))
	for _, p := range r.Problems {
		msgs = append(msgs, p.Message)
	}
	return "scan refused: " + strings.Join(msgs, "; ")
}

func (r *Refusal) Unwrap() error { return ErrRefused }

// Image is one image drawn on a page.
type Image struct {
	Width, Height int     // pixels
	DPI           float64 // the lower of the horizontal and vertical resolution
	ColourSpace   string  // as declared, e.g. DeviceRGB, ICCBased/3
	Colour        bool
}

// Page is what the check found on one page.
type Page struct {
	Number int
	Images []Image
	// DPI is the lowest resolution over the page's images.
	DPI float64
}

// Report is what a passing scan is made of.
type Report struct {
	Version string // the effective PDF version, e.g. "1.7"
	Pages   []Page
}

// Check reads a scanned PDF and returns its report, or a *Refusal (wrapping
// ErrRefused) saying which pages fail and why. It never panics and does
// bounded work on any input.
func Check(data []byte) (rep *Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			rep, err = nil, &Refusal{[]Problem{{Code: CodeNotPDF, Message: fmt.Sprintf("the file cannot be read as a PDF (%v)", p)}}}
		}
	}()
	f, err := pdf.OpenBytes(data, nil)
	if err != nil {
		return nil, &Refusal{[]Problem{{Code: CodeNotPDF, Message: "the file cannot be read as a PDF: " + err.Error()}}}
	}
	defer f.Close()
	c := &checker{f: f, rev: len(f.Revisions()) - 1}
	return c.run(data)
}

type checker struct {
	f        *pdf.File
	rev      int
	problems []Problem
	images   int
}

func (c *checker) problem(p Problem) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, p)
	}
}

func (c *checker) get(o pdf.Object) pdf.Object {
	v, err := c.f.Resolve(o, c.rev)
	if err != nil {
		return nil
	}
	return v
}

func (c *checker) dict(o pdf.Object) pdf.Dict {
	switch v := c.get(o).(type) {
	case pdf.Dict:
		return v
	case *pdf.Stream:
		return v.Dict
	}
	return nil
}

func (c *checker) number(o pdf.Object) (float64, bool) {
	switch v := c.get(o).(type) {
	case pdf.Integer:
		return float64(v), true
	case pdf.Real:
		return float64(v), true
	}
	return 0, false
}

func (c *checker) run(data []byte) (*Report, error) {
	trailer := c.f.Revisions()[c.rev].Trailer
	root := c.dict(trailer["Root"])
	if root == nil {
		return nil, &Refusal{[]Problem{{Code: CodeNotPDF, Message: "the PDF has no document catalog"}}}
	}
	version := effectiveVersion(data, root)
	rep := &Report{Version: version}
	if !atLeast14(version) {
		c.problem(Problem{Code: CodeVersion, Message: fmt.Sprintf("the PDF is version %s; a scan must be PDF 1.4 or later", orUnknown(version))})
	}
	var pages []pageNode
	c.collect(root["Pages"], nil, 0, map[pdf.Ref]bool{}, &pages)
	if len(pages) == 0 {
		c.problem(Problem{Code: CodeNotPDF, Message: "the PDF has no pages"})
	}
	for i, pg := range pages {
		p := c.page(i+1, pg)
		rep.Pages = append(rep.Pages, p)
	}
	if len(c.problems) > 0 {
		return nil, &Refusal{c.problems}
	}
	return rep, nil
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// effectiveVersion is the later of the header's version and the catalog's
// /Version (which an incremental update may use to raise it).
func effectiveVersion(data []byte, root pdf.Dict) string {
	v := ""
	if i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-")); i >= 0 {
		rest := data[i+5 : min(len(data), i+5+8)]
		end := 0
		for end < len(rest) && (rest[end] >= '0' && rest[end] <= '9' || rest[end] == '.') {
			end++
		}
		v = string(rest[:end])
	}
	if n, ok := root["Version"].(pdf.Name); ok && versionLess(v, string(n)) {
		v = string(n)
	}
	return v
}

// versionLess compares "major.minor" versions; anything unreadable is
// lowest.
func versionLess(a, b string) bool {
	am, an, aok := splitVersion(a)
	bm, bn, bok := splitVersion(b)
	if !bok {
		return false
	}
	if !aok {
		return true
	}
	return am < bm || am == bm && an < bn
}

func splitVersion(v string) (int, int, bool) {
	maj, minr, ok := strings.Cut(v, ".")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(minr)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return 0, 0, false
	}
	return a, b, true
}

func atLeast14(v string) bool {
	if _, _, ok := splitVersion(v); !ok {
		return false
	}
	return !versionLess(v, "1.4")
}

// pageNode is a leaf of the page tree with what it inherits.
type pageNode struct {
	dict      pdf.Dict
	resources pdf.Object
	userUnit  float64
}

// collect walks the page tree in order, carrying inherited /Resources.
func (c *checker) collect(o pdf.Object, inherited pdf.Object, depth int, seen map[pdf.Ref]bool, out *[]pageNode) {
	if depth > maxTreeDepth || len(*out) >= maxPages {
		return
	}
	if r, ok := o.(pdf.Ref); ok {
		if seen[r] {
			return
		}
		seen[r] = true
	}
	d := c.dict(o)
	if d == nil {
		return
	}
	if res, ok := d["Resources"]; ok {
		inherited = res
	}
	if kids, ok := c.get(d["Kids"]).(pdf.Array); ok && d.Name("Type") != "Page" {
		for _, k := range kids {
			c.collect(k, inherited, depth+1, seen, out)
		}
		return
	}
	uu := 1.0
	if v, ok := c.number(d["UserUnit"]); ok && v > 0 && v < 1000 {
		uu = v
	}
	*out = append(*out, pageNode{dict: d, resources: inherited, userUnit: uu})
}

// matrix is a PDF transformation [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (c *checker) page(num int, pg pageNode) Page {
	p := Page{Number: num}
	var data []byte
	readable := true
	switch v := c.get(pg.dict["Contents"]).(type) {
	case *pdf.Stream:
		b, err := c.f.StreamData(v, c.rev)
		readable = err == nil
		data = b
	case pdf.Array:
		// The streams of an array are one content stream.
		for _, e := range v {
			st, ok := c.get(e).(*pdf.Stream)
			if !ok {
				continue
			}
			b, err := c.f.StreamData(st, c.rev)
			if err != nil {
				readable = false
				break
			}
			data = append(append(data, b...), '\n')
		}
	}
	if !readable {
		c.problem(Problem{Code: CodeUnreadable, Page: num, Message: fmt.Sprintf("page %d: its content cannot be read", num)})
		return p
	}
	base := matrix{pg.userUnit, 0, 0, pg.userUnit, 0, 0}
	c.content(data, c.dict(pg.resources), base, 0, &p)
	if len(p.Images) == 0 {
		c.problem(Problem{Code: CodeNoImage, Page: num, Message: fmt.Sprintf("page %d has no scanned image", num)})
		return p
	}
	p.DPI = math.Inf(1)
	grey := ""
	for _, im := range p.Images {
		p.DPI = math.Min(p.DPI, im.DPI)
		if !im.Colour && grey == "" {
			grey = im.ColourSpace
		}
	}
	p.DPI = math.Round(p.DPI*10) / 10
	if grey != "" {
		c.problem(Problem{Code: CodeNotColour, Page: num, Message: fmt.Sprintf("page %d is not a colour scan (%s); scan in colour", num, grey)})
	}
	if p.DPI+dpiTolerance < MinDPI {
		c.problem(Problem{Code: CodeResolution, Page: num, DPI: math.Round(p.DPI), Message: fmt.Sprintf("page %d is scanned at %.0f dpi; at least %d dpi at 100 %% scale is needed", num, math.Floor(p.DPI), MinDPI)})
	}
	return p
}

// content interprets one content stream for what images it draws and where.
func (c *checker) content(data []byte, res pdf.Dict, ctm matrix, depth int, p *Page) {
	var stack []matrix
	diff.ScanOperators(data, maxOpsPerPage, func(op string, args []diff.Operand) bool {
		switch op {
		case "q":
			if len(stack) < 64 {
				stack = append(stack, ctm)
			}
		case "Q":
			if len(stack) > 0 {
				ctm, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		case "cm":
			if m, ok := matrixOf(args); ok {
				ctm = m.mul(ctm)
			}
		case "Do":
			if len(args) > 0 && args[len(args)-1].IsName {
				c.xobject(res, pdf.Name(args[len(args)-1].Name), ctm, depth, p)
			}
		}
		return c.images < maxImages
	})
}

func matrixOf(args []diff.Operand) (matrix, bool) {
	if len(args) < 6 {
		return matrix{}, false
	}
	var m matrix
	for i, a := range args[len(args)-6:] {
		if !a.IsNumber {
			return matrix{}, false
		}
		m[i] = a.Number
	}
	return m, true
}

func (c *checker) xobject(res pdf.Dict, name pdf.Name, ctm matrix, depth int, p *Page) {
	xo := c.dict(res["XObject"])
	st, ok := c.get(xo[name]).(*pdf.Stream)
	if !ok {
		return
	}
	switch st.Dict.Name("Subtype") {
	case "Image":
		c.images++
		c.image(st.Dict, ctm, p)
	case "Form":
		if depth >= maxFormDepth {
			return
		}
		data, err := c.f.StreamData(st, c.rev)
		if err != nil {
			return
		}
		m := identity
		if arr, ok := c.get(st.Dict["Matrix"]).(pdf.Array); ok && len(arr) == 6 {
			for i, e := range arr {
				m[i], _ = c.number(e)
			}
		}
		inner := c.dict(st.Dict["Resources"])
		if inner == nil {
			inner = res
		}
		c.content(data, inner, m.mul(ctm), depth+1, p)
	}
}

func (c *checker) image(d pdf.Dict, ctm matrix, p *Page) {
	w, _ := c.number(d["Width"])
	h, _ := c.number(d["Height"])
	// The image's unit square is drawn through ctm: its sides on the page
	// are the lengths of the transformed unit vectors, in points.
	wpt := math.Hypot(ctm[0], ctm[1])
	hpt := math.Hypot(ctm[2], ctm[3])
	dpi := 0.0
	if wpt > 0 && hpt > 0 && w > 0 && h > 0 {
		dpi = math.Min(w/(wpt/72), h/(hpt/72))
	}
	cs, colour := c.colourSpace(d)
	p.Images = append(p.Images, Image{Width: int(w), Height: int(h), DPI: dpi, ColourSpace: cs, Colour: colour})
}

// colourSpace names an image's colour space and says whether it carries
// colour: 1-bit images and masks, DeviceGray, CalGray, a one-component ICC
// profile and a single separation do not.
func (c *checker) colourSpace(d pdf.Dict) (string, bool) {
	if m, ok := c.get(d["ImageMask"]).(pdf.Bool); ok && bool(m) {
		return "1-bit image mask", false
	}
	if bpc, ok := c.number(d["BitsPerComponent"]); ok && bpc == 1 {
		return "1-bit", false
	}
	cs := c.get(d["ColorSpace"])
	if cs == nil {
		if isJPX(c.get(d["Filter"])) {
			return "JPEG 2000 without a declared colour space", false
		}
		return "no colour space", false
	}
	return c.space(cs, 0)
}

func isJPX(filter pdf.Object) bool {
	switch v := filter.(type) {
	case pdf.Name:
		return v == "JPXDecode"
	case pdf.Array:
		for _, e := range v {
			if n, ok := e.(pdf.Name); ok && n == "JPXDecode" {
				return true
			}
		}
	}
	return false
}

func (c *checker) space(cs pdf.Object, depth int) (string, bool) {
	if depth > 4 {
		return "unreadable colour space", false
	}
	switch v := cs.(type) {
	case pdf.Name:
		switch v {
		case "DeviceRGB", "DeviceCMYK", "CalRGB", "Lab", "RGB", "CMYK":
			return string(v), true
		}
		return string(v), false
	case pdf.Array:
		if len(v) == 0 {
			return "empty colour space", false
		}
		family, _ := c.get(v[0]).(pdf.Name)
		switch family {
		case "ICCBased":
			if len(v) < 2 {
				return "ICCBased without a profile", false
			}
			n, _ := c.number(c.dict(v[1])["N"])
			return fmt.Sprintf("ICCBased/%d", int(n)), n == 3 || n == 4
		case "Indexed", "I":
			if len(v) < 2 {
				return "Indexed without a base", false
			}
			base, colour := c.space(c.get(v[1]), depth+1)
			return "Indexed " + base, colour
		case "CalRGB", "Lab":
			return string(family), true
		case "DeviceN":
			if len(v) > 1 {
				if names, ok := c.get(v[1]).(pdf.Array); ok && len(names) >= 3 {
					return "DeviceN", true
				}
			}
			return "DeviceN", false
		case "DeviceRGB", "DeviceCMYK":
			return string(family), true
		}
		return string(family), false
	}
	return "unreadable colour space", false
}
