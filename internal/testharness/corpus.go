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
	return sharedDir(t, "VANTHU_SIGNATURE_CORPUS", "shared/corpora/pdf-signatures", "MANIFEST.tsv")
}

// Drafts returns the directory of the shared Decree 30 drafts printed by
// Chromium (qd-chu-tich.pdf, qd-kt-pho-chu-tich.pdf): VANTHU_DRAFTS, else
// shared/fixtures/drafts beside the repository, else /work/shared. Missing
// drafts fail the test.
func Drafts(t testing.TB) string {
	t.Helper()
	return sharedDir(t, "VANTHU_DRAFTS", "shared/fixtures/drafts", "qd-chu-tich.pdf")
}

// sharedDir finds a directory of the shared, read-only test material: the
// one env names, else rel beside the repository, else under /work; the one
// holding marker wins. None fails the test with the variable to set.
func sharedDir(t testing.TB, env, rel, marker string) string {
	t.Helper()
	var candidates []string
	if d := os.Getenv(env); d != "" {
		candidates = append(candidates, d)
	} else {
		if root := moduleRoot(); root != "" {
			candidates = append(candidates, filepath.Join(filepath.Dir(root), rel))
		}
		candidates = append(candidates, filepath.Join("/work", rel))
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
			return d
		}
	}
	t.Fatalf("%s not found in %v: set %s to the directory holding %s", rel, candidates, env, marker)
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
