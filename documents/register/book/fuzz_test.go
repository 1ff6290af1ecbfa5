package book_test

import (
	"io"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/documents/register/book"
)

// FuzzWrite: a register book is printed from what people typed (subjects,
// recipients, notes, the organisation's name) and the year asked for in
// GET /registers/{id}/entries?year=&format=; no text and no year may panic
// the XLSX or PDF writer or make it refuse.
func FuzzWrite(f *testing.F) {
	f.Add("Ủy ban nhân dân", "Sổ văn bản đi", 2026, "Quyết định số 1 về công tác văn thư", "Nơi nhận:\n- Như trên;")
	f.Add("", "", 0, "", "")
	f.Add("<&>\"'", "]]>", -1, "\x00\x01\x1f\uFFFE\uFFFF", "\xff\xfe")
	f.Add(strings.Repeat("dài ", 500), "x", 99999, "\u202e\u2066", "=HYPERLINK(\"http://x\")")
	f.Fuzz(func(t *testing.T, org, register string, year int, cell, note string) {
		b := book.Book{Organization: org, Register: register, Code: register, Year: year, Columns: []string{"Số", cell, "Ghi chú"},
			Rows: [][]string{{"1", cell, note}, {note, "", cell}}, FromNumber: 1, ToNumber: 2, Heading: cell, Sheet: note}
		if err := book.WriteXLSX(io.Discard, b); err != nil {
			t.Fatalf("XLSX: %v", err)
		}
		if err := book.WritePDF(io.Discard, b); err != nil {
			t.Fatalf("PDF: %v", err)
		}
	})
}
