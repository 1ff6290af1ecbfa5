package publicverify

import (
	"image"
	"image/color"
	"testing"
	"time"
)

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := NewCode()
		if !ValidCode(c) || len(c) != 22 || seen[c] {
			t.Fatalf("code %q (valid %v, seen %v)", c, ValidCode(c), seen[c])
		}
		seen[c] = true
	}
	for _, bad := range []string{"", "short", "../../etc/passwd/xxxxxxxxxx", "AAAAAAAAAAAAAAAAAAAAA!"} {
		if ValidCode(bad) {
			t.Errorf("%q passes as a code", bad)
		}
	}
	if got := URL("https://vanthu.example//", "abc"); got != "https://vanthu.example/v/abc" {
		t.Fatalf("URL = %q", got)
	}
}

// TestWithQR: the code lands at the right end as an opaque square as high
// as the appearance, dark and light modules both; the text on the left is
// kept; an appearance too small for a code is refused.
func TestWithQR(t *testing.T) {
	app := image.NewNRGBA(image.Rect(0, 0, 600, 200))
	app.Set(5, 5, color.NRGBA{0, 0, 0, 255})
	out, err := WithQR(app, "https://vanthu.example/v/"+NewCode())
	if err != nil {
		t.Fatal(err)
	}
	if out.Bounds() != app.Bounds() || out.NRGBAAt(5, 5).A != 255 {
		t.Fatalf("appearance changed: %v, text pixel %v", out.Bounds(), out.NRGBAAt(5, 5))
	}
	dark, light := 0, 0
	for y := 0; y < 200; y++ {
		for x := 400; x < 600; x++ {
			c := out.NRGBAAt(x, y)
			if c.A != 255 {
				t.Fatalf("pixel %d,%d of the code is not opaque", x, y)
			}
			if c.R < 128 {
				dark++
			} else {
				light++
			}
		}
	}
	if dark < 200*200/5 || light < 200*200/5 {
		t.Fatalf("code area: %d dark, %d light pixels", dark, light)
	}
	if _, err := WithQR(image.NewNRGBA(image.Rect(0, 0, 30, 20)), "x"); err == nil {
		t.Fatal("a 30x20 appearance took a code")
	}
}

func TestVerdictCache(t *testing.T) {
	now := time.Now()
	c := NewVerdictCache(time.Minute)
	c.put("a", Answer{Verdict: "VALID"}, now)
	if v, ok := c.get("a", now.Add(30*time.Second)); !ok || v.verdict != "VALID" {
		t.Fatalf("fresh verdict: %v %v", v, ok)
	}
	if _, ok := c.get("a", now.Add(2*time.Minute)); ok {
		t.Fatal("an expired verdict was reused")
	}
	for i := 0; i < maxCachedVerdicts+10; i++ {
		c.put(NewCode(), Answer{}, now)
	}
	if len(c.m) > maxCachedVerdicts {
		t.Fatalf("%d verdicts kept, at most %d", len(c.m), maxCachedVerdicts)
	}
	var none *VerdictCache
	none.put("a", Answer{}, now)
	if _, ok := none.get("a", now); ok {
		t.Fatal("a nil cache answered")
	}
}
