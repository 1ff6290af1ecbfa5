package web

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	"github.com/vanthu/vanthu/documents/register/book"
	"github.com/vanthu/vanthu/storage"
)

// bookFormats are the printable forms of a register: content type and
// writer.
var bookFormats = map[string]struct {
	contentType string
	write       func(io.Writer, book.Book) error
}{
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", book.WriteXLSX},
	"pdf":  {"application/pdf", book.WritePDF},
}

// writeRegisterBook answers the register as an XLSX workbook or a PDF
// book. The file is spooled to a temporary file first so that a failure
// half-way answers a problem, never a truncated 200, and memory does not
// grow with the register.
func (s *Server) writeRegisterBook(w http.ResponseWriter, r *http.Request, reg storage.Register, year int, rows []entryRow, format string) {
	org, err := storage.GetOrganization(r.Context(), s.DB.Pool, reg.OrganizationID)
	if err != nil {
		writeRegisterError(w, r, fmt.Errorf("register book: %w", err))
		return
	}
	b := book.Book{Organization: org.Name, Register: reg.Name, Code: reg.Code, Year: year, Columns: appendixIVColumns, Rows: make([][]string, 0, len(rows))}
	for i, e := range rows {
		if i == 0 {
			b.FromNumber = e.Number
		}
		b.ToNumber = e.Number
		b.Rows = append(b.Rows, []string{e.NumberSymbol, e.Date, e.TypeSubject, e.Signer, e.Recipients, e.CopiesKept,
			strconv.Itoa(e.Copies), e.SentOn, e.Receipt, e.Note})
	}
	s.writeBook(w, r, reg, year, b, format)
}

// writeBook answers a register's book in format (xlsx or pdf).
func (s *Server) writeBook(w http.ResponseWriter, r *http.Request, reg storage.Register, year int, b book.Book, format string) {
	f := bookFormats[format]
	tmp, err := os.CreateTemp(s.Signing.TempDir, "register-book-*")
	if err != nil {
		writeRegisterError(w, r, fmt.Errorf("register book: %w", err))
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := f.write(tmp, b); err != nil {
		writeRegisterError(w, r, fmt.Errorf("register book: %w", err))
		return
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		writeRegisterError(w, r, fmt.Errorf("register book: %w", err))
		return
	}
	code := reg.Code
	if code == "" {
		code = reg.Kind
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("so-%s-%d.%s", code, year, format)}))
	w.WriteHeader(http.StatusOK)
	io.Copy(w, tmp)
}
