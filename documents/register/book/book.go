// Package book owns the printable forms of a register: the XLSX workbook
// and the PDF book (a cover page, then the table with every column). It
// knows nothing of the database or of HTTP: the caller hands it the rows.
package book

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Book is one register for one year, ready to print.
type Book struct {
	Organization string
	Register     string // the register's name
	Code         string
	Year         int
	Columns      []string   // the headers, in the register's order
	Rows         [][]string // one per entry, len(Columns) cells each
	FromNumber   int        // the first and last numbers the book holds (0 when empty)
	ToNumber     int
	// Widths are the columns' widths in characters (the workbook's) and
	// their shares of the PDF page; nil: the outgoing register's.
	Widths []float64
	// Heading is the cover's title; "": SỔ ĐĂNG KÝ VĂN BẢN.
	Heading string
	// A table that is not a register (statistics) also sets the period it
	// covers instead of Year, and the sheet's name.
	Period string
	Sheet  string
}

// IncomingColumns are the columns of the incoming register (sổ đăng ký văn
// bản đến, Decree 30 Appendix IV) in order, and IncomingWidths their
// widths: the book prints an incoming register with these.
var (
	IncomingColumns = []string{"Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu văn bản", "Ngày tháng văn bản",
		"Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"}
	IncomingWidths = []float64{12, 8, 26, 18, 12, 46, 22, 12, 12, 16}
)

// FollowUpColumns are the columns of the follow-up register (sổ theo dõi
// giải quyết văn bản đến, Decree 30 Appendix IV) in order, with the
// decree's headings, and FollowUpWidths their widths; FollowUpHeading is
// its cover's title.
var (
	FollowUpColumns = []string{"Số đến", "Tên loại, số, ký hiệu, ngày tháng, cơ quan ban hành", "Đơn vị hoặc người nhận",
		"Thời hạn giải quyết", "Tiến độ giải quyết", "Số, ký hiệu văn bản trả lời", "Ghi chú"}
	FollowUpWidths  = []float64{7, 48, 28, 20, 42, 28, 14}
	FollowUpHeading = "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN"
)

// outgoingWidths are the workbook widths of the outgoing register's columns.
var outgoingWidths = []float64{18, 14, 48, 22, 30, 22, 10, 14, 12, 16}

// Title is the line above the table and the book's cover title.
func (b Book) Title() string {
	if b.Period != "" {
		return fmt.Sprintf("%s — %s — %s", b.Organization, b.Register, b.Period)
	}
	return fmt.Sprintf("%s — %s — năm %d", b.Organization, b.Register, b.Year)
}

// WriteXLSX writes the register as a workbook: a title row, the header row,
// one row per entry, streamed into the zip as they come, so memory does not
// grow with the register. The workbook is written here rather than with a
// spreadsheet library: the ones at hand build tables of megabytes at
// package init, which every run of the vanthu binary would pay.
func WriteXLSX(w io.Writer, b Book) error {
	z := zip.NewWriter(w)
	for _, part := range [][2]string{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxRootRels},
		{"xl/workbook.xml", xlsxWorkbook(b.Sheet)},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
		{"xl/styles.xml", xlsxStyles},
	} {
		pw, err := z.Create(part[0])
		if err != nil {
			return fmt.Errorf("xlsx %s: %w", part[0], err)
		}
		if _, err := io.WriteString(pw, xml.Header+part[1]); err != nil {
			return fmt.Errorf("xlsx %s: %w", part[0], err)
		}
	}
	sw, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return fmt.Errorf("xlsx sheet: %w", err)
	}
	bw := bufio.NewWriter(sw)
	bw.WriteString(xml.Header + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cols>`)
	widths := outgoingWidths
	if b.Widths != nil {
		widths = b.Widths
	}
	for i := range b.Columns {
		wd := 16.0
		if i < len(widths) {
			wd = widths[i]
		}
		fmt.Fprintf(bw, `<col min="%d" max="%d" width="%g" customWidth="1"/>`, i+1, i+1, wd)
	}
	bw.WriteString(`</cols><sheetData>`)
	writeRow(bw, 1, []string{b.Title()}, true)
	writeRow(bw, 2, b.Columns, true)
	for i, r := range b.Rows {
		writeRow(bw, i+3, r[:min(len(r), len(b.Columns))], false)
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("xlsx rows: %w", err)
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("xlsx write: %w", err)
	}
	return nil
}

// writeRow writes one row of inline strings; bold uses the second cell
// format of xlsxStyles.
func writeRow(w *bufio.Writer, n int, cells []string, bold bool) {
	fmt.Fprintf(w, `<row r="%d">`, n)
	style := ""
	if bold {
		style = ` s="1"`
	}
	for i, c := range cells {
		if c == "" {
			continue
		}
		fmt.Fprintf(w, `<c r="%s%d" t="inlineStr"%s><is><t xml:space="preserve">`, columnName(i), n, style)
		xml.EscapeText(w, []byte(c))
		w.WriteString(`</t></is></c>`)
	}
	w.WriteString(`</row>`)
}

// columnName is the letters of the i-th column (0: A, 25: Z, 26: AA).
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}

const (
	xlsxContentTypes = `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`
	xlsxRootRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	xlsxWorkbookRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`
	xlsxStyles = `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<fonts count="2"><font><sz val="11"/><name val="Times New Roman"/></font><font><b/><sz val="11"/><name val="Times New Roman"/></font></fonts>` +
		`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
		`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs></styleSheet>`
)

// xlsxWorkbook names the one sheet (Sổ đăng ký unless given).
func xlsxWorkbook(sheet string) string {
	if sheet == "" {
		sheet = "Sổ đăng ký"
	}
	var name strings.Builder
	xml.EscapeText(&name, []byte(sheet))
	return `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheets><sheet name="` + name.String() + `" sheetId="1" r:id="rId1"/></sheets></workbook>`
}
