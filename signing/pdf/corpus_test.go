package pdf

import (
	"github.com/vanthu/vanthu/internal/testharness"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// walkAll reads every object of every revision and decodes every stream it
// can, returning the number of objects read and the first error.
func walkAll(f *File) (int, error) {
	n := 0
	var first error
	for _, r := range f.Revisions() {
		for _, ref := range f.Objects(r.Index) {
			o, err := f.Get(ref, r.Index)
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			n++
			if s, ok := o.(*Stream); ok {
				if _, err := f.StreamData(s, r.Index); err != nil && first == nil {
					first = err
				}
			}
		}
	}
	return n, first
}

// Files with sound cross-reference sections. The others either are
// deliberately broken (pades_infinite_loop, pdf-signed-corrupted) or, like
// pades-5-signatures-and-1-document-timestamp.pdf, have a revision whose
// xref table points every object ~20 kB away from where it is: they open
// only through the repair of later revisions (repair.go), or not at all.
var mustOpen = map[string]bool{
	"pdf-signed-original.pdf": true, "hello_signed_INCSAVE_signed.pdf": true, "pkcs7.pdf": true,
	"dss-2554__certified-no-change-permitted.pdf": true, "dss-2236__hide.pdf": true, "pdf-spoofing-attack.pdf": true,
	"pdf-signed-added-page.pdf": true, "minimal-signed-twice-both-created.pdf": true,
	"pades-lta-dss-indirect-arrs-test.pdf": true, "certified-with-indirect-refs-in-dir.pdf": true,
	"form-update-override-appearance-stream.pdf": true, "sig-no-signed-attrs.pdf": true,
}

// Every third-party file opens, or fails with an error, quickly.
func TestCorpusOpensQuickly(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testharness.SignatureCorpus(t), "*", "*.pdf"))
	if len(files) < 30 {
		t.Fatalf("corpus has %d files, expected the shared corpus", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			f, err := OpenBytes(data, nil)
			if err != nil {
				t.Logf("open: %v", err)
				if mustOpen[filepath.Base(path)] {
					t.Errorf("a well-formed file failed to open: %v", err)
				}
			} else {
				n, werr := walkAll(f)
				t.Logf("%d revisions, %d objects, walk error %v, warnings %q", len(f.Revisions()), n, werr, f.Warnings())
				for _, r := range f.Revisions() {
					t.Logf("  rev %d xref %d end %d entries %d xrefstream %v", r.Index, r.StartXref, r.End, len(r.Entries), r.XrefStream)
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}
