package tamper

import "bytes"

// Hostile returns every input an attacker or a broken tool may hand the
// verifier, made from a signed PDF: each manipulation of Cases (donor
// gives the swapped contents), each decompression bomb, and files whose
// structure cannot be read at all (empty, not a PDF, a bare header, cut in
// half, without startxref). A case that does not apply to signed (it has
// no such part) answers an error; callers skip it.
func Hostile(signed, donor []byte) []Case {
	out := Cases(donor)
	for _, b := range Bombs() {
		out = append(out, Case{Name: b.Name, Apply: b.Apply})
	}
	fixed := func(name string, f func(in []byte) []byte) Case {
		return Case{Name: name, Apply: func(in []byte) ([]byte, error) { return f(in), nil }}
	}
	return append(out,
		fixed("empty", func([]byte) []byte { return nil }),
		fixed("not-a-pdf", func([]byte) []byte { return []byte("<html><body>not a PDF</body></html>") }),
		fixed("bare-header", func([]byte) []byte { return []byte("%PDF-1.7\n") }),
		fixed("first-half", func(in []byte) []byte { return bytes.Clone(in[:len(in)/2]) }),
		fixed("no-startxref", func(in []byte) []byte {
			return bytes.ReplaceAll(bytes.Clone(in), []byte("startxref"), []byte("startxrex"))
		}),
		fixed("garbage-tail", func(in []byte) []byte { return append(bytes.Clone(in), bytes.Repeat([]byte{0xff, 0x00}, 64)...) }),
	)
}
