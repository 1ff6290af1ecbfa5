package documents

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// tailWindow is how much of the end of a file is read to find the trailer; the
// spec puts %%EOF in the last 1024 bytes, but producers append junk.
const tailWindow = 64 << 10

var (
	startxrefRe = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF`)
	xrefObjRe   = regexp.MustCompile(`^\s*\d+\s+\d+\s+obj\b`)
)

// checkPDF looks at the head, the last trailer and the cross-reference
// section it points to: enough to refuse files that are not PDFs, truncated,
// unparsable at the top level, or encrypted, in constant memory.
func checkPDF(r io.ReaderAt, size int64) error {
	read := func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		m, err := r.ReadAt(b, off)
		if err != nil && !(errors.Is(err, io.EOF) && int64(m) == n) {
			return nil, fmt.Errorf("read upload at byte %d: %w", off, err)
		}
		return b, nil
	}
	if err := CheckHead(r, size); err != nil {
		return err
	}
	tailStart := max(0, size-tailWindow)
	tail, err := read(tailStart, size-tailStart)
	if err != nil {
		return err
	}
	eof := bytes.LastIndex(tail, []byte("%%EOF"))
	if eof < 0 || !onlyPadding(tail[eof+5:]) {
		return inputError(ErrTruncatedPDF, "the PDF is truncated or damaged: it does not end with %%EOF")
	}
	m := startxrefRe.FindAllSubmatch(tail[:eof+5], -1)
	if m == nil {
		return inputError(ErrTruncatedPDF, "the PDF is damaged: no startxref before the final %%EOF")
	}
	off, err := strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
	if err != nil || off <= 0 || off >= size {
		return inputError(ErrUnparsablePDF, fmt.Sprintf("the PDF is damaged: startxref %s points outside the file", m[len(m)-1][1]))
	}
	section, err := read(off, min(size-off, tailWindow))
	if err != nil {
		return err
	}
	trailer, err := trailerDict(section)
	if err != nil {
		return inputError(ErrUnparsablePDF, fmt.Sprintf("the PDF is damaged: %v at byte %d", err, off))
	}
	if bytes.Contains(trailer, []byte("/Encrypt")) {
		return inputError(ErrEncryptedPDF, "the PDF is encrypted; upload it without a password or encryption")
	}
	if !bytes.Contains(trailer, []byte("/Root")) {
		return inputError(ErrUnparsablePDF, "the PDF is damaged: its trailer has no document catalog (/Root)")
	}
	return nil
}

// CheckHead refuses an empty file and one that is not a PDF at all. It is
// all the verifier asks of an upload: a damaged, truncated or encrypted PDF
// is what it reports on, not a reason to refuse it.
func CheckHead(r io.ReaderAt, size int64) error {
	if size == 0 {
		return inputError(ErrEmptyFile, "the file is empty")
	}
	head := make([]byte, min(size, 1024))
	if n, err := r.ReadAt(head, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(head)) {
		return fmt.Errorf("read upload head: %w", err)
	}
	if !bytes.Contains(head, []byte("%PDF-")) {
		return inputError(ErrNotPDF, "the file is not a PDF: it does not start with %PDF-")
	}
	return nil
}

// onlyPadding accepts the NUL or whitespace some producers write after %%EOF.
func onlyPadding(b []byte) bool {
	return len(bytes.Trim(b, "\x00\r\n\t \f")) == 0
}

// trailerDict returns the text of the trailer dictionary of the section at the
// start of b: after "trailer" for a classic table, or the stream dictionary of
// a cross-reference stream.
func trailerDict(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(bytes.TrimLeft(b, "\r\n\t \f\x00"), []byte("xref")):
		i := bytes.Index(b, []byte("trailer"))
		if i < 0 {
			return nil, fmt.Errorf("cross-reference table without trailer")
		}
		return dictAt(b[i+len("trailer"):])
	case xrefObjRe.Match(b):
		d, err := dictAt(b[bytes.Index(b, []byte("obj"))+3:])
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(d, []byte("/XRef")) {
			return nil, fmt.Errorf("startxref points at an object that is not a cross-reference stream")
		}
		return d, nil
	default:
		return nil, fmt.Errorf("no cross-reference section where startxref points")
	}
}

// dictAt returns the balanced << ... >> dictionary at the start of b.
func dictAt(b []byte) ([]byte, error) {
	start := bytes.Index(b, []byte("<<"))
	if start < 0 || len(bytes.TrimSpace(b[:start])) > 0 {
		return nil, fmt.Errorf("no dictionary")
	}
	depth := 0
	for i := start; i+1 < len(b); i++ {
		switch {
		case b[i] == '<' && b[i+1] == '<':
			depth++
			i++
		case b[i] == '>' && b[i+1] == '>':
			depth--
			i++
			if depth == 0 {
				return b[start : i+1], nil
			}
		case b[i] == '(':
			// Skip literal strings: they may hold unbalanced brackets.
			j, err := skipString(b, i)
			if err != nil {
				return nil, err
			}
			i = j
		}
	}
	return nil, fmt.Errorf("unterminated dictionary")
}

func skipString(b []byte, i int) (int, error) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unterminated string")
}
