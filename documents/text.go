package documents

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what a listing query may ask: a search is one condition per
// word, so its words and length are bounded.
const (
	maxQueryWords = 20
	maxQueryBytes = 500
	maxFilterLen  = 200
	// maxFileNameBytes is what common file systems take for one name.
	maxFileNameBytes = 255
)

// checkText refuses a text field the database cannot store: bytes that are
// not UTF-8, and the NUL character PostgreSQL text refuses.
func checkText(field, v string) error {
	if !utf8.ValidString(v) {
		return inputError(ErrInvalidField, field+" is not valid UTF-8 text")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return inputError(ErrInvalidField, field+" contains a NUL character")
	}
	return nil
}

// checkTexts runs checkText over name-value pairs.
func checkTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkText(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// checkFilter refuses list filters that cannot be stored text or that ask
// for more work than a search should cost.
func checkFilter(f Filter) error {
	if err := checkTexts("type", f.Type, "status", f.Status, "unit", f.Unit, "q", f.Query, "cursor", f.Cursor); err != nil {
		return err
	}
	for name, v := range map[string]string{"type": f.Type, "status": f.Status, "unit": f.Unit} {
		if len(v) > maxFilterLen {
			return inputError(ErrInvalidField, fmt.Sprintf("%s is longer than %d bytes", name, maxFilterLen))
		}
	}
	if len(f.Query) > maxQueryBytes {
		return inputError(ErrInvalidField, fmt.Sprintf("q is longer than %d bytes", maxQueryBytes))
	}
	if n := len(strings.Fields(f.Query)); n > maxQueryWords {
		return inputError(ErrInvalidField, fmt.Sprintf("q has %d words; search with at most %d", n, maxQueryWords))
	}
	return checkStatusFilter(f.Status)
}

// CleanFileName keeps the base name a browser sent, as valid UTF-8 of at
// most 255 bytes, without directories, control characters or the
// bidirectional formatting characters that make "…fdp.exe" display as
// "…exe.pdf".
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = path.Base(strings.ReplaceAll(norm.NFC.String(name), `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" || name == ".." {
		return "document.pdf"
	}
	return truncateName(name, maxFileNameBytes)
}

// truncateName shortens name to at most n bytes on a character boundary,
// keeping its extension (up to 16 bytes) so the file still opens as a PDF.
func truncateName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	limit := n - len(ext)
	for limit > 0 && !utf8.RuneStart(stem[limit]) {
		limit--
	}
	return stem[:limit] + ext
}
