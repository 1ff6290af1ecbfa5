package testpdf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanthu/vanthu/internal/testharness"
)

func TestGeneratedPDFIsValid(t *testing.T) {
	qpdf := testharness.Tool(t, "qpdf", "qpdf")
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	for _, o := range []Options{{Pages: 1}, {Pages: 3, Size: 200 << 10, Text: "hello"}} {
		path := filepath.Join(t.TempDir(), "t.pdf")
		if err := os.WriteFile(path, Bytes(o), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(qpdf, "--check", path).CombinedOutput(); err != nil {
			t.Fatalf("qpdf --check: %v\n%s", err, out)
		}
		out, err := exec.Command(pdftotext, path, "-").Output()
		if err != nil || strings.Count(string(out), "page") != max(o.Pages, 1) {
			t.Fatalf("pdftotext: %q %v", out, err)
		}
		if st, _ := os.Stat(path); o.Size > 0 && (st.Size() < o.Size*9/10 || st.Size() > o.Size*11/10) {
			t.Fatalf("size %d, want about %d", st.Size(), o.Size)
		}
	}
}
