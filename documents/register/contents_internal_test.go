package register

import (
	"strings"
	"testing"

	"github.com/vanthu/vanthu/signing"
)

func TestCMSLength(t *testing.T) {
	for _, c := range []struct {
		name   string
		update string
		want   int
		ok     bool
	}{
		{"padded", "<< /Type /Sig /Contents <3082010a" + strings.Repeat("0", 200) + "> /M (D:2026)>>", 4, true},
		{"filled", "/Contents <30820101ff>", 5, true},
		{"the signature's, not the page's", "/Contents 12 0 R /Contents <3001" + strings.Repeat("00", 8) + ">", 2, true},
		{"the last of two", "/Contents <3001000000> /Contents <308201020300>", 5, true},
		{"all zeros", "/Contents <0000>", 0, false},
		{"empty", "/Contents <>", 0, false},
		{"odd digits", "/Contents <301>", 0, false},
		{"unterminated", "/Contents <3082", 0, false},
		{"none", "<< /Type /Page >>", 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := cmsLength([]byte(c.update))
			if got != c.want || ok != c.ok {
				t.Fatalf("cmsLength = %d, %v; want %d, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestLearnedCMSSizes(t *testing.T) {
	c := &cmsSizes{last: map[string]int{}}
	key := cmsKey("ab12", signing.LevelBT, "http://tsa.example/")
	if n := c.reserve(key); n != 0 {
		t.Fatalf("nothing learned reserves %d, want 0 (signing's estimate)", n)
	}
	c.learn(key, []byte("/Contents <"+strings.Repeat("ab", 7000)+strings.Repeat("0", 4000)+">"))
	if n := c.reserve(key); n != 7000+cmsMargin {
		t.Fatalf("after a CMS of 7000 bytes reserves %d, want %d", n, 7000+cmsMargin)
	}
	for _, other := range []string{cmsKey("ab12", signing.LevelBB, "http://tsa.example/"), cmsKey("ab12", signing.LevelBT, "http://other.example/"), cmsKey("cd34", signing.LevelBT, "http://tsa.example/")} {
		if n := c.reserve(other); n != 0 {
			t.Fatalf("another key, level or TSA reserves %d, want 0", n)
		}
	}
	c.learn(key, []byte("no signature here"))
	if n := c.reserve(key); n != 7000+cmsMargin {
		t.Fatalf("an update without a CMS changed the reserve to %d", n)
	}
	c.forget(key)
	if n := c.reserve(key); n != 0 {
		t.Fatalf("forgotten, reserves %d, want 0", n)
	}
	// Bounded: past maxLearnedCMS keys, new ones are not kept, known ones
	// still are.
	for i := 0; i < maxLearnedCMS+10; i++ {
		c.learn(cmsKey(strings.Repeat("f", i+1), signing.LevelBT, ""), []byte("/Contents <3001>"))
	}
	if len(c.last) != maxLearnedCMS {
		t.Fatalf("%d sizes kept, want at most %d", len(c.last), maxLearnedCMS)
	}
	c.learn(cmsKey("f", signing.LevelBT, ""), []byte("/Contents <300102>"))
	if n := c.reserve(cmsKey("f", signing.LevelBT, "")); n != 3+cmsMargin {
		t.Fatalf("a known key at the bound reserves %d, want %d", n, 3+cmsMargin)
	}
}
