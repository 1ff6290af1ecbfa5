package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vanthu/vanthu/storage/blob"
	"github.com/vanthu/vanthu/storage/blob/localdisk"
	"github.com/vanthu/vanthu/storage/blob/s3"
	"github.com/vanthu/vanthu/web"
)

// tempDir is where verifications keep PDFs too large for memory: on the
// data volume, beside the spool, not in a /tmp that may be memory.
func (c *serviceConfig) tempDir() (string, error) {
	dir := filepath.Join(c.dataDir, "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("temporary dir: %w", err)
	}
	return dir, nil
}

// removeLeftovers deletes, before the service takes requests, the partial
// files of uploads and verifications a killed predecessor left in the data
// directory: none of them can still be in use, so they go at once instead
// of after the sweeper's grace period. A data directory serves one process
// (the embedded database enforces it; with an external one, give each
// instance its own).
func (c *serviceConfig) removeLeftovers() error {
	total := 0
	for _, d := range []struct{ dir, pattern string }{
		{filepath.Join(c.dataDir, "spool"), s3.SpoolPattern},
		{filepath.Join(c.dataDir, "blobs", "tmp"), localdisk.TempPattern},
		{filepath.Join(c.dataDir, "tmp"), web.VerifyTempPattern},
	} {
		n, err := blob.RemoveTemporaries(d.dir, d.pattern)
		total += n
		if err != nil {
			return err
		}
	}
	if total > 0 {
		slog.Info("removed partial files of interrupted uploads and verifications", "count", total)
	}
	return nil
}
