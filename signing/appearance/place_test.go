package appearance

import (
	"golang.org/x/image/draw"
	"image"
	"math"
	"testing"
)

func TestSealRectCoversLeftThirdOfSignature(t *testing.T) {
	signer := Spec{Kind: Signer, Authority: "KT. CHỦ TỊCH", Title: "PHÓ CHỦ TỊCH", Name: "Trần Đức Thắng", SignatureImage: DemoSignature("Trần Đức Thắng")}
	for _, tc := range []struct {
		name string
		box  Rect
		mm   float64
	}{
		{"natural signer box", Rect{330, 120, 530, 236.8}, 0},
		{"tall box, 40 mm seal", Rect{300, 100, 520, 300}, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := Spec{Kind: Organization, Organization: "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", SealImage: DemoSeal("UBND"), SealDiameterMM: tc.mm}
			sig, err := SignatureArea(signer, tc.box)
			if err != nil {
				t.Fatal(err)
			}
			if sig.X1 < tc.box.X1 || sig.X2 > tc.box.X2 || sig.Y1 < tc.box.Y1 || sig.Y2 > tc.box.Y2 || sig.W() < 50 {
				t.Fatalf("signature area %v not a sensible part of %v", sig, tc.box)
			}
			r, err := SealRect(signer, tc.box, org)
			if err != nil {
				t.Fatal(err)
			}
			// Render at 72 dpi (1 px = 1 pt) and find the seal's pixels.
			img, err := Render(org, r.W(), r.H(), 72)
			if err != nil {
				t.Fatal(err)
			}
			red := redBounds(img)
			seal := Rect{r.X1 + float64(red.Min.X), r.Y2 - float64(red.Max.Y), r.X1 + float64(red.Max.X), r.Y2 - float64(red.Min.Y)}
			mm := tc.mm
			if mm == 0 {
				mm = DefaultSealDiameterMM
			}
			if d := seal.W() - mm*72/25.4; math.Abs(d) > 2 {
				t.Errorf("seal is %.1f pt wide, want real size %.1f pt", seal.W(), mm*72/25.4)
			}
			if d := seal.X2 - (sig.X1 + sig.W()/3); math.Abs(d) > 2 {
				t.Errorf("seal's right edge %.1f, want a third into the signature at %.1f", seal.X2, sig.X1+sig.W()/3)
			}
			if d := (seal.Y1+seal.Y2)/2 - (sig.Y1+sig.Y2)/2; math.Abs(d) > 2 {
				t.Errorf("seal centred at y=%.1f, signature at %.1f", (seal.Y1+seal.Y2)/2, (sig.Y1+sig.Y2)/2)
			}
		})
	}
	if _, err := SealRect(Spec{Kind: Signer}, Rect{0, 0, 200, 100}, Spec{Kind: Organization, Organization: "X"}); err == nil {
		t.Errorf("a signer without a name should not give a seal position")
	}
}

func TestCopyRectTopRight(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pw, ph float64
	}{
		{"A4 portrait", 595.28, 841.89},
		{"A4 landscape", 841.89, 595.28},
		{"tiny page", 100, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := CopyRect(tc.pw, tc.ph)
			if r.X1 < 0 || r.Y1 < 0 || r.X2 > tc.pw || r.Y2 > tc.ph || r.W() <= 0 || r.H() <= 0 {
				t.Fatalf("%v is not on the %.0f×%.0f page", r, tc.pw, tc.ph)
			}
			if tc.pw > 300 {
				if r.X1 < tc.pw/2 || r.Y1 < tc.ph*3/4 {
					t.Errorf("%v is not in the top right", r)
				}
				if math.Abs(tc.pw-r.X2-15*72/25.4) > 0.01 {
					t.Errorf("right margin %.1f pt, want 15 mm", tc.pw-r.X2)
				}
			}
		})
	}
}

func TestPlaceRelative(t *testing.T) {
	a := Rect{100, 200, 200, 215}
	for _, tc := range []struct {
		side Side
		want Rect
	}{
		{Above, Rect{90, 220, 210, 280}},
		{Below, Rect{90, 135, 210, 195}},
		{LeftOf, Rect{-25, 177.5, 95, 237.5}},
		{RightOf, Rect{205, 177.5, 325, 237.5}},
		{Over, Rect{90, 177.5, 210, 237.5}},
	} {
		if got := PlaceRelative(a, 120, 60, tc.side, 5); got != tc.want {
			t.Errorf("side %d: got %v, want %v", tc.side, got, tc.want)
		}
	}
	// A reversed anchor is treated like its canonical form.
	if got := PlaceRelative(Rect{200, 215, 100, 200}, 120, 60, Above, 5); got != (Rect{90, 220, 210, 280}) {
		t.Errorf("reversed anchor: got %v", got)
	}
}

func TestCompareRegion(t *testing.T) {
	base := image.NewNRGBA(image.Rect(0, 0, 300, 60))
	if err := drawLines(base, mustLayout(t, "Nguyễn Thị Hồng Nhung"), 0, 0, 144); err != nil {
		t.Fatal(err)
	}
	shifted := image.NewNRGBA(base.Bounds())
	draw.Draw(shifted, base.Bounds().Add(image.Pt(1, 0)), base, image.Point{}, draw.Src)
	other := image.NewNRGBA(base.Bounds())
	if err := drawLines(other, mustLayout(t, "Trần Đức Thắng Văn"), 0, 0, 144); err != nil {
		t.Fatal(err)
	}
	big := image.NewNRGBA(image.Rect(0, 0, 600, 120))
	draw.ApproxBiLinear.Scale(big, big.Bounds(), base, base.Bounds(), draw.Src, nil)
	blank := image.NewNRGBA(base.Bounds())
	for _, tc := range []struct {
		name      string
		got, want image.Image
		lo, hi    float64
	}{
		{"identical", base, base, 1, 1},
		{"one pixel off", shifted, base, 0.95, 1},
		{"rendered at twice the size", big, base, 0.9, 1},
		{"different text", other, base, 0, 0.6},
		{"blank against text", blank, base, 0, 0},
		{"both blank", blank, blank, 1, 1},
		{"nil", nil, base, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := CompareRegion(tc.got, tc.want, 0.2)
			if s < tc.lo || s > tc.hi {
				t.Errorf("similarity %.3f, want %.2f–%.2f", s, tc.lo, tc.hi)
			}
		})
	}
}

func mustLayout(t *testing.T, s string) []line {
	t.Helper()
	lines, _, err := layoutBlock([]para{{s, style{size: 13, color: ink}}}, 300, 60, 144, false)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
