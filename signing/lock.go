package signing

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/digitorus/pdf"

	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// ErrLocked is returned for a document whose signatures forbid another one:
// a certification with DocMDP P=1 (no changes at all), or a signature that
// locks every form field (FieldMDP /All, as the organisation's signature
// does). Signing such a document would break the earlier signature, so it is
// refused unless Options.Force says the caller knows. The wrapping message
// names the signature that locks it.
var ErrLocked = errors.New("signing: the document is locked by its signatures")

// CheckLocked reports, as an ErrLocked error naming the reason, whether the
// signatures of the PDF in (size bytes) forbid adding another signature.
func CheckLocked(in io.ReaderAt, size int64) error {
	doc, err := pdfupdate.Open(in, size)
	if err != nil {
		return err
	}
	return checkLocked(doc)
}

func checkLocked(doc *pdfupdate.Doc) error {
	cat, err := doc.Catalog()
	if err != nil {
		return err
	}
	var why string
	err = pdfupdate.Safe(func() error {
		why = lockReason(cat)
		return nil
	})
	if err != nil {
		return err
	}
	if why != "" {
		return fmt.Errorf("%w: %s", ErrLocked, why)
	}
	return nil
}

// lockReason says why the document may not be signed again, or "".
func lockReason(cat pdf.Value) string {
	if sig := cat.Key("Perms").Key("DocMDP"); sig.Kind() == pdf.Dict {
		if p := docMDP(sig); p == 1 {
			return fmt.Sprintf("it is certified by %s with DocMDP P=1: no change at all, not even a signature, is permitted", signerOf(sig))
		}
	}
	fields := cat.Key("AcroForm").Key("Fields")
	var names []string
	type signedField struct {
		name string
		v    pdf.Value
		lock pdf.Value
	}
	var signed []signedField
	for i := 0; i < fields.Len(); i++ {
		f := fields.Index(i)
		name := f.Key("T").Text()
		names = append(names, name)
		if f.Key("FT").Name() == "Sig" && f.Key("V").Kind() == pdf.Dict {
			signed = append(signed, signedField{name, f.Key("V"), f.Key("Lock")})
		}
	}
	for _, s := range signed {
		if docMDP(s.v) == 1 {
			return fmt.Sprintf("signature %q by %s certifies it with DocMDP P=1: no change at all is permitted", s.name, signerOf(s.v))
		}
		refs := s.v.Key("Reference")
		for j := 0; j < refs.Len(); j++ {
			r := refs.Index(j)
			if r.Key("TransformMethod").Name() != "FieldMDP" {
				continue
			}
			if locksAll(r.Key("TransformParams"), names) {
				return fmt.Sprintf("signature %q by %s locks every field of the document (FieldMDP): it is final", s.name, signerOf(s.v))
			}
		}
		if s.lock.Kind() == pdf.Dict && locksAll(s.lock, names) {
			return fmt.Sprintf("signature %q by %s locks every field of the document (its field lock): it is final", s.name, signerOf(s.v))
		}
	}
	return ""
}

// docMDP returns the P of a DocMDP transform in a signature dictionary's
// /Reference (2 when P is absent), or 0 without one.
func docMDP(sig pdf.Value) int {
	refs := sig.Key("Reference")
	for j := 0; j < refs.Len(); j++ {
		r := refs.Index(j)
		if r.Key("TransformMethod").Name() != "DocMDP" {
			continue
		}
		if p := r.Key("TransformParams").Key("P"); p.Kind() == pdf.Integer {
			return int(p.Int64())
		}
		return 2
	}
	return 0
}

// locksAll reports whether a FieldMDP transform's parameters or a
// SigFieldLock dictionary cover every field named in names.
func locksAll(params pdf.Value, names []string) bool {
	listed := map[string]bool{}
	fs := params.Key("Fields")
	for i := 0; i < fs.Len(); i++ {
		listed[fs.Index(i).Text()] = true
	}
	switch params.Key("Action").Name() {
	case "All":
		return true
	case "Include":
		for _, n := range names {
			if !listed[n] {
				return false
			}
		}
		return len(names) > 0
	case "Exclude":
		for _, n := range names {
			if listed[n] {
				return false
			}
		}
		return true
	}
	return false
}

// signerOf names a signature's signer as its dictionary says (/Name), for
// messages; the certificate is the verifier's business.
func signerOf(sig pdf.Value) string {
	if n := strings.TrimSpace(sig.Key("Name").Text()); n != "" {
		return n
	}
	return "an earlier signer"
}
