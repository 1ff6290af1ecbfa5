package appearance

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// vietnameseLetters returns every Vietnamese letter, upper and lower case:
// the consonants and each vowel with no tone and with the five tones.
func vietnameseLetters() []string {
	const bases = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
	const vowels = "aăâeêioôơuưy"
	tones := []string{"", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"} // huyền sắc hỏi ngã nặng
	var out []string
	for _, b := range bases {
		marks := []string{""}
		if strings.ContainsRune(vowels, b) {
			marks = tones
		}
		for _, m := range marks {
			for _, s := range []string{string(b), strings.ToUpper(string(b))} {
				out = append(out, norm.NFC.String(s+m))
			}
		}
	}
	return out
}

func TestFontCoversEveryVietnameseLetter(t *testing.T) {
	letters := vietnameseLetters()
	if len(letters) != 2*(17+12*6) {
		t.Fatalf("built %d letters, want %d", len(letters), 2*(17+12*6))
	}
	for _, l := range letters {
		if utf8.RuneCountInString(l) != 1 {
			t.Errorf("%q does not compose to one precomposed letter", l)
		}
	}
	all := strings.Join(letters, "")
	for _, bold := range []bool{false, true} {
		missing, err := missingGlyphs(all, bold)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) > 0 {
			t.Errorf("bold=%v: no glyph for %q", bold, string(missing))
		}
	}
	// And the check itself can fail: a letter outside the font is caught.
	if missing, _ := missingGlyphs("ꙮ", false); len(missing) != 1 {
		t.Errorf("missingGlyphs did not report a glyph the font lacks")
	}
}

func TestFormatTime(t *testing.T) {
	hcm := time.FixedZone("ICT", 7*3600)
	ny := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 3, 12, 2, 41, 5, 0, time.UTC), "2026-03-12T09:41:05+07:00"},
		{time.Date(2026, 3, 12, 9, 41, 5, 999, hcm), "2026-03-12T09:41:05+07:00"},
		{time.Date(2026, 12, 31, 20, 0, 0, 0, ny), "2027-01-01T08:00:00+07:00"},
	} {
		if got := FormatTime(tc.in); got != tc.want {
			t.Errorf("FormatTime(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// inkIn counts pixels in r with alpha above half.
func inkIn(img *image.NRGBA, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.NRGBAAt(x, y).A > 128 {
				n++
			}
		}
	}
	return n
}

// lineBox is the pixel box of a laid-out line.
func lineBox(l line, dpi int) image.Rectangle {
	step := l.sizePt * lineHeight * float64(dpi) / 72
	return image.Rect(int(l.x.Floor()), int(l.top), int((l.x + l.width).Ceil()), int(l.top+step+0.5))
}

// drawGlyphByGlyph draws text one rune at a time, each a separate glyph
// looked up by itself, at the positions the face's advances and kerning
// give: what a correct renderer of that string must produce.
func drawGlyphByGlyph(t *testing.T, dst *image.NRGBA, text string, bold bool, sizePt float64, dpi int, dot fixed.Point26_6) {
	t.Helper()
	face, err := newFace(bold, sizePt, dpi)
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	prev := rune(-1)
	for _, r := range text {
		if prev >= 0 {
			dot.X += face.Kern(prev, r)
		}
		d := font.Drawer{Dst: dst, Src: image.NewUniform(ink), Face: face, Dot: dot}
		d.DrawString(string(r))
		adv, ok := face.GlyphAdvance(r)
		if !ok {
			t.Fatalf("no glyph for %q", r)
		}
		dot.X += adv
		prev = r
	}
}

func TestRenderSignerDrawsTheRightGlyphs(t *testing.T) {
	const dpi = 200
	sig := DemoSignature("x")
	for _, tc := range []struct {
		spec  Spec
		wrong string // a name that differs only in diacritics
	}{
		{Spec{Kind: Signer, Authority: "KT. CHỦ TỊCH", Title: "PHÓ CHỦ TỊCH", Name: "Nguyễn Thị Hồng Nhung", SignatureImage: sig}, "Nguyên Thi Hông Nhung"},
		{Spec{Kind: Signer, Authority: "TM. ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", Title: "chủ tịch", Name: "Trần Đức Thắng", SignatureImage: sig}, "Trân Đưc Thăng"},
	} {
		t.Run(tc.spec.Name, func(t *testing.T) {
			w, h := Size(tc.spec)
			img, err := Render(tc.spec, w, h, dpi)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			b := img.Bounds()
			if img.NRGBAAt(0, 0).A != 0 || img.NRGBAAt(b.Max.X-1, b.Max.Y-1).A != 0 {
				t.Errorf("background is not transparent")
			}
			lines, sigBox, err := signerLayout(tc.spec, float64(b.Dx()), float64(b.Dy()), dpi)
			if err != nil {
				t.Fatal(err)
			}
			// The head is in capitals; the name is last and at the bottom.
			if lines[0].text != strings.ToUpper(lines[0].text) {
				t.Errorf("authority line %q is not in capitals", lines[0].text)
			}
			last := lines[len(lines)-1]
			if last.text != normalise(tc.spec.Name) || !last.bold {
				t.Errorf("last line = %q (bold %v), want the name in bold", last.text, last.bold)
			}
			if sigBox.Min.Y < int(lines[len(lines)-2].top) || sigBox.Max.Y > int(last.top)+1 {
				t.Errorf("signature box %v is not between title and name", sigBox)
			}
			blue := 0
			for y := sigBox.Min.Y; y < sigBox.Max.Y; y++ {
				for x := sigBox.Min.X; x < sigBox.Max.X; x++ {
					if c := img.NRGBAAt(x, y); c.A > 128 && c.B > 100 && c.R < 80 {
						blue++
					}
				}
			}
			if blue < 500 {
				t.Errorf("only %d blue signature pixels between title and name", blue)
			}
			for _, l := range lines {
				if missing, _ := missingGlyphs(l.text, l.bold); len(missing) > 0 {
					t.Errorf("line %q uses missing glyphs %q", l.text, string(missing))
				}
				box := lineBox(l, dpi)
				if n := inkIn(img, box); n < 200 {
					t.Errorf("line %q: only %d ink pixels in %v", l.text, n, box)
				}
				// Glyph by glyph, the same line must come out the same.
				want := image.NewNRGBA(b)
				drawGlyphByGlyph(t, want, l.text, l.bold, l.sizePt, dpi, fixed.Point26_6{X: l.x, Y: l.baseline})
				if s := CompareRegion(img.SubImage(box), want.SubImage(box), 0.1); s < 0.999 || differing(img, want, box) > 0 {
					t.Errorf("line %q differs from its glyphs drawn one by one: similarity %.3f", l.text, s)
				}
			}
			// A name that differs only in its diacritics looks different.
			wrong := image.NewNRGBA(b)
			drawGlyphByGlyph(t, wrong, tc.wrong, true, last.sizePt, dpi, fixed.Point26_6{X: last.x, Y: last.baseline})
			box := lineBox(last, dpi)
			// The tone marks are small, so the score drops only a little,
			// but many pixels differ outright.
			if s := CompareRegion(img.SubImage(box), wrong.SubImage(box), 0.1); s > 0.985 {
				t.Errorf("%q and %q look alike: similarity %.3f", tc.spec.Name, tc.wrong, s)
			}
			if n := differing(img, wrong, box); n < 40 {
				t.Errorf("%q and %q differ in only %d pixels", tc.spec.Name, tc.wrong, n)
			}
			// And an unrelated name is nothing like it.
			other := image.NewNRGBA(b)
			drawGlyphByGlyph(t, other, "Lê Văn Bình Phước", true, last.sizePt, dpi, fixed.Point26_6{X: last.x, Y: last.baseline})
			if s := CompareRegion(img.SubImage(box), other.SubImage(box), 0.1); s > 0.6 {
				t.Errorf("%q and another name look alike: similarity %.3f", tc.spec.Name, s)
			}
			writeGolden(t, tc.spec.Name, img)
		})
	}
}

// differing counts pixels in r whose alpha differs by more than half.
func differing(a, b *image.NRGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			d := int(a.NRGBAAt(x, y).A) - int(b.NRGBAAt(x, y).A)
			if d > 128 || d < -128 {
				n++
			}
		}
	}
	return n
}

// writeGolden keeps a PNG for a person to look at, only in the test's
// temporary directory.
func writeGolden(t *testing.T, name string, img image.Image) {
	t.Helper()
	p := filepath.Join(t.TempDir(), strings.ReplaceAll(name, " ", "_")+".png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatalf("encode %s: %v", p, err)
	}
}

func TestRenderNormalisesToNFC(t *testing.T) {
	nfc := Spec{Kind: Copy, Organization: "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", Lines: []string{"Nguyễn Thị Hồng Nhung"}}
	nfd := Spec{Kind: Copy, Organization: norm.NFD.String(nfc.Organization), Lines: []string{norm.NFD.String(nfc.Lines[0])}}
	if nfd.Organization == nfc.Organization {
		t.Fatal("test strings are not decomposed")
	}
	a, err := Render(nfc, 220, 40, 150)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(nfd, 220, 40, 150)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Pix) != string(b.Pix) {
		t.Errorf("decomposed text renders differently from precomposed")
	}
}

func TestTextShrinksAndWrapsInsteadOfClipping(t *testing.T) {
	long := Spec{Kind: Copy, Organization: "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", Time: time.Date(2026, 3, 12, 2, 41, 5, 0, time.UTC),
		Lines: []string{"SAO Y", "Số: 12/SY-UBND", "Chứng thực bản sao đúng với bản chính", "Số chứng thực 45, quyển số 01/2026-SCTĐT/BS"}}
	for _, tc := range []struct {
		name string
		w, h float64
	}{
		{"copy box", CopyRect(595, 842).W(), CopyRect(595, 842).H()},
		{"narrow", 90, 120},
		{"flat", 400, 45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const dpi = 150
			img, err := Render(long, tc.w, tc.h, dpi)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			b := img.Bounds()
			lines, th, err := layoutBlock(orgParas(long, copyStyle, copyStyle), float64(b.Dx())-2*2*dpi/72.0, float64(b.Dy())-2*2*dpi/72.0, dpi, false)
			if err != nil {
				t.Fatal(err)
			}
			words := 0
			for _, l := range lines {
				words += len(strings.Fields(l.text))
				if l.width.Ceil() > b.Dx() {
					t.Errorf("line %q is %d px wide in a %d px box", l.text, l.width.Ceil(), b.Dx())
				}
			}
			if want := len(strings.Fields(strings.Join(append([]string{long.Organization, "Thời gian ký: x"}, long.Lines...), " "))); words != want {
				t.Errorf("laid out %d words, want all %d", words, want)
			}
			if th > float64(b.Dy()) {
				t.Errorf("text is %.0f px tall in a %d px box", th, b.Dy())
			}
			// Nothing touches the edges: text was fitted, not cut.
			edge := inkIn(img, image.Rect(0, b.Max.Y-1, b.Dx(), b.Max.Y)) + inkIn(img, image.Rect(b.Max.X-1, 0, b.Max.X, b.Dy()))
			if edge > 0 {
				t.Errorf("%d ink pixels on the bottom or right edge", edge)
			}
			if inkIn(img, b) < 300 {
				t.Errorf("almost nothing drawn")
			}
		})
	}
	if _, err := Render(long, 20, 8, 150); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("a box too small for the text: err = %v, want a 'does not fit' error", err)
	}
}

// redBounds is the bounding box of the seal's red pixels.
func redBounds(img *image.NRGBA) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := img.NRGBAAt(x, y); c.A > 128 && c.R > 150 && c.G < 100 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func TestOrganizationSealAtRealSize(t *testing.T) {
	const dpi = 144
	org := Spec{Kind: Organization, Organization: "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", SealImage: DemoSeal("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI"),
		Time: time.Date(2026, 3, 12, 2, 41, 5, 0, time.UTC), Number: "05/QĐ-UBND", Date: "12/3/2026"}
	for _, tc := range []struct {
		name   string
		mm     float64
		w, h   float64
		beside bool
	}{
		{"natural size", 0, 0, 0, false},
		{"40 mm seal", 40, 0, 0, false},
		{"wide box puts text beside", 0, 280, 110, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := org
			s.SealDiameterMM = tc.mm
			w, h := tc.w, tc.h
			if w == 0 {
				w, h = Size(s)
			}
			img, err := Render(s, w, h, dpi)
			if err != nil {
				t.Fatal(err)
			}
			mm := tc.mm
			if mm == 0 {
				mm = DefaultSealDiameterMM
			}
			want := mm / 25.4 * dpi
			red := redBounds(img)
			if d := float64(red.Dx()) - want; d < -3 || d > 3 {
				t.Errorf("seal is %d px wide, want %.0f (%.0f mm at %d dpi)", red.Dx(), want, mm, dpi)
			}
			_, lines, dx, dy, err := orgLayout(s, float64(img.Bounds().Dx()), float64(img.Bounds().Dy()), dpi)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, l := range lines {
				texts = append(texts, l.text)
			}
			joined := strings.Join(texts, " ")
			for _, want := range []string{"2026-03-12T09:41:05+07:00", "Số: 05/QĐ-UBND", "Ngày: 12/3/2026", "QUẢNG"} {
				if !strings.Contains(joined, want) {
					t.Errorf("organisation text %q lacks %q", joined, want)
				}
			}
			textTop := int(dy)
			if tc.beside {
				if int(dx) < red.Max.X {
					t.Errorf("text starts at x=%.0f, inside the seal ending at %d", dx, red.Max.X)
				}
			} else if textTop < red.Max.Y-2 {
				t.Errorf("text starts at y=%d, inside the seal ending at %d", textTop, red.Max.Y)
			}
			writeGolden(t, tc.name, img)
		})
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	ok := Spec{Kind: Signer, Name: "Trần Đức Thắng"}
	for _, tc := range []struct {
		name string
		spec Spec
		w, h float64
		dpi  int
		want string
	}{
		{"dpi too low", ok, 100, 100, 10, "dpi"},
		{"dpi too high", ok, 100, 100, 100000, "dpi"},
		{"empty box", ok, 0, 100, 72, "empty box"},
		{"NaN box", ok, nanF(), 100, 72, "empty box"},
		{"enormous box", ok, 1e6, 1e6, 300, "outside limits"},
		{"signer without a name", Spec{Kind: Signer, Title: "CHỦ TỊCH"}, 200, 120, 72, "name"},
		{"organisation without a name", Spec{Kind: Organization}, 200, 120, 72, "organisation"},
		{"copy without an organisation", Spec{Kind: Copy}, 200, 60, 72, "organisation"},
		{"unknown kind", Spec{Kind: Kind(9)}, 200, 60, 72, "unknown kind"},
		{"character the font lacks", Spec{Kind: Signer, Name: "Trần \u4e2d"}, 200, 120, 72, "no glyph"},
		{"control character", Spec{Kind: Copy, Organization: "UBND\x00"}, 200, 60, 72, "no glyph"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Render(tc.spec, tc.w, tc.h, tc.dpi)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if img != nil {
				t.Errorf("image returned with an error")
			}
		})
	}
}

func TestRenderOddInputsDoNotFail(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"empty signature image", Spec{Kind: Signer, Name: "An", SignatureImage: image.NewNRGBA(image.Rect(0, 0, 0, 0))}},
		{"one-pixel signature image", Spec{Kind: Signer, Name: "An", SignatureImage: image.NewNRGBA(image.Rect(0, 0, 1, 1))}},
		{"negative seal diameter", Spec{Kind: Organization, Organization: "UBND", SealDiameterMM: -5, SealImage: DemoSeal("")}},
		{"NaN seal diameter", Spec{Kind: Organization, Organization: "UBND", SealDiameterMM: nanF()}},
		{"no seal image", Spec{Kind: Organization, Organization: "UBND"}},
		{"blank extra lines", Spec{Kind: Copy, Organization: "UBND", Lines: []string{"", "  ", "SAO Y"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h := Size(tc.spec)
			img, err := Render(tc.spec, w, h, 96)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if inkIn(img, img.Bounds()) == 0 {
				t.Errorf("nothing drawn")
			}
		})
	}
}

func nanF() float64 {
	var z float64
	return z / z
}

func TestDemoImages(t *testing.T) {
	a, b := DemoSignature("Trần Đức Thắng"), DemoSignature("Nguyễn Thị Hồng Nhung")
	if a.NRGBAAt(0, 0).A != 0 {
		t.Errorf("signature background is not transparent")
	}
	if n := inkIn(a, a.Bounds()); n < 3000 {
		t.Errorf("signature has only %d ink pixels", n)
	}
	if string(a.Pix) == string(b.Pix) {
		t.Errorf("different names give the same signature")
	}
	c := DemoSignature(norm.NFD.String("Trần Đức Thắng"))
	if string(a.Pix) != string(c.Pix) {
		t.Errorf("the same name in NFD gives a different signature")
	}
	seal := DemoSeal("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI")
	sb := seal.Bounds()
	if seal.NRGBAAt(0, 0).A != 0 {
		t.Errorf("seal corner is not transparent")
	}
	if c := seal.NRGBAAt(sb.Dx()/2, sb.Dy()/2); c != (color.NRGBA{218, 30, 40, 255}) {
		t.Errorf("seal centre (the star) is %v, want red", c)
	}
	if r := redBounds(seal); r.Dx() < sb.Dx()*95/100 || r.Dy() < sb.Dy()*95/100 {
		t.Errorf("seal ring spans %v of %v", r, sb)
	}
	// The name is written around the ring: the band between the rings has
	// ink, and a different name changes it.
	ring := image.Rect(sb.Dx()/2-240, 25, sb.Dx()/2+240, 110)
	if n := inkIn(seal, ring); n < 2000 {
		t.Errorf("only %d ink pixels where the name goes", n)
	}
	other := DemoSeal("SỞ TƯ PHÁP")
	if s := CompareRegion(other.SubImage(ring), seal.SubImage(ring), 0.1); s > 0.8 {
		t.Errorf("seals of different organisations look alike around the ring: %.2f", s)
	}
	writeGolden(t, "seal", seal)
}
