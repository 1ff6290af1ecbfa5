package web

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/storage/blob"
)

// TestVerifyTemporariesInTempDir: a PDF that does not fit the verification
// memory goes to a file in the configured directory (the data volume), not
// the system's /tmp.
func TestVerifyTemporariesInTempDir(t *testing.T) {
	dir := t.TempDir()
	s := &Server{TempDir: dir}
	s.verifyMemory = blob.NewMemory(0, 0) // every PDF to a file
	pdf := testpdf.Bytes(testpdf.Options{Size: 2 << 20})
	buf, err := s.buffer(context.Background(), bytes.NewReader(pdf), 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	if buf.File() == nil {
		t.Fatal("the PDF stayed in memory")
	}
	if got := filepath.Dir(buf.File().Name()); got != dir {
		t.Fatalf("verification temporary in %s, want %s", got, dir)
	}
	if ok, _ := filepath.Match(VerifyTempPattern, filepath.Base(buf.File().Name())); !ok {
		t.Fatalf("temporary %s does not match %s, so a restart would not remove it", buf.File().Name(), VerifyTempPattern)
	}
}
