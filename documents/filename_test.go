package documents_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vanthu/vanthu/documents"
)

// TestCleanFileNameKeepsNoPath: whatever an upload's name holds (path
// separators of either kind, dot segments, control or bidirectional
// characters hiding them), what is kept is one base name: no separator,
// never "." or "..", valid UTF-8 of at most 255 bytes.
func TestCleanFileNameKeepsNoPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"../../etc/passwd", "passwd"},
		{`..\..\Windows\win.ini`, "win.ini"},
		{"C:\\Users\\an\\Quyết định.pdf", "Quyết định.pdf"},
		{"/abs/path/qd.pdf", "qd.pdf"},
		{"a/..", "document.pdf"},
		{"x/.\x01.", "document.pdf"},
		{"x/\u200f..", "document.pdf"},
		{"x/ .. ", "document.pdf"},
		{"..", "document.pdf"},
		{"/", "document.pdf"},
		{"", "document.pdf"},
		{"qd\x00/../x.pdf", "x.pdf"},
		{"qd.pdf\r\nX-Evil: 1", "qd.pdfX-Evil: 1"},
	} {
		got := documents.CleanFileName(c.in)
		if got != c.want {
			t.Errorf("CleanFileName(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.ContainsAny(got, `/\`) || got == "." || got == ".." || !utf8.ValidString(got) || len(got) > 255 {
			t.Errorf("CleanFileName(%q) = %q keeps a path", c.in, got)
		}
	}
}
