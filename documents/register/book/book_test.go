package book_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/internal/testharness"
)

var columns = []string{"Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký",
	"Nơi nhận văn bản", "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú"}

func sample(n int) book.Book {
	b := book.Book{Organization: "Ủy ban nhân dân tỉnh Hà Giang", Register: "Sổ văn bản đi", Code: "VBĐi", Year: 2026, Columns: columns}
	for i := 1; i <= n; i++ {
		b.Rows = append(b.Rows, []string{fmt.Sprintf("%02d/QĐ-UBND", i), "05/01/2026",
			"Quyết định về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh nhiệm kỳ 2026–2031, số " + fmt.Sprint(i),
			"Nguyễn Văn An", "Sở Tài chính; Công ty ABC", "Lưu: VT", "2", "05/01/2026", "", ""})
	}
	if n > 0 {
		b.FromNumber, b.ToNumber = 1, n
	}
	return b
}

func TestWriteXLSX(t *testing.T) {
	for _, n := range []int{0, 3, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var buf bytes.Buffer
			if err := book.WriteXLSX(&buf, sample(n)); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := f.GetRows(f.GetSheetName(0))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != n+2 || !strings.Contains(rows[0][0], "Ủy ban nhân dân tỉnh Hà Giang") || !strings.Contains(rows[0][0], "2026") {
				t.Fatalf("%d rows, title %q", len(rows), rows[0])
			}
			if strings.Join(rows[1], "|") != strings.Join(columns, "|") {
				t.Fatalf("header %q", rows[1])
			}
			if n > 0 && (rows[2][0] != "01/QĐ-UBND" || rows[n+1][0] != fmt.Sprintf("%02d/QĐ-UBND", n) || rows[2][3] != "Nguyễn Văn An") {
				t.Fatalf("rows %q … %q", rows[2], rows[n+1])
			}
		})
	}
}

func TestWritePDF(t *testing.T) {
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	for _, n := range []int{0, 3, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "book.pdf")
			var buf bytes.Buffer
			if err := book.WritePDF(&buf, sample(n)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			cover, err := exec.Command(pdftotext, "-f", "1", "-l", "1", path, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v %s", err, cover)
			}
			want := []string{"ỦY BAN NHÂN DÂN TỈNH HÀ GIANG", "SỔ ĐĂNG KÝ VĂN BẢN", "Sổ văn bản đi", "Năm 2026"}
			if n > 0 {
				want = append(want, fmt.Sprintf("Từ số 01 đến số %02d", n))
			}
			for _, s := range want {
				if !strings.Contains(string(cover), s) {
					t.Fatalf("cover lacks %q:\n%s", s, cover)
				}
			}
			all, err := exec.Command(pdftotext, "-raw", path, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v %s", err, all)
			}
			text := string(all)
			for _, s := range []string{"Số, ký hiệu văn bản", "Tên loại và trích yếu nội dung", "Người ký", "Ghi chú"} {
				if !strings.Contains(text, s) {
					t.Fatalf("table lacks header %q", s)
				}
			}
			for i := 1; i <= n; i++ {
				if !strings.Contains(text, fmt.Sprintf("%02d/QĐ-UBND", i)) {
					t.Fatalf("entry %d missing", i)
				}
			}
			if n > 0 && !strings.Contains(text, "Nguyễn Văn An") {
				t.Fatal("signer missing")
			}
		})
	}
}

// BenchmarkBook10000 writes a register of 10,000 entries in each form.
func BenchmarkBook10000(b *testing.B) {
	bk := sample(10000)
	for _, f := range []struct {
		name  string
		write func(io.Writer, book.Book) error
	}{{"xlsx", book.WriteXLSX}, {"pdf", book.WritePDF}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := f.write(io.Discard, bk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// An incoming register prints with its own columns and widths: the
// workbook's header is the Appendix IV incoming columns, the PDF holds
// every header and row.
func TestIncomingBook(t *testing.T) {
	b := book.Book{Organization: "Sở Tài chính", Register: "Sổ đăng ký văn bản đến", Year: 2026, Columns: book.IncomingColumns,
		Widths: book.IncomingWidths, FromNumber: 1, ToNumber: 2, Rows: [][]string{
			{"05/01/2026", "01", "Ủy ban nhân dân xã An Bình", "05/QĐ-UBND", "04/01/2026", "Quyết định Ban hành quy chế", "Phòng Ngân sách", "", "", ""},
			{"06/01/2026", "02", "Bộ Tài chính", "12/BTC-NSNN", "02/01/2026", "Công văn Hướng dẫn quyết toán", "", "", "", "bản giấy"},
		}}
	if len(book.IncomingColumns) != len(book.IncomingWidths) {
		t.Fatalf("%d columns, %d widths", len(book.IncomingColumns), len(book.IncomingWidths))
	}
	var x bytes.Buffer
	if err := book.WriteXLSX(&x, b); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) != 4 || strings.Join(rows[1], "|") != strings.Join(book.IncomingColumns, "|") || rows[3][3] != "12/BTC-NSNN" {
		t.Fatalf("rows %q %v", rows, err)
	}
	if w, err := f.GetColWidth(f.GetSheetName(0), "F"); err != nil || w != book.IncomingWidths[5] {
		t.Fatalf("subject column width %g %v", w, err)
	}
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	path := filepath.Join(t.TempDir(), "incoming.pdf")
	var p bytes.Buffer
	if err := book.WritePDF(&p, b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, p.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command(pdftotext, "-raw", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	for _, s := range append(slicesOf(book.IncomingColumns), "Từ số 01 đến số 02", "05/QĐ-UBND", "12/BTC-NSNN", "Phòng Ngân sách", "bản giấy") {
		if !strings.Contains(strings.ReplaceAll(string(text), "\n", " "), s) {
			t.Fatalf("incoming book lacks %q:\n%s", s, text)
		}
	}
}

func slicesOf(s []string) []string { return append([]string(nil), s...) }
