package diff

import (
	"testing"

	"github.com/go-fonts/liberation/liberationserifregular"
)

// FuzzFontProgram feeds arbitrary bytes to the embedded-font reading that
// tells inkless glyphs: it must never panic, and a program it cannot read
// counts every glyph as ink.
func FuzzFontProgram(f *testing.F) {
	f.Add(liberationserifregular.TTF[:4096], 3)
	f.Add([]byte("\x00\x01\x00\x00\x00\x04glyf"), 0)
	f.Fuzz(func(t *testing.T, data []byte, gid int) {
		p := parseProgram(data)
		fo := &font{program: p, blank: map[int]bool{}}
		if p == nil && fo.inkless(gid) {
			t.Fatal("an unreadable program called a glyph inkless")
		}
		_ = fo.inkless(gid)
	})
}
