package appearance

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromiumPDF prints a small Vietnamese HTML page with Chrome's own PDF
// writer (Skia: subset TrueType as Type0/Identity-H with ToUnicode), the
// same as PDFs that offices export from browsers.
func chromiumPDF(t *testing.T) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is needed by this test; install it with: apt-get install -y chromium fonts-liberation2")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "a.html")
	const html = `<html><head><meta charset="utf-8"><style>body{font-family:"Liberation Serif";font-size:14pt}</style></head><body>
<p style="text-align:right"><b>KT. CHỦ TỊCH<br>PHÓ CHỦ TỊCH</b></p><br><br>
<p style="text-align:right"><b>Nguyễn Thị Hồng Nhung</b></p>
<p>Nơi nhận: ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI; Sở Tư pháp.</p></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "a.pdf")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+out, "file://"+page)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --print-to-pdf: %v\n%s", err, msg)
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("chromium wrote no PDF: %v", err)
	}
	return doc
}

func TestFindAnchorInChromiumPDF(t *testing.T) {
	doc := chromiumPDF(t)
	words := pdftotextWords(t, doc)
	// Whole words only: pdftotext keeps punctuation in its words.
	for _, anchor := range []string{"Nguyễn Thị Hồng Nhung", "PHÓ CHỦ TỊCH", "ỦY BAN NHÂN DÂN TỈNH QUẢNG", "Sở Tư"} {
		t.Run(anchor, func(t *testing.T) {
			got, err := FindAnchor(bytes.NewReader(doc), int64(len(doc)), 1, anchor)
			if err != nil {
				t.Fatalf("FindAnchor: %v", err)
			}
			want, ok := wordsRect(words, anchor)
			if !ok {
				t.Fatalf("pdftotext did not find %q", anchor)
			}
			if d := max(abs(got.X1-want.X1), abs(got.X2-want.X2)); d > 1 {
				t.Errorf("x: got %v, pdftotext %v (off by %.2f pt)", got, want, d)
			}
			if d := max(abs(got.Y1-want.Y1), abs(got.Y2-want.Y2)); d > 2 {
				t.Errorf("y: got %v, pdftotext %v (off by %.2f pt)", got, want, d)
			}
		})
	}
}
