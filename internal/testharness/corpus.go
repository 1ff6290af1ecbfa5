package testharness

import (
	"os"
	"path/filepath"
	"testing"
)

// SignatureCorpus returns the directory of the shared third-party signed
// PDFs (with MANIFEST.tsv): VANTHU_SIGNATURE_CORPUS, else shared/ beside the
// repository, else /work/shared. A missing corpus fails the test.
func SignatureCorpus(t testing.TB) string {
	t.Helper()
	const rel = "shared/corpora/pdf-signatures"
	var candidates []string
	if d := os.Getenv("VANTHU_SIGNATURE_CORPUS"); d != "" {
		candidates = append(candidates, d)
	} else {
		if root := moduleRoot(); root != "" {
			candidates = append(candidates, filepath.Join(filepath.Dir(root), rel))
		}
		candidates = append(candidates, filepath.Join("/work", rel))
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.tsv")); err == nil {
			return d
		}
	}
	t.Fatalf("signature corpus not found in %v: set VANTHU_SIGNATURE_CORPUS to the directory holding MANIFEST.tsv", candidates)
	return ""
}

// moduleRoot is the nearest directory above the working directory that
// holds go.mod.
func moduleRoot() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
