package documents

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold turns Vietnamese text into its searchable form: lower case, no tone or
// vowel marks, đ as d, runs of space collapsed — so "Quyết định" and
// "quyet dinh" meet.
func Fold(s string) string {
	var b strings.Builder
	space := true
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		b.WriteRune(unicode.ToLower(r))
		space = false
	}
	return strings.TrimSpace(b.String())
}

// code turns a label such as "Thượng khẩn" into its code "thuong-khan".
func code(s string) string { return strings.ReplaceAll(Fold(s), " ", "-") }

// SearchText is what listing queries match against: subject and number (once
// the document has one), folded. Whoever assigns a number must store it anew.
func SearchText(subject string, number *string) string {
	if number == nil || *number == "" {
		return Fold(subject)
	}
	return Fold(*number + " " + subject)
}
