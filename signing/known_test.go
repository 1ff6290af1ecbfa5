package signing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanthu/vanthu/internal/testpdf"
	"github.com/vanthu/vanthu/signing/devpki"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The digest resumed from a Known's state equals the digest of the whole
// file, at every length around SHA-256's 64-byte blocks and at random
// lengths and splits; only the appended bytes are hashed.
func TestKnownResumesTheDigest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	type split struct{ base, tail int }
	var cases []split
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 127, 128, 129} {
		for _, m := range []int{0, 1, 8, 63, 64, 65, 200} {
			cases = append(cases, split{n, m})
		}
	}
	for range 200 {
		cases = append(cases, split{r.IntN(300 << 10), r.IntN(70 << 10)})
	}
	for _, c := range cases {
		whole := random(c.base + c.tail)
		base := whole[:c.base:c.base]
		k, err := NewKnown(base, sha256Hex(base))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		before := HashedBytes()
		next, err := k.Extend(whole)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got := HashedBytes() - before; got != int64(c.tail) {
			t.Fatalf("%+v: %d bytes hashed, want the %d appended", c, got, c.tail)
		}
		if next.Key() != sha256Hex(whole) || next.Size() != int64(len(whole)) {
			t.Fatalf("%+v: resumed key %s, want %s", c, next.Key(), sha256Hex(whole))
		}
		// And again from the extended state.
		more := append(bytes.Clone(whole), random(100)...)
		last, err := next.Extend(more)
		if err != nil || last.Key() != sha256Hex(more) {
			t.Fatalf("%+v: second extension %v", c, err)
		}
	}
}

// A Known refuses bytes that are not the ones it names: a wrong key, and
// a file that does not start with its bytes (changed, or shorter).
func TestKnownRefusesOtherBytes(t *testing.T) {
	a := []byte("%PDF-1.7 the base file's bytes")
	if _, err := NewKnown(a, sha256Hex([]byte("other bytes"))); !errors.Is(err, ErrNotKnown) {
		t.Fatalf("wrong key: %v, want ErrNotKnown", err)
	}
	if k, err := NewKnown(a, strings.ToUpper(sha256Hex(a))); err != nil || k.Key() != sha256Hex(a) {
		t.Fatalf("right key: %v", err)
	}
	k, _ := NewKnown(a, "")
	changed := append(bytes.Clone(a), " and an update"...)
	changed[3] ^= 1
	for name, whole := range map[string][]byte{"changed base": changed, "shorter": a[:len(a)-1], "other": []byte("x")} {
		if _, err := k.Extend(whole); !errors.Is(err, ErrNotKnown) {
			t.Errorf("%s: %v, want ErrNotKnown", name, err)
		}
	}
}

// A state that is not the one computed over a Known's bytes is never
// used: another file's state of the same length, a state of another
// length, garbage. The digest is then computed from the bytes, and still
// right.
func TestKnownNeverTrustsAForeignState(t *testing.T) {
	a := bytes.Repeat([]byte("a"), 1000)
	b := bytes.Repeat([]byte("b"), 1000)
	other, _ := NewKnown(b, "")
	shorter, _ := NewKnown(a[:999], "")
	for name, state := range map[string][]byte{
		"another file's state, same length": other.state,
		"a state of another length":         shorter.state,
		"garbage":                           []byte("sha\x03 not a state"),
		"none":                              nil,
	} {
		t.Run(name, func(t *testing.T) {
			k, _ := NewKnown(a, "")
			k.state = bytes.Clone(state)
			if _, err := k.resume(); err == nil {
				t.Fatal("the foreign state was resumed")
			}
			whole := append(bytes.Clone(a), "tail"...)
			before := HashedBytes()
			next, err := k.Extend(whole)
			if err != nil || next.Key() != sha256Hex(whole) {
				t.Fatalf("extend: %v, key %s", err, next.Key())
			}
			if n := HashedBytes() - before; n != int64(len(whole)) {
				t.Fatalf("%d bytes hashed, want the whole %d again", n, len(whole))
			}
		})
	}
}

// Signing a Source opened from a Known writes the very bytes signing the
// plain bytes writes, while hashing only the signature's update: the file
// is VALID for pdfsig, qpdf and the verifier, and Extend gives its
// content key. A Known with a foreign state signs correctly too (the
// bytes are hashed).
func TestSignKnownSource(t *testing.T) {
	in := testpdf.Bytes(testpdf.Options{Pages: 2, Size: 300 << 10})
	key := pkiKey(t, devpki.Deputy)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	// The same room for every CMS, whatever was learned (room.go), so
	// the files can be compared byte for byte.
	opts := func() Options {
		return Options{Time: at, Name: "Trần Thị Bình", Visible: &Visible{Page: 1, Rect: [4]float64{100, 100, 250, 160}}, ContentsSize: 8192}
	}
	ctx := context.Background()

	plain := NewBuffer(len(in) + 64<<10)
	before := HashedBytes()
	if err := Sign(ctx, bytes.NewReader(in), int64(len(in)), plain, key, opts()); err != nil {
		t.Fatal(err)
	}
	if n := HashedBytes() - before; n < int64(len(in)) {
		t.Fatalf("plain signature hashed %d bytes, fewer than the file's %d", n, len(in))
	}

	foreign, _ := NewKnown(bytes.Repeat([]byte{1}, len(in)), "")
	for _, c := range []struct {
		name     string
		state    []byte // nil: the Known's own
		maxHashd int64
	}{
		{"own state", nil, 64 << 10},
		{"foreign state", foreign.state, int64(len(in)) + 64<<10},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := NewKnown(in, sha256Hex(in))
			if err != nil {
				t.Fatal(err)
			}
			if c.state != nil {
				k.state = c.state
			}
			src, err := OpenKnown(k)
			if err != nil {
				t.Fatal(err)
			}
			out := NewBuffer(len(in) + 64<<10)
			before := HashedBytes()
			if err := src.Sign(ctx, out, key, opts()); err != nil {
				t.Fatal(err)
			}
			n := HashedBytes() - before
			if n > c.maxHashd || (c.state != nil && n < int64(len(in))) {
				t.Fatalf("the signature hashed %d bytes (file %d)", n, len(in))
			}
			if !bytes.Equal(out.Bytes(), plain.Bytes()) {
				t.Fatal("the signature of the Known differs from the plain one")
			}
			next, err := k.Extend(out.Bytes())
			if err != nil || next.Key() != sha256Hex(out.Bytes()) {
				t.Fatalf("content key of the signed file: %v", err)
			}
			requireVerified(t, out.Bytes())
		})
	}
}

// failingOutput refuses every Write after the first limit bytes and
// records whether anything was written to it after stop was set.
type failingOutput struct {
	Buffer
	limit   int
	stopped atomic.Bool
	late    atomic.Bool
}

func (o *failingOutput) Write(p []byte) (int, error) {
	if o.stopped.Load() {
		o.late.Store(true)
	}
	if len(o.Bytes())+len(p) > o.limit {
		return 0, errors.New("disk full")
	}
	return o.Buffer.Write(p)
}

// A signature of a Known writes its output while the key signs (the
// digest needs only the update): the file is the same on a file output
// as in memory, a write that fails fails the signature with its reason,
// and nothing is written to the output once Sign has returned.
func TestSignKnownWritesInTheBackground(t *testing.T) {
	in := testpdf.Bytes(testpdf.Options{Pages: 1, Size: 200 << 10})
	key := pkiKey(t, devpki.Deputy)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	// The same room for both CMSs, whatever was learned (room.go), so the
	// files can be compared byte for byte.
	opts := Options{Time: at, Name: "Trần Thị Bình", ContentsSize: 8192}
	ctx := context.Background()
	open := func() *Source {
		k, err := NewKnown(in, sha256Hex(in))
		if err != nil {
			t.Fatal(err)
		}
		src, err := OpenKnown(k)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	mem := NewBuffer(len(in) + 64<<10)
	if err := open().Sign(ctx, mem, key, opts); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "signed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := open().Sign(ctx, f, key, opts); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(onDisk, mem.Bytes()) {
		t.Fatalf("the file output differs from the memory output (%v)", err)
	}

	for _, limit := range []int{0, len(in) / 2, len(in) + 10} {
		out := &failingOutput{limit: limit}
		err := open().Sign(ctx, out, key, opts)
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("limit %d: %v, want the write's failure", limit, err)
		}
		out.stopped.Store(true)
		time.Sleep(10 * time.Millisecond) // a late writer would show now
		if out.late.Load() {
			t.Fatalf("limit %d: written after Sign returned", limit)
		}
	}
}
