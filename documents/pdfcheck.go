package documents

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// tailWindow is how much of the end of a file is read to find the trailer; the
// spec puts %%EOF in the last 1024 bytes, but producers append junk.
const tailWindow = 64 << 10

var (
	startxrefRe = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF`)
	xrefObjRe   = regexp.MustCompile(`^\s*\d+\s+\d+\s+obj\b`)
)

// maxSections bounds how many cross-reference sections (the /Prev chain
// and the /XRefStm of hybrid files) are read: real files have a handful,
// one per incremental update.
const maxSections = 256

// maxTrailingJunk is how much besides padding may follow the final %%EOF and
// still be accepted, with a warning, as viewers accept it: a stray byte or
// a line a mail gateway appended, not the start of an update cut short.
const maxTrailingJunk = 32

// checkPDF is inspectPDF without its warnings.
func checkPDF(r io.ReaderAt, size int64) error {
	_, err := inspectPDF(r, size)
	return err
}

// inspectPDF looks at the head, every trailer and cross-reference section of
// the /Prev chain: enough to refuse files that are not PDFs, truncated,
// unparsable at the top level, or encrypted, in constant memory. Names are
// read as a PDF parser reads them (#xx escapes decoded), so /Encryp#74 is
// /Encrypt. What viewers forgive (a stray byte after %%EOF) comes back as a
// warning.
func inspectPDF(r io.ReaderAt, size int64) (warnings []string, err error) {
	read := func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		m, err := r.ReadAt(b, off)
		if err != nil && !(errors.Is(err, io.EOF) && int64(m) == n) {
			return nil, fmt.Errorf("read upload at byte %d: %w", off, err)
		}
		return b, nil
	}
	if err := CheckHead(r, size); err != nil {
		return nil, err
	}
	tailStart := max(0, size-tailWindow)
	tail, err := read(tailStart, size-tailStart)
	if err != nil {
		return nil, err
	}
	eof := bytes.LastIndex(tail, []byte("%%EOF"))
	if eof < 0 {
		return nil, inputError(ErrTruncatedPDF, "the PDF is truncated or damaged: it does not end with %%EOF")
	}
	if after := tail[eof+5:]; !onlyPadding(after) {
		if !forgivableJunk(after) {
			return nil, inputError(ErrTruncatedPDF, "the PDF is truncated or damaged: it does not end with %%EOF")
		}
		warnings = append(warnings, fmt.Sprintf("%d stray bytes after the final %%%%EOF were ignored, as PDF viewers ignore them", len(bytes.Trim(after, padding))))
	}
	m := startxrefRe.FindAllSubmatch(tail[:eof+5], -1)
	if m == nil {
		return nil, inputError(ErrTruncatedPDF, "the PDF is damaged: no startxref before the final %%EOF")
	}
	off, err := strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
	if err != nil || off <= 0 || off >= size {
		return nil, inputError(ErrUnparsablePDF, fmt.Sprintf("the PDF is damaged: startxref %s points outside the file", m[len(m)-1][1]))
	}
	// Every section's dictionary is read: a reader may take /Encrypt from
	// any of them, so none may carry it.
	pending, seen := []int64{off}, map[int64]bool{}
	for first := true; len(pending) > 0; first = false {
		off := pending[0]
		pending = pending[1:]
		if seen[off] {
			continue
		}
		if len(seen) >= maxSections {
			return nil, inputError(ErrUnparsablePDF, fmt.Sprintf("the PDF is damaged: more than %d cross-reference sections", maxSections))
		}
		seen[off] = true
		section, err := read(off, min(size-off, tailWindow))
		if err != nil {
			return nil, err
		}
		trailer, err := trailerDict(section)
		if err != nil && !first {
			// Viewers rebuild what an earlier section's wrong offset loses;
			// the file is refused only for what its sections say.
			warnings = append(warnings, fmt.Sprintf("an earlier cross-reference section (byte %d) could not be read: %v", off, err))
			continue
		}
		if err != nil {
			return nil, inputError(ErrUnparsablePDF, fmt.Sprintf("the PDF is damaged: %v at byte %d", err, off))
		}
		if _, ok := trailer["Encrypt"]; ok {
			return nil, inputError(ErrEncryptedPDF, "the PDF is encrypted; upload it without a password or encryption")
		}
		if _, ok := trailer["Root"]; first && !ok {
			return nil, inputError(ErrUnparsablePDF, "the PDF is damaged: its trailer has no document catalog (/Root)")
		}
		for _, k := range []string{"Prev", "XRefStm"} {
			if v, ok := trailer[k]; ok {
				next, err := strconv.ParseInt(v, 10, 64)
				if err != nil || next <= 0 || next >= size {
					warnings = append(warnings, fmt.Sprintf("/%s %s points outside the file", k, v))
					continue
				}
				pending = append(pending, next)
			}
		}
	}
	return warnings, nil
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

const padding = "\x00\r\n\t \f"

// onlyPadding accepts the NUL or whitespace some producers write after %%EOF.
func onlyPadding(b []byte) bool {
	return len(bytes.Trim(b, padding)) == 0
}

// forgivableJunk is a little text after %%EOF that cannot be the start of
// an incremental update cut short (which would begin with an object, a
// cross-reference section or a trailer).
func forgivableJunk(b []byte) bool {
	j := bytes.Trim(b, padding)
	if len(j) > maxTrailingJunk {
		return false
	}
	for _, kw := range []string{"obj", "xref", "trailer", "startxref"} {
		if bytes.Contains(j, []byte(kw)) {
			return false
		}
	}
	return true
}

// trailerDict reads the trailer dictionary of the section at the start of b:
// after "trailer" for a classic table, or the stream dictionary of a
// cross-reference stream.
func trailerDict(b []byte) (map[string]string, error) {
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
		if d["Type"] != "/XRef" {
			return nil, fmt.Errorf("startxref points at an object that is not a cross-reference stream")
		}
		return d, nil
	default:
		return nil, fmt.Errorf("no cross-reference section where startxref points")
	}
}

// dictAt reads the dictionary at the start of b (after whitespace and
// comments) as a PDF parser does: its keys, #xx escapes decoded, and each
// value summarised: a name as /Name (decoded), a number or an indirect
// reference ("5 0 R") as written, anything else by its kind ("<<>>", "[]",
// "()").
func dictAt(b []byte) (map[string]string, error) {
	lx := &lexer{b: b}
	if _, kind := lx.next(); kind != tokDictOpen {
		return nil, fmt.Errorf("no dictionary")
	}
	return lx.dict(0)
}

// maxNesting bounds how deep arrays and dictionaries inside a trailer nest.
const maxNesting = 32

type tokenKind int

const (
	tokEnd tokenKind = iota
	tokDictOpen
	tokDictClose
	tokArrayOpen
	tokArrayClose
	tokName
	tokString
	tokRegular // a number or a keyword (R, true, null...)
	tokOther   // a stray delimiter
)

// lexer splits PDF syntax into tokens (ISO 32000-1, 7.2 and 7.3).
type lexer struct {
	b   []byte
	pos int
}

func isWhite(c byte) bool { return strings.IndexByte("\x00\t\n\f\r ", c) >= 0 }

func isDelim(c byte) bool { return strings.IndexByte("()<>[]{}/%", c) >= 0 }

// next returns the next token; a name comes back decoded, without its slash.
func (l *lexer) next() (string, tokenKind) {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isWhite(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= len(l.b) {
		return "", tokEnd
	}
	start, c := l.pos, l.b[l.pos]
	at := func(s string) bool { return bytes.HasPrefix(l.b[l.pos:], []byte(s)) }
	switch {
	case at("<<"):
		l.pos += 2
		return "<<", tokDictOpen
	case at(">>"):
		l.pos += 2
		return ">>", tokDictClose
	case c == '[':
		l.pos++
		return "[", tokArrayOpen
	case c == ']':
		l.pos++
		return "]", tokArrayClose
	case c == '(':
		end, err := skipString(l.b, l.pos)
		if err != nil {
			l.pos = len(l.b)
			return "", tokEnd
		}
		l.pos = end + 1
		return "()", tokString
	case c == '<':
		end := bytes.IndexByte(l.b[l.pos:], '>')
		if end < 0 {
			l.pos = len(l.b)
			return "", tokEnd
		}
		l.pos += end + 1
		return "()", tokString
	case c == '/':
		l.pos++
		for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
			l.pos++
		}
		return decodeName(l.b[start+1 : l.pos]), tokName
	case isDelim(c):
		l.pos++
		return string(c), tokOther
	}
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelim(l.b[l.pos]) {
		l.pos++
	}
	return string(l.b[start:l.pos]), tokRegular
}

// decodeName undoes the #xx escapes of a name; a # not followed by two hex
// digits stays as it is, as lenient parsers keep it.
func decodeName(raw []byte) string {
	if bytes.IndexByte(raw, '#') < 0 {
		return string(raw)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]) {
			out = append(out, unhex(raw[i+1])<<4|unhex(raw[i+2]))
			i += 2
			continue
		}
		out = append(out, raw[i])
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// dict reads key-value pairs up to the closing >> of a dictionary whose <<
// was just read.
func (l *lexer) dict(depth int) (map[string]string, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("dictionaries nested deeper than %d", maxNesting)
	}
	d := map[string]string{}
	for {
		key, kind := l.next()
		switch kind {
		case tokDictClose:
			return d, nil
		case tokEnd:
			return nil, fmt.Errorf("unterminated dictionary")
		case tokName:
		default:
			return nil, fmt.Errorf("dictionary key %q is not a name", key)
		}
		v, err := l.value(depth)
		if err != nil {
			return nil, err
		}
		d[key] = v
	}
}

// value reads one object and summarises it (see dictAt).
func (l *lexer) value(depth int) (string, error) {
	tok, kind := l.next()
	switch kind {
	case tokName:
		return "/" + tok, nil
	case tokString:
		return tok, nil
	case tokDictOpen:
		if _, err := l.dict(depth + 1); err != nil {
			return "", err
		}
		return "<<>>", nil
	case tokArrayOpen:
		if depth+1 > maxNesting {
			return "", fmt.Errorf("arrays nested deeper than %d", maxNesting)
		}
		for {
			save := l.pos
			if _, k := l.next(); k == tokArrayClose {
				return "[]", nil
			} else if k == tokEnd {
				return "", fmt.Errorf("unterminated array")
			}
			l.pos = save
			if _, err := l.value(depth + 1); err != nil {
				return "", err
			}
		}
	case tokRegular:
		// An indirect reference is three tokens: number, generation, R.
		if isUint(tok) {
			save := l.pos
			gen, k1 := l.next()
			r, k2 := l.next()
			if k1 == tokRegular && isUint(gen) && k2 == tokRegular && r == "R" {
				return tok + " " + gen + " R", nil
			}
			l.pos = save
		}
		return tok, nil
	case tokEnd:
		return "", fmt.Errorf("unterminated dictionary")
	}
	return "", fmt.Errorf("unexpected %q in a dictionary", tok)
}

func isUint(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
