package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// readBack reads a buffered upload through ReadAt at awkward offsets.
func readBack(t *testing.T, b *Buffered, data []byte) {
	t.Helper()
	for _, r := range []struct{ off, n int }{{0, len(data)}, {0, 1}, {chunkSize - 3, 7}, {len(data) - 5, 5}, {len(data) / 2, len(data) - len(data)/2}} {
		if r.off < 0 || r.off+r.n > len(data) {
			continue
		}
		p := make([]byte, r.n)
		if n, err := b.ReadAt(p, int64(r.off)); n != r.n || (err != nil && err != io.EOF) || !bytes.Equal(p, data[r.off:r.off+r.n]) {
			t.Fatalf("ReadAt %d+%d: %d bytes, %v", r.off, r.n, n, err)
		}
	}
	p := make([]byte, 10)
	if n, err := b.ReadAt(p, int64(len(data))-4); n != 4 || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d, %v", n, err)
	}
}

func spoolFiles(t *testing.T, dir string) int {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(left)
}

func TestBufferInMemory(t *testing.T) {
	dir := t.TempDir()
	mem := NewMemory(8*chunkSize, 4*chunkSize)
	data := randomBytes(3*chunkSize+17, 2)
	b, err := Buffer(context.Background(), bytes.NewReader(data), BufferOptions{Memory: mem, Dir: dir, Pattern: "up-*"})
	if err != nil {
		t.Fatal(err)
	}
	if b.File() != nil || spoolFiles(t, dir) != 0 {
		t.Fatal("a small upload went to a file")
	}
	if b.Key != hexSum(data) || b.Size != int64(len(data)) {
		t.Fatalf("key %s size %d", b.Key, b.Size)
	}
	if len(mem.tokens) != 4 {
		t.Fatalf("%d chunks of the budget held, want 4", len(mem.tokens))
	}
	readBack(t, b, data)
	b.Close()
	if len(mem.tokens) != 0 {
		t.Fatalf("%d chunks of the budget still held after Close", len(mem.tokens))
	}
}

func TestBufferSpillsToFile(t *testing.T) {
	data := randomBytes(6*chunkSize+99, 3)
	for _, tc := range []struct {
		name string
		mem  *Memory
		hold int // chunks another upload holds
	}{
		{"larger than one upload's share", NewMemory(16*chunkSize, 4*chunkSize), 0},
		{"budget spent by other uploads", NewMemory(16*chunkSize, 16*chunkSize), 13},
		{"no memory", NewMemory(0, 0), 0},
		{"nil memory", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for range tc.hold {
				tc.mem.take()
			}
			b, err := Buffer(context.Background(), &smallReads{r: bytes.NewReader(data), n: 4096}, BufferOptions{Memory: tc.mem, Dir: dir, Pattern: "up-*"})
			if err != nil {
				t.Fatal(err)
			}
			if b.File() == nil || spoolFiles(t, dir) != 1 {
				t.Fatal("the upload is not in a file")
			}
			if tc.mem != nil && len(tc.mem.tokens) != tc.hold {
				t.Fatalf("after the spill the budget has %d chunks taken, want %d", len(tc.mem.tokens), tc.hold)
			}
			if b.Key != hexSum(data) || b.Size != int64(len(data)) {
				t.Fatalf("key %s size %d", b.Key, b.Size)
			}
			readBack(t, b, data)
			b.Close()
			if spoolFiles(t, dir) != 0 {
				t.Fatal("Close left the file")
			}
		})
	}
}

// A failed or refused upload gives its memory back and leaves no file,
// whether it failed in memory or after spilling.
func TestBufferFailureLeavesNothing(t *testing.T) {
	data := randomBytes(6*chunkSize, 4)
	refused := errors.New("not a PDF")
	for _, tc := range []struct {
		name  string
		r     io.Reader
		check func(io.ReaderAt, int64) error
		max   int64
		want  error
	}{
		{"check refuses (in memory)", bytes.NewReader(data[:chunkSize]), func(io.ReaderAt, int64) error { return refused }, 0, refused},
		{"check refuses (in a file)", bytes.NewReader(data), func(io.ReaderAt, int64) error { return refused }, 0, refused},
		{"too large", bytes.NewReader(data), nil, 5 * chunkSize, ErrTooLarge},
		{"client went away (in memory)", io.MultiReader(bytes.NewReader(data[:chunkSize+1]), iotest.ErrReader(io.ErrUnexpectedEOF)), nil, 0, io.ErrUnexpectedEOF},
		{"client went away (in a file)", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF)), nil, 0, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mem := NewMemory(8*chunkSize, 4*chunkSize)
			_, err := Buffer(context.Background(), tc.r, BufferOptions{PutOptions: PutOptions{Max: tc.max, Check: tc.check}, Memory: mem, Dir: dir, Pattern: "up-*"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if n := spoolFiles(t, dir); n != 0 || len(mem.tokens) != 0 {
				t.Fatalf("%d files and %d chunks of memory left", n, len(mem.tokens))
			}
		})
	}
}

// TestBufferKeepsHashStates: the states captured while buffering give the
// digest of every prefix from the nearest 1 MiB boundary, so a verifier of
// the buffered bytes need not hash them again.
func TestBufferKeepsHashStates(t *testing.T) {
	data := bytes.Repeat([]byte("vanthu "), (3*chunkSize+500)/7)
	b, err := Buffer(context.Background(), iotest.HalfReader(bytes.NewReader(data)), BufferOptions{Dir: t.TempDir(), Pattern: "states-*"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := b.SHA256States()
	if s.Size != int64(len(data)) || fmt.Sprintf("%x", s.Sum) != b.Key || s.Len() != 3 {
		t.Fatalf("states: size %d, sum %x (key %s), %d states", s.Size, s.Sum, b.Key, s.Len())
	}
	end := int64(2*chunkSize + 77)
	h, off := s.Resume(end)
	if off != 2*chunkSize {
		t.Fatalf("resumed at %d, want %d", off, 2*chunkSize)
	}
	h.Write(data[off:end])
	if want := sha256.Sum256(data[:end]); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("resumed digest is not the prefix's")
	}
}
