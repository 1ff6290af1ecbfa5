package pdf

import (
	"github.com/vanthu/vanthu/internal/testharness"
	"os"
	"path/filepath"
	"testing"
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

// Every third-party file opens and is walked (or fails with an error) with
// bounded work: the bytes it allocates grow with the file's size, not with
// what its structure claims. (Speed is BenchmarkOpenCorpus's.)
func TestCorpusOpensWithBoundedWork(t *testing.T) {
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
			var f *File
			work := testharness.Work(t, func() {
				f, err = OpenBytes(data, nil)
				if err == nil {
					n, werr := walkAll(f)
					t.Logf("%d revisions, %d objects, walk error %v, warnings %q", len(f.Revisions()), n, werr, f.Warnings())
				}
			})
			t.Logf("allocated %d bytes in %d objects for %d bytes of file", work.Bytes, work.Objects, len(data))
			if err != nil {
				t.Logf("open: %v", err)
				if mustOpen[filepath.Base(path)] {
					t.Errorf("a well-formed file failed to open: %v", err)
				}
			} else {
				for _, r := range f.Revisions() {
					t.Logf("  rev %d xref %d end %d entries %d xrefstream %v", r.Index, r.StartXref, r.End, len(r.Entries), r.XrefStream)
				}
			}
			// Streams decoded (images among them) cost their decoded size,
			// which f.decoded counts (twice: counted, then kept).
			var decoded int64
			if f != nil {
				decoded = f.decoded
			}
			if limit := uint64(corpusWorkPerByte*int64(len(data)) + decoded + corpusWorkFloor); work.Bytes > limit {
				t.Fatalf("allocated %d bytes, more than %d for a file of %d decoding %d", work.Bytes, limit, len(data), decoded)
			}
		})
	}
}

// Parsed objects cost a few times their bytes (the corpus's heaviest file,
// about 20 times), decoded streams their decoded size.
const (
	corpusWorkPerByte = 64
	corpusWorkFloor   = 8 << 20
)

// BenchmarkOpenCorpus opens and walks every file of the shared corpus.
func BenchmarkOpenCorpus(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(testharness.SignatureCorpus(b), "*", "*.pdf"))
	var datas [][]byte
	for _, p := range files {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		datas = append(datas, d)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range datas {
			if f, err := OpenBytes(d, nil); err == nil {
				walkAll(f)
			}
		}
	}
}
