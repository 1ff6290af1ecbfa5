package documents

import (
	"bytes"
	"errors"
	"testing"
	"time"

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
		start := time.Now()
		err := checkPDF(bytes.NewReader(b), int64(len(b)))
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("checkPDF took %v on %d bytes", d, len(b))
		}
		var in *InputError
		if err != nil && !errors.As(err, &in) {
			t.Fatalf("checkPDF answered %v, not an input error", err)
		}
	})
}
