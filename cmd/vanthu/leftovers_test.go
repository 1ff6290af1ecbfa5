package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStartRemovesPartialFiles: what killed uploads and verifications left
// in the data directory is gone once the service is ready, however young,
// and nothing else there is touched.
func TestStartRemovesPartialFiles(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "var")
	leftovers := []string{
		filepath.Join(dataDir, "spool", "vanthu-spool-1234567"),
		filepath.Join(dataDir, "blobs", "tmp", "put-7654321"),
		filepath.Join(dataDir, "tmp", "vanthu-verify-42"),
	}
	kept := filepath.Join(dataDir, "spool", "notes.txt")
	for _, p := range append(leftovers, kept) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startService(t, dataDir)
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after start (%v)", p, err)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("start removed %s: %v", kept, err)
	}
	s.stop(t)
}
