package verify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzVerify: any input yields a report (never a panic) in bounded time,
// and a mangled file is never VALID without trust anchors.
func FuzzVerify(f *testing.F) {
	dir, entries := readManifest(f)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.file))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 64<<10 {
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
