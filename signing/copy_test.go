package signing

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
)

// failingReader reads like r except in [n, n+bad), as a disk with a bad
// stretch.
type failingReader struct {
	r      io.ReaderAt
	n, bad int64
}

var errDiskGone = errors.New("disk gone")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off < f.n+f.bad && off+int64(len(p)) > f.n {
		return 0, errDiskGone
	}
	return f.r.ReadAt(p, off)
}

func allocated(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Blocks * 512
}

// TestOutputPreallocation: the output is reserved in one go and ends exactly
// at the signed file's size; when signing fails half-way the reservation
// past what was written is given back.
func TestOutputPreallocation(t *testing.T) {
	in := testpdf.Bytes(testpdf.Options{Pages: 1, Size: 8 << 20})
	key := pkiKey(t, devpki.Official)
	dir := t.TempDir()

	good := filepath.Join(dir, "good.pdf")
	f, err := os.Create(good)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), bytes.NewReader(in), int64(len(in)), f, key.Chain(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(good)
	if st.Size() != p.Size {
		t.Fatalf("output is %d bytes, prepared %d", st.Size(), p.Size)
	}
	if a := allocated(t, good); a < p.Size || a > p.Size+1<<20 {
		t.Fatalf("%d bytes allocated for a %d-byte output", a, p.Size)
	}

	bad := filepath.Join(dir, "bad.pdf")
	f, err = os.Create(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cut := int64(len(in) / 2)
	if err := Sign(context.Background(), failingReader{bytes.NewReader(in), cut, 1 << 20}, int64(len(in)), f, key, Options{}); !errors.Is(err, errDiskGone) {
		t.Fatalf("err = %v, want the read failure", err)
	}
	st, _ = f.Stat()
	if st.Size() > cut {
		t.Fatalf("%d bytes written past the failure at %d", st.Size(), cut)
	}
	if a := allocated(t, bad); a > st.Size()+1<<20 {
		t.Fatalf("%d bytes still allocated for %d written: the reservation leaked", a, st.Size())
	}
}

// TestUnreadableInput: a read error where the parser looks (the trailer)
// is reported as such, promptly, not taken for a malformed file or looped on.
func TestUnreadableInput(t *testing.T) {
	in := testpdf.Bytes(testpdf.Options{Pages: 1})
	var out bytes.Buffer
	bad := failingReader{bytes.NewReader(in), int64(len(in)) - 100, 100}
	_, err := Prepare(context.Background(), bad, int64(len(in)), nopWriterAt{&out}, pkiKey(t, devpki.Official).Chain(), Options{})
	if !errors.Is(err, errDiskGone) || out.Len() != 0 {
		t.Fatalf("err = %v, %d bytes written", err, out.Len())
	}
	if _, err := DocumentTimestamp(context.Background(), bad, int64(len(in)), TimestampOptions{TSAURL: testPKI(t).TSAURL()}); !errors.Is(err, errDiskGone) {
		t.Fatalf("document timestamp: %v", err)
	}
}

type nopWriterAt struct{ *bytes.Buffer }

func (nopWriterAt) WriteAt(p []byte, off int64) (int, error) { return len(p), nil }
