package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
)

// maxSeed keeps the seeds small: the fuzzer mutates and, when an input
// finds new coverage, minimises it; on a 60 KB file both are slow and most
// mutations land in bytes no parser reads, so `make fuzz` spent its time
// minimising instead of executing.
const maxSeed = 16 << 10

// Verifying allocates a few dozen times the input at most besides the
// decoded data (over the corpus: about 1.5 MB for any file, plus up to 40
// times its size).
const (
	fuzzWorkPerByte = 128
	fuzzWorkFloor   = 16 << 20
)

// FuzzVerify: any input yields a report (never a panic) with bounded work,
// and a mangled file is never VALID without trust anchors. The work is
// counted, not timed: the decoded data within the budget, the bytes
// allocated within a multiple of the input plus the decoding.
func FuzzVerify(f *testing.F) {
	dir, entries := readManifest(f)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.file))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= maxSeed {
			f.Add(b)
		}
	}
	const budget = 16 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		var rep *Report
		var err error
		work := testharness.Work(t, func() {
			rep, err = Verify(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Offline: true, Budget: budget})
		})
		if err != nil {
			t.Fatalf("in-memory read failed: %v", err)
		}
		if rep.Verdict == "VALID" {
			t.Fatal("VALID with no trust anchors")
		}
		if d := rep.Decoding; d.Peak > budget || d.Total > 2*budget {
			t.Fatalf("decoding %+v beyond the budget", d)
		}
		if limit := fuzzWorkPerByte*uint64(len(b)) + uint64(rep.Decoding.Total) + fuzzWorkFloor; work.Bytes > limit {
			t.Fatalf("allocated %d bytes on %d bytes of input (decoded %d), more than %d", work.Bytes, len(b), rep.Decoding.Total, limit)
		}
	})
}
