package documents

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
	"github.com/vanthu/vanthu/internal/testpdf"
)

// FuzzCheckPDF: every upload passes through checkPDF's hand-written
// trailer reading, so no input may panic it, and what it refuses it
// refuses as the client's input, never as a server fault.
func FuzzCheckPDF(f *testing.F) {
	valid := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "fuzz"})
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(bytes.Replace(valid, []byte("/Root"), []byte("/Encrypt 9 0 R /Root"), 1))
	f.Add([]byte("%PDF-1.7\nstartxref\n9\n%%EOF"))
	f.Add([]byte("%PDF-1.7\ntrailer << /Root 1 0 R /S (a\\) >> startxref 9 %%EOF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var err error
		// Bounded work, counted in bytes (it reads the trailer, not the
		// whole file); timing it would fail on a busy machine.
		work := testharness.Work(t, func() { err = checkPDF(bytes.NewReader(b), int64(len(b))) })
		if limit := uint64(4*len(b) + 4<<20); work.Bytes > limit {
			t.Fatalf("checkPDF allocated %d bytes on %d bytes", work.Bytes, len(b))
		}
		var in *InputError
		if err != nil && !errors.As(err, &in) {
			t.Fatalf("checkPDF answered %v, not an input error", err)
		}
	})
}

// withUpdate appends an incremental update whose trailer is dict (the
// %d in it is the previous section's offset) to pdf.
func withUpdate(pdf []byte, dict string) []byte {
	m := startxrefRe.FindAllSubmatch(pdf, -1)
	prev := string(m[len(m)-1][1])
	off := len(pdf)
	return fmt.Appendf(bytes.Clone(pdf), "xref\n0 0\ntrailer\n"+strings.ReplaceAll(dict, "PREV", prev)+"\nstartxref\n%d\n%%%%EOF\n", off)
}

// withXRefStream appends a cross-reference stream object with dict and
// points startxref at it.
func withXRefStream(pdf []byte, dict string) []byte {
	off := len(pdf)
	return fmt.Appendf(bytes.Clone(pdf), "9 0 obj\n"+dict+"\nstream\n\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", off)
}

func TestCheckPDFNamesAndSections(t *testing.T) {
	valid := testpdf.Bytes(testpdf.Options{Pages: 1, Text: "trailers"})
	trailer := []byte("<< /Size 7 /Root 1 0 R >>")
	inTrailer := func(d string) []byte { return bytes.Replace(valid, trailer, []byte(d), 1) }
	for _, tc := range []struct {
		name     string
		pdf      []byte
		want     error
		warnings int
	}{
		{"plain", valid, nil, 0},
		{"encrypt", inTrailer("<< /Size 7 /Encrypt 5 0 R /Root 1 0 R >>"), ErrEncryptedPDF, 0},
		{"escaped t", inTrailer("<< /Size 7 /Encryp#74 5 0 R /Root 1 0 R >>"), ErrEncryptedPDF, 0},
		{"escaped E, lowercase hex", inTrailer("<< /Size 7 /#45ncr#79pt 5 0 R /Root 1 0 R >>"), ErrEncryptedPDF, 0},
		{"after a comment", inTrailer("<< /Size 7 % /Root\n/Encrypt<</Filter/Standard>>/Root 1 0 R >>"), ErrEncryptedPDF, 0},
		{"escaped Root", inTrailer("<< /Size 7 /R#6F#6ft 1 0 R >>"), nil, 0},
		{"Encrypt as a value is no key", inTrailer("<< /Size 7 /Info /Encrypt /Root 1 0 R >>"), nil, 0},
		{"Encrypt inside a string is no key", inTrailer("<< /Size 7 /ID [(/Encrypt) <00>] /Root 1 0 R >>"), nil, 0},
		{"no Root", inTrailer("<< /Size 7 /Info 1 0 R >>"), ErrUnparsablePDF, 0},
		{"Encrypt only in an earlier trailer", withUpdate(inTrailer("<< /Size 7 /Encryp#74 5 0 R /Root 1 0 R >>"), "<< /Size 7 /Root 1 0 R /Prev PREV >>"), ErrEncryptedPDF, 0},
		{"clean update", withUpdate(valid, "<< /Size 7 /Root 1 0 R /Prev PREV >>"), nil, 0},
		{"Prev to no section", withUpdate(valid, "<< /Size 7 /Root 1 0 R /Prev 1 >>"), nil, 1},
		{"Prev outside the file", withUpdate(valid, "<< /Size 7 /Root 1 0 R /Prev 99999999 >>"), nil, 1},
		{"Prev to itself", withUpdate(valid, "<< /Size 7 /Root 1 0 R /Prev "+strconv.Itoa(len(valid))+" >>"), nil, 0},
		{"xref stream, escaped", withXRefStream(valid, "<< /Type /XRef /Size 10 /Root 1 0 R /Encryp#74 5 0 R /W [1 2 1] /Length 0 >>"), ErrEncryptedPDF, 0},
		{"xref stream, escaped type", withXRefStream(valid, "<< /Type /XR#65f /Size 10 /Root 1 0 R /W [1 2 1] /Length 0 >>"), nil, 0},
		{"hybrid file, Encrypt in its XRefStm", withUpdate(withXRefStream(valid, "<< /Type /XRef /Size 10 /Encrypt 5 0 R /W [1 2 1] /Length 0 >>"), "<< /Size 7 /Root 1 0 R /XRefStm PREV >>"), ErrEncryptedPDF, 0},
		{"a byte after %%EOF", append(bytes.Clone(valid), 'x'), nil, 1},
		{"a line after %%EOF", append(bytes.Clone(valid), "\r\n-- sent by the gateway\r\n"...), nil, 1},
		{"whitespace after %%EOF", append(bytes.Clone(valid), " \n\n\t"...), nil, 0},
		{"an update cut short", append(bytes.Clone(valid), "7 0 obj\n<< /Type /Annot"...), ErrTruncatedPDF, 0},
		{"much after %%EOF", append(bytes.Clone(valid), bytes.Repeat([]byte("z"), 100)...), ErrTruncatedPDF, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warnings, err := inspectPDF(bytes.NewReader(tc.pdf), int64(len(tc.pdf)))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if len(warnings) != tc.warnings {
				t.Fatalf("warnings %q, want %d", warnings, tc.warnings)
			}
		})
	}
}
