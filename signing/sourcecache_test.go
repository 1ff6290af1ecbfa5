package signing

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
	"github.com/vanthu/vanthu/signing/pdfupdate"
)

// reads counts the reads a SourceCache asks for, answering with data.
type reads struct {
	n    int
	data []byte
}

func (r *reads) read(context.Context) ([]byte, error) { r.n++; return r.data, nil }

// A version the cache holds is handed out without reading, hashing or
// parsing it again; only for its exact key and length; a busy parse is
// not shared (a fresh parse of the kept bytes); bytes that are not the
// key's are refused and never kept; the bytes bound the cache.
// Not parallel: the parse and hash counts are the process's.
func TestSourceCache(t *testing.T) {
	ctx := context.Background()
	in := testpdf.Bytes(testpdf.Options{Pages: 1, Size: 100 << 10})
	key := sha256Hex(in)
	size := int64(len(in))
	c := NewSourceCache(3 * size)
	r := &reads{data: in}

	parses, hashes := pdfupdate.Parses(), HashedBytes()
	src, release, err := c.Open(ctx, key, size, r.read)
	if err != nil {
		t.Fatal(err)
	}
	if r.n != 1 || pdfupdate.Parses()-parses != 1 || HashedBytes()-hashes != size {
		t.Fatalf("first open: %d reads, %d parses, %d bytes hashed", r.n, pdfupdate.Parses()-parses, HashedBytes()-hashes)
	}
	if src.Known() == nil || src.Known().Key() != key {
		t.Fatal("the source does not carry its bytes' state")
	}

	// Lent: a second caller meanwhile gets its own parse, reads nothing.
	parses = pdfupdate.Parses()
	other, release2, err := c.Open(ctx, key, size, r.read)
	if err != nil || other == src || r.n != 1 || pdfupdate.Parses()-parses != 1 {
		t.Fatalf("busy open: %v, same source %v, %d reads, %d parses", err, other == src, r.n, pdfupdate.Parses()-parses)
	}
	release2()
	release()

	// Returned: the kept parse again, nothing read, parsed or hashed.
	parses, hashes = pdfupdate.Parses(), HashedBytes()
	again, release, err := c.Open(ctx, key, size, r.read)
	if err != nil || again != src || r.n != 1 || pdfupdate.Parses() != parses || HashedBytes() != hashes {
		t.Fatalf("kept open: %v, same source %v, %d reads, %d parses, %d hashed", err, again == src, r.n, pdfupdate.Parses()-parses, HashedBytes()-hashes)
	}
	release()
	if st := c.Stats(); st.Hits != 2 || st.Misses != 1 || st.Busy != 1 {
		t.Fatalf("stats %+v", st)
	}

	// The same key with another length is not the kept entry.
	short := &reads{data: in[:len(in)-1]}
	if _, _, err := c.Open(ctx, key, size-1, short.read); short.n != 1 || !errors.Is(err, ErrNotKnown) {
		t.Fatalf("another length: %d reads, %v", short.n, err)
	}

	// Bytes that are not the key's: refused, and not kept.
	forged := bytes.Clone(in)
	forged[len(forged)/2] ^= 1
	f := &reads{data: forged}
	otherKey := sha256Hex(append(bytes.Clone(in), '\n'))
	for range 2 {
		if _, _, err := c.Open(ctx, otherKey, size, f.read); !errors.Is(err, ErrNotKnown) {
			t.Fatalf("forged bytes: %v, want ErrNotKnown", err)
		}
	}
	if f.n != 2 {
		t.Fatalf("forged bytes read %d times, want every time (never kept)", f.n)
	}

	// A signed file added with its state is opened without a read, and
	// signing it hashes only its own update.
	out := NewBuffer(len(in) + 64<<10)
	if err := src.Sign(ctx, out, pkiKey(t, devpki.Deputy), Options{}); err != nil {
		t.Fatal(err)
	}
	next, err := src.Known().Extend(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	c.Add(next)
	nr := &reads{}
	s2, release, err := c.Open(ctx, next.Key(), next.Size(), nr.read)
	if err != nil || nr.n != 0 || s2.Known() != next {
		t.Fatalf("added version: %v, %d reads", err, nr.n)
	}
	hashes = HashedBytes()
	out2 := NewBuffer(int(next.Size()) + 64<<10)
	if err := s2.Sign(ctx, out2, pkiKey(t, devpki.Deputy), Options{}); err != nil {
		t.Fatal(err)
	}
	release()
	if n := HashedBytes() - hashes; n > 64<<10 {
		t.Fatalf("the second signature hashed %d bytes", n)
	}

	// Bounded: a third version evicts the least recently used.
	third, _ := NewKnown(bytes.Repeat([]byte{'x'}, int(size)+10), "")
	c.Add(third)
	r.n = 0
	if _, release, err := c.Open(ctx, key, size, r.read); err != nil || r.n != 1 {
		t.Fatalf("after eviction: %v, %d reads, want 1", err, r.n)
	} else {
		release()
	}
	c.Add(&Known{data: make([]byte, 4*size)}) // larger than the cache: not kept
	if c.used > c.max {
		t.Fatalf("%d bytes kept, more than %d", c.used, c.max)
	}
}
