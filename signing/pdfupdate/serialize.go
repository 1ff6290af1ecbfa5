package pdfupdate

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"

	"github.com/digitorus/pdf"
)

// Name serialises a PDF name, escaping delimiters, whitespace and non-ASCII
// bytes as #xx so any Go string yields a valid token.
func Name(s string) string {
	var b bytes.Buffer
	b.WriteByte('/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0 {
			fmt.Fprintf(&b, "#%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// TextString serialises a PDF text string: plain ASCII stays a literal
// string; anything else becomes hex UTF-16BE with a byte-order mark, so
// Vietnamese survives in every reader (raw UTF-8 would be read as
// PDFDocEncoding and garble the diacritics).
func TextString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return LiteralString([]byte(s))
	}
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(u))
	b[0], b[1] = 0xFE, 0xFF
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return HexString(b)
}

// LiteralString serialises bytes as a (...) string with the delimiters and
// backslash escaped.
func LiteralString(b []byte) string {
	var out bytes.Buffer
	out.WriteByte('(')
	for _, c := range b {
		switch c {
		case '(', ')', '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case '\r':
			out.WriteString(`\r`)
		case '\n':
			out.WriteString(`\n`)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte(')')
	return out.String()
}

// HexString serialises bytes as a <...> string.
func HexString(b []byte) string { return "<" + hex.EncodeToString(b) + ">" }

// Real serialises a number without exponent notation (PDF has none).
func Real(f float64) string {
	s := strconv.FormatFloat(f, 'f', 4, 64)
	s = trimZeros(s)
	if s == "-0" {
		return "0"
	}
	return s
}

func trimZeros(s string) string {
	if !bytes.ContainsRune([]byte(s), '.') {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return stringsTrimDot(s)
}

func stringsTrimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// Dict is a dictionary being built: keys (without the slash) map to already
// serialised values. Keys are written sorted, so output is deterministic.
type Dict map[string]string

// Bytes serialises the dictionary.
func (d Dict) Bytes() []byte {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<<")
	for _, k := range keys {
		b.WriteString(Name(k))
		b.WriteByte(' ')
		b.WriteString(d[k])
		b.WriteByte(' ')
	}
	b.WriteString(">>")
	return b.Bytes()
}

func (d Dict) String() string { return string(d.Bytes()) }

// DictOf copies an existing dictionary (for example a page or the catalog,
// to be given a new version) into a Dict: direct values are re-serialised,
// indirect ones kept as references. self is the object number of the object
// the dictionary belongs to (0 for a trailer).
func DictOf(v pdf.Value) (Dict, error) {
	out := Dict{}
	err := Safe(func() error {
		if v.Kind() != pdf.Dict && v.Kind() != pdf.Stream {
			return fmt.Errorf("%w: expected a dictionary, found kind %d", ErrMalformed, v.Kind())
		}
		self := v.GetPtr().GetID()
		for _, k := range v.Keys() {
			var b bytes.Buffer
			if err := writeValue(&b, v.Key(k), self); err != nil {
				return fmt.Errorf("/%s: %w", k, err)
			}
			out[k] = b.String()
		}
		return nil
	})
	return out, err
}

// Value serialises a value read from the document; values that are not part
// of the object numbered self are written as references.
func Value(v pdf.Value, self uint32) (string, error) {
	var b bytes.Buffer
	err := Safe(func() error { return writeValue(&b, v, self) })
	return b.String(), err
}

func writeValue(b *bytes.Buffer, v pdf.Value, self uint32) error {
	if err := v.Err(); err != nil {
		return err
	}
	// digitorus/pdf gives a value the pointer of the indirect object it
	// lives in; a different pointer means the value was reached through a
	// reference, which must stay a reference.
	if p := v.GetPtr(); p.GetID() != 0 && p.GetID() != self {
		fmt.Fprintf(b, "%d %d R", p.GetID(), p.GetGen())
		return nil
	}
	switch v.Kind() {
	case pdf.Null:
		b.WriteString("null")
	case pdf.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case pdf.Integer:
		b.WriteString(strconv.FormatInt(v.Int64(), 10))
	case pdf.Real:
		b.WriteString(Real(v.Float64()))
	case pdf.String:
		b.WriteString(HexString([]byte(v.RawString())))
	case pdf.Name:
		b.WriteString(Name(v.Name()))
	case pdf.Array:
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			if err := writeValue(b, v.Index(i), self); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case pdf.Dict:
		b.WriteString("<<")
		for _, k := range v.Keys() {
			b.WriteString(Name(k))
			b.WriteByte(' ')
			if err := writeValue(b, v.Key(k), self); err != nil {
				return err
			}
			b.WriteByte(' ')
		}
		b.WriteString(">>")
	case pdf.Stream:
		return fmt.Errorf("%w: a stream cannot be a direct value", ErrMalformed)
	default:
		return fmt.Errorf("%w: unknown value kind %d", ErrMalformed, v.Kind())
	}
	return nil
}

// Stream serialises a stream object body: the dictionary (its /Length is
// set here) followed by the data.
func Stream(d Dict, data []byte) []byte {
	d["Length"] = strconv.Itoa(len(data))
	var b bytes.Buffer
	b.Write(d.Bytes())
	b.WriteString("\nstream\n")
	b.Write(data)
	b.WriteString("\nendstream")
	return b.Bytes()
}
