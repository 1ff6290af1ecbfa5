package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// maxSeed keeps the seeds small: the fuzzer mutates and, when an input
// finds new coverage, minimises it; on a 60 KB file both are slow and most
// mutations land in bytes no parser reads, so `make fuzz` spent its time
// minimising instead of executing.
const maxSeed = 16 << 10

// FuzzVerify: any input yields a report (never a panic) in bounded time,
// and a mangled file is never VALID without trust anchors.
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
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		rep, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Offline: true})
		if err != nil {
			t.Fatalf("in-memory read failed: %v", err)
		}
		if rep.Verdict == "VALID" {
			t.Fatal("VALID with no trust anchors")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}
