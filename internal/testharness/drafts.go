package testharness

import (
	"os"
	"path/filepath"
	"testing"
)

// Drafts returns the directory of the shared Decree 30 drafts printed by
// Chromium (qd-chu-tich.pdf, qd-kt-pho-chu-tich.pdf): VANTHU_DRAFTS, else
// shared/fixtures/drafts beside the repository, else /work/shared. Missing
// drafts fail the test.
func Drafts(t testing.TB) string {
	t.Helper()
	const rel = "shared/fixtures/drafts"
	var candidates []string
	if d := os.Getenv("VANTHU_DRAFTS"); d != "" {
		candidates = append(candidates, d)
	} else {
		if root := moduleRoot(); root != "" {
			candidates = append(candidates, filepath.Join(filepath.Dir(root), rel))
		}
		candidates = append(candidates, filepath.Join("/work", rel))
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, "qd-chu-tich.pdf")); err == nil {
			return d
		}
	}
	t.Fatalf("the printed drafts are not in %v: set VANTHU_DRAFTS to the directory holding qd-chu-tich.pdf", candidates)
	return ""
}
