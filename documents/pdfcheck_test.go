package documents

import (
	"bytes"
	"errors"
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
