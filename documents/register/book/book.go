// Package book owns the printable forms of a register: the XLSX workbook
// and the PDF book (a cover page, then the table with every column). It
// knows nothing of the database or of HTTP: the caller hands it the rows.
package book

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
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
}

// Title is the line above the table and the book's cover title.
func (b Book) Title() string {
	return fmt.Sprintf("%s — %s — năm %d", b.Organization, b.Register, b.Year)
}

// WriteXLSX writes the register as a workbook: a title row, the header row,
// one row per entry. Rows go through excelize's StreamWriter, which spools
// them to a temporary file, so memory does not grow with the register.
func WriteXLSX(w io.Writer, b Book) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	name := "Sổ đăng ký"
	if err := f.SetSheetName(sheet, name); err != nil {
		return fmt.Errorf("xlsx sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("xlsx stream: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx style: %w", err)
	}
	widths := []float64{18, 14, 48, 22, 30, 22, 10, 14, 12, 16}
	for i := range b.Columns {
		wd := 16.0
		if i < len(widths) {
			wd = widths[i]
		}
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return fmt.Errorf("xlsx width: %w", err)
		}
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: bold, Value: b.Title()}}); err != nil {
		return fmt.Errorf("xlsx title: %w", err)
	}
	header := make([]any, len(b.Columns))
	for i, c := range b.Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A2", header); err != nil {
		return fmt.Errorf("xlsx header: %w", err)
	}
	row := make([]any, len(b.Columns))
	for i, r := range b.Rows {
		for j := range row {
			row[j] = ""
			if j < len(r) {
				row[j] = r[j]
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("xlsx row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx flush: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx write: %w", err)
	}
	return nil
}
