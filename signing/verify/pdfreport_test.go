package verify

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testharness"
)

// TestWritePDFReadsBack: the report's PDF, its font embedded by pdffont,
// reads back through pdftotext with its Vietnamese title and verdict.
func TestWritePDFReadsBack(t *testing.T) {
	var b bytes.Buffer
	rep := &Report{Verdict: "VALID"}
	if err := WritePDF(&b, []*Report{rep}, Vietnamese, time.Date(2026, 11, 30, 8, 0, 0, 0, vnZone)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	pdftotext := testharness.Tool(t, "pdftotext", "poppler-utils")
	out, err := exec.Command(pdftotext, path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{Vietnamese.t("title"), Vietnamese.t("verdict") + ": " + Vietnamese.t("VALID"), "2026-11-30T08:00:00+07:00"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the report reads back without %q:\n%s", want, out)
		}
	}
}
